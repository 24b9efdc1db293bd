#!/usr/bin/env python3
"""Thin wrapper: the tool lives in tfsr.cli.search_discriminator (also installed as tfsr-search-discriminator)."""

from tfsr.cli.search_discriminator import entry

if __name__ == "__main__":
    entry()
