"""Command-line entry points (`tfsr-train`, `tfsr-evaluate`, ...)."""
