#!/usr/bin/env python3
"""Thin wrapper: the tool lives in tfsr.cli.evaluate (also installed as tfsr-evaluate)."""

from tfsr.cli.evaluate import entry

if __name__ == "__main__":
    entry()
