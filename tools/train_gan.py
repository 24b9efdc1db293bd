#!/usr/bin/env python3
"""Thin wrapper: the tool lives in tfsr.cli.train_gan (also installed as tfsr-train-gan)."""

from tfsr.cli.train_gan import entry

if __name__ == "__main__":
    entry()
