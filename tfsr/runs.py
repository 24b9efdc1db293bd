"""Finding a trained model's architecture and loading its weights into it.

`tfsr-train` leaves `spec.json` beside `model.keras` (the GAN trainer
`generator_spec.json` beside `generator.keras`), so tools that need the
`ArchSpec` of a trained model (GAN fine-tuning, export) read it from there
unless `--arch` names it.
"""

import os

from tfsr.errors import UserError

_SPEC_NAMES = ("spec.json", "generator_spec.json", os.path.join("..", "spec.json"))


def spec_for_model(model_path, arch=None, scale=None, flag="--model"):
    """The `ArchSpec` of the trained model at `model_path`: `arch`, or its run's spec file."""
    from tfsr.arch import ArchSpec

    if not model_path:
        raise UserError(f"{flag} is required: a trained model (.keras)")
    if not os.path.exists(model_path):
        raise UserError(f"{flag}: no such file: {model_path}")
    if arch:
        if not str(arch).endswith(".json"):
            raise UserError(f"--arch={arch}: expected the model's ArchSpec .json file")
        spec = ArchSpec.load(arch)
        if scale is not None and spec.scale != scale:
            raise UserError(f"--arch: {arch} is a x{spec.scale} spec but --scale={scale}")
        return spec
    folder = os.path.dirname(os.path.abspath(model_path))
    for name in _SPEC_NAMES:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return ArchSpec.load(path)
    raise UserError(f"{flag}={model_path}: no spec.json beside it; name its architecture with --arch=SPEC.json")


def load_keras_file(path, flag="--model"):
    """`keras.models.load_model(path, compile=False)` with tfsr's layers
    registered, or a `UserError` naming `path` and what is wrong with it."""
    import zipfile

    import keras

    from tfsr.arch import layers  # noqa: F401  (registers custom layers)

    if path.endswith(".keras"):
        if not os.path.isfile(path):
            raise UserError(f"{flag}: no such file: {path}")
        if not zipfile.is_zipfile(path):
            raise UserError(f"{flag}: {path} is not a .keras model (a .keras file is a zip archive)")
        with zipfile.ZipFile(path) as archive:
            missing = {"config.json", "model.weights.h5"} - set(archive.namelist())
        if missing:
            raise UserError(f"{flag}: {path} is not a .keras model (no {' or '.join(sorted(missing))} inside)")
    try:
        return keras.models.load_model(path, compile=False)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UserError(f"{flag}: cannot load {path}: {str(e).splitlines()[0]}") from None


def load_trained(model_path, spec, flag="--model"):
    """The deployed model of `spec` holding the weights of the trained model
    at `model_path` (saved in the deployed or the training form)."""
    from tfsr.arch import deploy

    trained = load_keras_file(model_path, flag)
    try:
        return deploy(trained, spec)
    except (KeyError, ValueError) as e:
        raise UserError(f"{flag}: {model_path} does not match its spec {spec.name}: {e}") from None
