#!/usr/bin/env python3
"""Thin wrapper: the tool lives in tfsr.cli.profile (also installed as tfsr-profile)."""

from tfsr.cli.profile import entry

if __name__ == "__main__":
    entry()
