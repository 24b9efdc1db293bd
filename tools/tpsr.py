#!/usr/bin/env python3
"""Thin wrapper: the tool lives in tfsr.cli.tpsr (also installed as tfsr-tpsr)."""

from tfsr.cli.tpsr import entry

if __name__ == "__main__":
    entry()
