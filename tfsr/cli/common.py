"""What every tfsr command shares: quiet TensorFlow, clean user errors.

A user mistake (a wrong flag, a missing file, a bad value) ends with one
line `tfsr-<tool>: error: <what>` on stderr and exit code 2, never a
traceback.  Ctrl-C ends with exit code 130 and a note that checkpoints keep
the progress.
"""

import logging
import os
import sys

# Before TensorFlow is imported anywhere: keep its C++ start-up chatter quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

from tfsr.quiet import muted_stderr  # noqa: E402


def _import_tensorflow_quietly():
    """Imports TensorFlow with stderr muted during its C++ start-up.

    TF 2.21 prints oneDNN/CUDA notices through absl's C++ logging before
    anything can configure it; TF_CPP_MIN_LOG_LEVEL no longer hides them.
    Errors still surface: the import's exception is raised after stderr is
    restored.
    """
    with muted_stderr():
        import tensorflow as tf

        tf.config.list_physical_devices()  # device start-up logs here too
        # Keras runs grouped convs on CPU through per-shape XLA functions;
        # TF's retracing warnings about them are expected, not actionable.
        tf.get_logger().setLevel("ERROR")


if os.environ.get("TFSR_VERBOSE_TF") != "1":
    _import_tensorflow_quietly()

from tfsr.errors import UserError  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("data_root", None, "Folder that $TFSR_DATA/... paths (in configs and flags) resolve under"
                    " (default: the TFSR_DATA environment variable, else ~/tfsr_data).")


def fail(message):
    print(f"{os.path.basename(sys.argv[0])}: error: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


HELP_FLAGS = ("--help", "-help", "-h", "-?", "--h", "--help=true")


def _print_help(module):
    """The tool's purpose and examples (its docstring) and its own flags."""
    print((module.__doc__ or "").strip() + "\n\nflags:")
    for name in (module.__name__, __name__):  # the tool's flags, then --config where it has one
        lines = [line for line in FLAGS.module_help(name).splitlines() if line.strip() and line != f"{name}:"]
        if lines:
            print("\n".join(lines))
    print("\nEvery flag, TensorFlow's and absl's included: --helpfull")


def _parse_flags(argv):
    if any(arg in HELP_FLAGS for arg in argv[1:]):
        _print_help(_tool_module)
        sys.exit(0)
    try:
        return FLAGS(argv)
    except flags.Error as e:
        fail(str(e).splitlines()[0] if str(e) else repr(e))
    except UserError as e:  # raised while loading a --config file
        fail(str(e))
    except Exception as e:  # noqa: BLE001  (everything here comes from the command line or a --config file)
        where = _config_file_frame(e)
        if where:
            fail(f"--config={where[0]}: line {where[1]} raised {type(e).__name__}: {_first_line(e)}")
        fail(f"bad flags: {_first_line(e)}")


def _first_line(error):
    """An exception's message as one line (ml_collections quotes KeyError
    messages and puts its "Did you mean" hint on a second line)."""
    text = str(error.args[0]) if len(error.args) == 1 else str(error)
    text = text.replace("\\'", "'").replace("\\n", "\n")
    lines = [line.strip().strip("'\"") for line in text.splitlines() if line.strip()]
    return "; ".join(lines) if lines else type(error).__name__


def _config_file_frame(error):
    """(file, line) of the innermost traceback frame in the --config file, if any."""
    given = [arg.split("=", 1)[1] for arg in sys.argv[1:] if arg.startswith("--config=")]
    if not given:
        return None
    filename = os.path.abspath(given[-1].split(":")[0])
    tb, found = error.__traceback__, None
    while tb is not None:
        if os.path.abspath(tb.tb_frame.f_code.co_filename) == filename:
            found = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


_tool_module = sys.modules[__name__]  # set by run(): whose --help to print


def run(main):
    """Runs `main(argv)` under absl with tfsr's error handling; `--help`
    prints the module docstring of `main` and that module's flags."""
    global _tool_module
    _tool_module = sys.modules[main.__module__]

    def wrapped(argv):
        if len(argv) > 1:
            fail(f"unexpected arguments: {' '.join(argv[1:])}")
        logging.basicConfig(format="%(levelname)s: %(message)s")
        _quiet_absl()
        from tfsr.data import root as data_root

        data_root.set_root(FLAGS.data_root)
        try:
            main(argv)
        except UserError as e:
            fail(str(e))
        except BrokenPipeError:  # output piped into `head` and the like: stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except KeyboardInterrupt:
            print("interrupted; run the same command again to resume from the last checkpoint.", file=sys.stderr)
            sys.exit(130)

    app.run(wrapped, flags_parser=_parse_flags)


def _quiet_absl():
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.WARNING)
    absl_logging.use_python_logging()


