#!/usr/bin/env python3
"""Thin wrapper: the tool lives in tfsr.cli.search (also installed as tfsr-search)."""

from tfsr.cli.search import entry

if __name__ == "__main__":
    entry()
