#!/usr/bin/env python3
"""Thin wrapper: the tool lives in tfsr.cli.train (also installed as tfsr-train)."""

from tfsr.cli.train import entry

if __name__ == "__main__":
    entry()
