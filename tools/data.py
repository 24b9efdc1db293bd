#!/usr/bin/env python3
"""Thin wrapper: the tool lives in tfsr.cli.data (also installed as tfsr-data)."""

from tfsr.cli.data import entry

if __name__ == "__main__":
    entry()
