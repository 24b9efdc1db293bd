#!/usr/bin/env python3
"""Thin wrapper: the tool lives in tfsr.cli.export (also installed as tfsr-export)."""

from tfsr.cli.export import entry

if __name__ == "__main__":
    entry()
