#!/usr/bin/env python3
"""Thin wrapper: the tool lives in tfsr.cli.search_dlsr (also installed as tfsr-search-dlsr)."""

from tfsr.cli.search_dlsr import entry

if __name__ == "__main__":
    entry()
