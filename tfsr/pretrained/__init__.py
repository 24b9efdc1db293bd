"""The pretrained zoo inside the package: `--model=zoo:NAME`.

Each entry is a folder laid out as a training run leaves it, so every tool
that reads a run reads an entry unchanged:

    tfsr/pretrained/
        zoo.json               what bench/zoo.py measured for each entry
        x2/spec.json           the ArchSpec
        x2/model.keras         the deployed float model (Y channel)
        x2/model_int8.tflite   its full-integer int8 file (float32 I/O)

`zoo:x2` names the float model, `zoo:x2-int8` its int8 file.  bench/zoo.py
trains, measures and installs the entries (configs/zoo.py is the recipe).
"""

import json
import os

from tfsr.errors import UserError

ZOO_DIR = os.path.dirname(os.path.abspath(__file__))
PREFIX = "zoo:"
INT8_SUFFIX = "-int8"
FILES = {"float": "model.keras", "int8": "model_int8.tflite"}


def is_zoo_name(value):
    return isinstance(value, str) and value.startswith(PREFIX)


def entries():
    """The installed entries' names, sorted (folders holding a model.keras)."""
    return sorted(
        name
        for name in os.listdir(ZOO_DIR)
        if os.path.isfile(os.path.join(ZOO_DIR, name, FILES["float"]))
    )


def names():
    """Every valid `zoo:` name: each entry and its -int8 file."""
    return [f"{PREFIX}{entry}{suffix}" for entry in entries() for suffix in ("", INT8_SUFFIX)]


def resolve(value, flag="--model"):
    """`zoo:x2` -> the path of that entry's model file; any other value is
    returned unchanged.  An unknown name is a `UserError` listing the valid ones."""
    if not is_zoo_name(value):
        return value
    entry, form = value[len(PREFIX) :], "float"
    if entry.endswith(INT8_SUFFIX):
        entry, form = entry[: -len(INT8_SUFFIX)], "int8"
    path = os.path.join(ZOO_DIR, entry, FILES[form])
    if entry not in entries() or not os.path.isfile(path):
        raise UserError(f"{flag}={value}: no such zoo model; the zoo has {', '.join(names()) or 'no models'}")
    return path


def figures():
    """{entry: measured figures} from zoo.json ({} before bench/zoo.py ran)."""
    path = os.path.join(ZOO_DIR, "zoo.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)["entries"]
