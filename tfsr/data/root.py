"""The data root: where shipped configs and `tfsr-data` find datasets.

Configs name their data as `$TFSR_DATA/train/T91`; `expand` replaces the
`$TFSR_DATA` prefix with the root, which is (first that is set):

1. `--data_root` of any tfsr tool (`set_root`),
2. the `TFSR_DATA` environment variable,
3. `~/tfsr_data`.

`tfsr-data get NAME` fills the root in the layout the configs expect
(`train/<set>`, `val/<set>`).  Paths without the prefix are used as given.
"""

import os

ENV = "TFSR_DATA"
PREFIX = "$" + ENV
DEFAULT = os.path.join("~", "tfsr_data")
_flag_root = None


def set_root(path):
    """The `--data_root` flag's value (None: not given)."""
    global _flag_root
    _flag_root = path or None


def root():
    """The data root folder (absolute, `~` expanded)."""
    chosen = _flag_root or os.environ.get(ENV) or DEFAULT
    return os.path.abspath(os.path.expanduser(chosen))


def where():
    """Where the root came from, for messages."""
    if _flag_root:
        return "--data_root"
    return ENV if os.environ.get(ENV) else f"the default (set {ENV} or --data_root to change it)"


def expand(path):
    """`$TFSR_DATA/x` -> `<root>/x`; any other path unchanged."""
    if isinstance(path, str) and (path == PREFIX or path.startswith(PREFIX + "/")):
        return os.path.join(root(), path[len(PREFIX) + 1 :])
    return path


def missing_hint(path):
    """A hint for a missing folder under the data root ("" elsewhere)."""
    if not os.path.abspath(path).startswith(root() + os.sep):
        return ""
    name = os.path.relpath(path, root()).split(os.sep)
    known = f"tfsr-data get {name[1]}" if len(name) > 1 else "tfsr-data list"
    return f" (the data root is {root()}, from {where()}; fetch the set with `{known}` or point the root elsewhere)"
