"""Evaluation sets: HR/LR pairs, or HR images whose LR we make.

Two layouts are understood:

* pairs: `NAME_HR.ext` beside `NAME_LR.ext` (the layout of the standard
  benchmark folders, `val/Set5/x2/img_001_SRF_2_HR.png`).  A folder that has
  an `x{scale}` sub-folder is read from there, so `--data=val/Set5` works.
* HR only: every image is cropped to a multiple of `scale` and its LR is made
  with the MATLAB-compatible bicubic resize.
"""

import dataclasses
import os
import re

import numpy as np

from tfsr.data import root as data_root
from tfsr.data.images import SkippedFiles, list_images, load_or_skip
from tfsr.data.imresize import imresize
from tfsr.errors import UserError

_HR_PATTERN = re.compile(r"^(?P<stem>.+)_HR(?P<ext>\.[A-Za-z]+)$")


@dataclasses.dataclass
class EvalPair:
    name: str
    lr: np.ndarray  # uint8, HW or HWC
    hr: np.ndarray


def _find_pairs(folder):
    pairs = []
    for path in list_images(folder):
        match = _HR_PATTERN.match(os.path.basename(path))
        if not match:
            continue
        lr_path = os.path.join(os.path.dirname(path), f"{match['stem']}_LR{match['ext']}")
        if not os.path.exists(lr_path):
            raise UserError(f"{path} has no LR partner {os.path.basename(lr_path)}")
        pairs.append((match["stem"], path, lr_path))
    return pairs


class EvalSet(list):
    """The `EvalPair`s of a folder, and the files skipped as unreadable."""

    def __init__(self, pairs=(), skipped=None):
        super().__init__(pairs)
        self.skipped = skipped if skipped is not None else SkippedFiles()


def load_eval_set(folder, scale, limit=None):
    """Loads an evaluation folder as an `EvalSet` (a list of `EvalPair`s of
    uint8 images).  An unreadable file (or pair) is skipped with a warning
    and listed in `.skipped`, as training and upscaling skip one.

    Raises:
        UserError: the folder is missing, holds no readable image, or a pair
            does not match the scale.
    """
    folder = data_root.expand(folder)
    scaled = os.path.join(folder, f"x{scale}")
    if os.path.isdir(scaled):
        folder = scaled
    files = list_images(folder)
    if not files:
        raise UserError(f"no images found in evaluation folder {folder}")
    result = EvalSet()
    pairs = _find_pairs(folder)
    if pairs:
        for name, hr_path, lr_path in pairs[:limit]:
            hr = load_or_skip(hr_path, result.skipped)
            lr = load_or_skip(lr_path, result.skipped) if hr is not None else None
            if hr is None or lr is None:
                continue
            if hr.shape[0] != lr.shape[0] * scale or hr.shape[1] != lr.shape[1] * scale:
                raise UserError(
                    f"{lr_path} is {lr.shape[1]}x{lr.shape[0]} but its HR is {hr.shape[1]}x{hr.shape[0]}:"
                    f" not a x{scale} pair"
                )
            result.append(EvalPair(name, lr, hr))
        return _checked(result, folder)
    for path in files[:limit]:
        hr = load_or_skip(path, result.skipped)
        if hr is None:
            continue
        if hr.shape[0] < scale or hr.shape[1] < scale:
            raise UserError(f"{path} is smaller than the scale factor {scale}")
        result.append(pair_from_hr(os.path.splitext(os.path.basename(path))[0], hr, scale))
    return _checked(result, folder)


def pair_from_hr(name, hr, scale):
    """An `EvalPair` of `hr` cropped to a multiple of `scale` and its MATLAB-bicubic LR."""
    h, w = (hr.shape[0] // scale) * scale, (hr.shape[1] // scale) * scale
    hr = hr[:h, :w]
    return EvalPair(name, imresize(hr, scale=1.0 / scale).numpy(), hr)


def _checked(eval_set, folder):
    if not eval_set:
        raise UserError(f"no readable images in evaluation folder {folder} (all skipped; see the warnings above)")
    return eval_set
