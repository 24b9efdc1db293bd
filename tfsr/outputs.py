"""Where tfsr writes: rules that never lose a user's file.

1. Never write over an input (an image being upscaled, a model being
   exported): refused whatever `--overwrite` says.
2. Never let two outputs of one run collide: `a.png` and `a.jpg` in one
   folder become `a_png.png` and `a_jpg.png`, not one `a.png`.
3. Never replace an earlier output silently: an existing file is an error
   unless the tool's `--overwrite` is given.
4. Never read an output back as an input: walking an input folder skips the
   output folder when it lies inside it.
5. A bad output path (a folder where a file is wanted, an unknown image
   extension, a path under a regular file, a place that cannot be written)
   is one clear error before any work starts.

`check_output_file` and `folder_outputs` are what the tools call.
"""

import os

from tfsr.errors import UserError


def _same_file(a, b):
    return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)


def _inside(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_writable_location(path, flag):
    """The folder that will hold `path` exists or can be made, and is writable."""
    folder = os.path.dirname(os.path.abspath(path))
    probe = folder
    while not os.path.exists(probe):  # the nearest existing ancestor decides
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise UserError(f"{flag}={path}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UserError(f"{flag}={path}: {probe} is not writable")


def check_output_file(path, flag, overwrite=False, inputs=(), extensions=None):
    """Raises `UserError` unless `path` may be written as a new output file.

    Args:
        inputs: files this run reads; `path` may never be one of them.
        extensions: allowed endings (lower case, with the dot), or None.
    """
    if not path:
        raise UserError(f"{flag} is required")
    if os.path.isdir(path):
        raise UserError(f"{flag}={path} is a folder; name a file")
    if extensions and not path.lower().endswith(tuple(extensions)):
        raise UserError(f"{flag}={path}: the file name must end in one of {', '.join(extensions)}")
    for source in inputs:
        if _same_file(path, source) or os.path.abspath(path) == os.path.abspath(source):
            raise UserError(f"{flag}={path} is the input {source}; refusing to write over it")
    if os.path.exists(path) and not overwrite:
        raise UserError(f"{flag}={path} already exists; pass --overwrite to replace it")
    check_writable_location(path, flag)


def folder_outputs(files, input_folder, output_folder, suffix=".png"):
    """Output paths for `files` (found under `input_folder`) in `output_folder`.

    Each file keeps its relative path with `suffix` as extension; when two
    files would get one name (`a.png`, `a.jpg`) each gets its source
    extension in the name instead (`a_png.png`, `a_jpg.png`).
    """
    stems = [os.path.splitext(os.path.relpath(f, input_folder)) for f in files]
    counts = {}
    for stem, _ in stems:
        counts[stem.lower()] = counts.get(stem.lower(), 0) + 1
    outputs = []
    for stem, ext in stems:
        name = stem if counts[stem.lower()] == 1 else f"{stem}_{ext.lstrip('.').lower()}"
        outputs.append(os.path.join(output_folder, name + suffix))
    seen = {}
    for source, out in zip(files, outputs):
        if out.lower() in seen:
            raise UserError(f"{seen[out.lower()]} and {source} would both be written to {out}; rename one")
        seen[out.lower()] = source
    return outputs


def outside(files, folder):
    """`files` without those inside `folder` (an output folder within the input)."""
    return [f for f in files if not _inside(f, folder)]
