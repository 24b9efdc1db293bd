"""Runs many invocations of one tfsr tool in one process (one TensorFlow
import instead of one per case) and reports how each ended.

    python tests/cli_cases.py TOOL < cases.json > results.json

`cases.json` is a list of argument lists; each result is
{"args", "code" (the exit status), "stdout", "stderr", "traceback" (the
text of an exception that escaped the tool, else "")}.  Flags are reset
to their defaults (and --config to a fresh copy of its default) between cases.
"""

import contextlib
import copy
import importlib
import json
import os
import sys
import tempfile
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def run_case(entry, flags, tool, args, default_config):
    code, trace = 0, ""
    flags.FLAGS.unparse_flags()
    if default_config is not None:
        # Tools edit the --config ConfigDict in place, and the --config.a.b override flags write
        # into the object they were defined with: restore that object's fields, keep the object.
        config, snapshot = default_config
        with config.unlocked():
            for key in list(config.keys()):
                config[key] = copy.deepcopy(snapshot[key])
        flags.FLAGS["config"].value = config
    sys.argv = [f"tfsr-{tool}", *args]
    with captured_fd(1) as out, captured_fd(2) as err:
        try:
            entry()
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:  # noqa: BLE001  (what escaped is the finding)
            code, trace = 1, traceback.format_exc()
    return {"args": args, "code": code, "stdout": out.text, "stderr": err.text, "traceback": trace}


class captured_fd(contextlib.AbstractContextManager):
    """Everything written to file descriptor `fd` (Python, logging handlers
    and C++ alike) goes to a temporary file; `.text` holds it afterwards."""

    def __init__(self, fd):
        self.fd, self.text = fd, ""

    def __enter__(self):
        sys.stdout.flush(), sys.stderr.flush()
        self.file = tempfile.TemporaryFile(mode="w+")
        self.saved = os.dup(self.fd)
        os.dup2(self.file.fileno(), self.fd)
        return self

    def __exit__(self, *exc):
        sys.stdout.flush(), sys.stderr.flush()
        os.dup2(self.saved, self.fd)
        os.close(self.saved)
        self.file.seek(0)
        self.text = self.file.read()
        self.file.close()


def main():
    tool = sys.argv[1]
    cases = json.load(sys.stdin)
    # The module's --config flag reads sys.argv when defined: ml_collections defines a flag for
    # each --config.a.b override it sees there, so every case's override names are shown to it
    # (the config file too, when the cases name one).
    overrides = {a.split("=", 1)[0]: a for case in cases for a in case if a.startswith("--config.")}
    sys.argv = [f"tfsr-{tool}", *overrides.values()]
    module = importlib.import_module(f"tfsr.cli.{tool}")
    from absl import flags

    config = flags.FLAGS["config"].value if "config" in flags.FLAGS else None
    default_config = (config, copy.deepcopy(config)) if config is not None else None
    results = [run_case(module.entry, flags, tool, args, default_config) for args in cases]
    sys.stdout.write(json.dumps(results) + "\n")


if __name__ == "__main__":
    main()
