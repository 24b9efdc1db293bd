"""Silencing C++ chatter that Python logging cannot reach."""

import contextlib
import os


@contextlib.contextmanager
def muted_stderr():
    """Points file descriptor 2 at /dev/null for the duration.

    TensorFlow's C++ code (start-up notices, the TFLite converter) writes to
    the process's stderr directly.  Python exceptions raised inside still
    propagate, after stderr is restored.
    """
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
