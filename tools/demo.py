#!/usr/bin/env python3
"""Thin wrapper: the tool lives in tfsr.cli.demo (make demo runs it)."""

from tfsr.cli.demo import entry

if __name__ == "__main__":
    entry()
