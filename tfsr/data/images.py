"""Reading image files into uint8 arrays, tolerant of what real folders hold.

Real folders contain grayscale, RGBA, palette and 16-bit files, phone
photos stored sideways with an EXIF orientation, files too small to crop,
decompression bombs and files that are not images at all.  `load_image`
converts what it can (upright, as viewers show it); `load_folder` and
`load_or_skip` skip the rest with one warning line naming each file, and
fail clearly only when nothing usable is left.
"""

import logging
import os

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from tfsr.data import root as data_root
from tfsr.errors import UserError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
log = logging.getLogger("tfsr")


def warn(message):
    """One warning line on stderr (absl/`logging` style)."""
    log.warning(message)


def list_images(folder):
    """All image files below `folder` (recursively, `$TFSR_DATA` expanded), sorted."""
    folder = data_root.expand(folder)
    if not os.path.isdir(folder):
        raise UserError(f"image folder not found: {folder}{data_root.missing_hint(folder)}")
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(IMAGE_EXTENSIONS):
                found.append(os.path.join(root, name))
    return found


def load_image(path, mode="keep"):
    """Reads an image file as uint8.

    Args:
        path: the file.
        mode: "rgb" -> `(H, W, 3)`; "keep" -> `(H, W)` for single-channel
            files, `(H, W, 3)` otherwise.  Alpha is dropped, palettes are
            expanded and 16-bit values are scaled to 8 bits.  An EXIF
            orientation is applied; a GIF gives its first frame.

    Raises:
        UserError: the file is missing, not a readable image, or larger
            than Pillow's decompression-bomb limit (named).
    """
    try:
        with Image.open(path) as img:
            img.load()
            array = _to_uint8(ImageOps.exif_transpose(img))
    except FileNotFoundError:
        raise UserError(f"image file not found: {path}") from None
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as e:
        raise UserError(f"cannot read image {path}: {e}") from None
    if mode == "rgb" and array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    return array


def _to_uint8(img):
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit (or 32-bit integer) gray: scale the full range to 8 bits.
        wide = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if img.mode.startswith("I;16") or wide.max() > 255 else 255.0
        return np.clip(np.round(wide / peak * 255.0), 0, 255).astype(np.uint8)
    if img.mode in ("L", "1"):
        return np.asarray(img.convert("L"), dtype=np.uint8)
    if img.mode == "LA":
        return np.asarray(img.convert("L"), dtype=np.uint8)
    if img.mode == "F":
        return np.clip(np.round(np.asarray(img)), 0, 255).astype(np.uint8)
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def load_folder(folders, min_size=1):
    """Decodes every usable image under one or more folders into RGB uint8.

    Files that cannot be read, or are smaller than `min_size` on a side, are
    skipped with one warning line each.

    Returns:
        (images, paths): lists of `(H, W, 3)` uint8 arrays and their files.

    Raises:
        UserError: a folder is missing, or no usable image was found.
    """
    if isinstance(folders, str):
        folders = [f for f in folders.split(",") if f]
    images, paths, skipped = [], [], SkippedFiles()
    for folder in map(data_root.expand, folders):
        files = list_images(folder)
        if not files:
            raise UserError(f"no image files (png/jpg/bmp/tif) found in {folder}")
        for path in files:
            image = load_or_skip(path, skipped, mode="rgb")
            if image is None:
                continue
            if min(image.shape[:2]) < min_size:
                warn(f"skipping {path}: {image.shape[1]}x{image.shape[0]} is smaller than the {min_size}px crop")
                continue
            images.append(image)
            paths.append(path)
    if not images:
        raise UserError(f"no usable images in {', '.join(folders)} (all were skipped; see warnings above)")
    return images, paths


class SkippedFiles(list):
    """The files a folder read skipped, for the "N skipped" line at the end."""

    def summary(self):
        if not self:
            return ""
        return f"{len(self)} unreadable file{'s' if len(self) != 1 else ''} skipped (see the warnings above)"


def load_or_skip(path, skipped, mode="keep"):
    """`load_image(path, mode)`, or None when the file cannot be read: then
    one warning line names it and `path` is appended to `skipped`."""
    try:
        return load_image(path, mode)
    except UserError as e:
        warn(f"skipping {e}")
        skipped.append(path)
        return None


def save_image(path, image):
    """Writes a uint8 HWC/HW array; the format follows the file extension."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    Image.fromarray(array).save(path)
