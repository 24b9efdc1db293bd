#!/usr/bin/env python3
"""Thin wrapper: the tool lives in tfsr.cli.upscale (also installed as tfsr-upscale)."""

from tfsr.cli.upscale import entry

if __name__ == "__main__":
    entry()