def require(value, flag):
    """The value of a required flag/config field, or a clear error."""
    if value in (None, ""):
        fail(f"--{flag} is required")
    return value


def workdir(value):
    """The `--workdir` value, checked before any work: given, a folder (or
    nothing yet) under a writable location."""
    from tfsr.outputs import check_writable_location

    path = require(value, "workdir")
    if os.path.exists(path) and not os.path.isdir(path):
        fail(f"--workdir={path} is a file; name a folder")
    try:
        check_writable_location(os.path.join(path, "checkpoints"), "--workdir")
    except UserError as e:
        fail(str(e))
    return path


def load_config():
    """The `--config` ConfigDict (unlocked), or a clear error naming the file."""
    try:
        cfg = FLAGS.config
        cfg.to_dict()  # a config that failed to load raises on first use
    except Exception as e:  # ml_collections defers load errors to first access
        filename = FLAGS["config"].config_filename
        cause = e.__cause__ or e
        reason = "file not found" if not os.path.exists(filename.split(":")[0]) else str(cause).splitlines()[0]
        fail(f"--config={filename}: cannot load config ({reason})")
    return cfg.unlock()


def config_file_flag(default="train"):
    """Defines `--config` (an ml_collections file) defaulting to tfsr's own.

    `default`: "train", "search" or "demo": which `tfsr.config.get_config(name)`
    is used, selected with ml_collections' `file:name` syntax.
    """
    from ml_collections import config_flags

    import tfsr.config

    try:
        config_flags.DEFINE_config_file(
            "config",
            tfsr.config.__file__ + ("" if default == "train" else f":{default}"),
            "Configuration file (configs/*.py); override fields with --config.train.steps=1000 etc.",
            lock_config=True,
        )
    except (AttributeError, KeyError) as e:
        # ml_collections resolves the --config.a.b overrides in sys.argv
        # against the default config while defining the flag.
        bad = [arg.split("=")[0] for arg in sys.argv[1:] if arg.startswith("--config.")]
        fail(f"unknown config field in {' '.join(bad) or 'a --config.* override'}: {_first_line(e)}")


def gan_config_from_flags():
    """The GAN `--config` with the GAN tools' flags (those defined) applied on top."""
    cfg = load_config()
    if "gan" not in cfg:
        fail(f"--config={FLAGS['config'].config_filename}: not a GAN config (no 'gan' section)")
    for name in ("train_data", "val_data", "workdir", "generator", "discriminator"):
        value = getattr(FLAGS, name, None)
        if value is not None:
            cfg[name] = value
    if getattr(FLAGS, "lpips_weights", None) is not None:
        cfg.gan.lpips_weights = FLAGS.lpips_weights
    if getattr(FLAGS, "steps", None) is not None:
        cfg.train.steps = FLAGS.steps
    if cfg.train.steps < 1 or cfg.train.checkpoint_every < 1 or cfg.train.batch_size < 1:
        fail("steps, checkpoint_every and batch_size must be positive")
    return cfg
