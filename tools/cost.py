#!/usr/bin/env python3
"""Thin wrapper: the tool lives in tfsr.cli.cost (also installed as tfsr-cost)."""

from tfsr.cli.cost import entry

if __name__ == "__main__":
    entry()
