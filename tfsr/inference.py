"""Running a super-resolution model on whole images, whatever its format.

`Upscaler` is the one interface the evaluator and `tfsr-upscale` use.  A
subclass only says how to run its network on a float batch (`_run`); the
base class handles colour (Y-only networks get bicubic chroma), gray images,
and tiling with overlap so a 4000x3000 photo runs in bounded memory.
"""

import dataclasses
import os

import numpy as np

from tfsr import color
from tfsr.data.imresize import imresize
from tfsr.errors import UserError


@dataclasses.dataclass
class SRResult:
    image: np.ndarray  # uint8, HWC RGB or HW gray, what a user would save
    luma: np.ndarray  # float32 [0, 255]: the channel papers score


class Upscaler:
    """Base class. Subclasses set `scale`, `channels` and implement `_run`.

    Args:
        tile: LR tile side for tiled inference (0: whole image at once).
        overlap: LR pixels of context added around each tile and discarded.
    """

    scale = None
    channels = None  # 1: the network sees and returns Y; 3: RGB

    def __init__(self, tile=0, overlap=8):
        self.tile, self.overlap = tile, overlap

    def _run(self, batch):
        """`(1, h, w, channels)` float32 in [0, 1] -> `(1, h*s, w*s, channels)`."""
        raise NotImplementedError

    def _tiles(self, h, w):
        """Yields `(read box, keep box)` pairs of LR coordinates `(y0, y1, x0, x1)`.

        Each tile is read with `overlap` pixels of context and only its
        centre is kept, so tiled output equals whole-image output as long as
        the context covers the network's (and bicubic's) receptive field.
        """
        t, o = self.tile, self.overlap
        if not t or (h <= t and w <= t):
            yield (0, h, 0, w), (0, h, 0, w)
            return
        for top in range(0, h, t):
            for left in range(0, w, t):
                bottom, right = min(top + t, h), min(left + t, w)
                read = (max(top - o, 0), min(bottom + o, h), max(left - o, 0), min(right + o, w))
                yield read, (top, bottom, left, right)

    def _sr_region(self, lr, gray):
        """Super-resolves one (tile of an) image: `(uint8 image, luma)`."""
        if self.channels == 1:
            y = np.asarray(self._run(color.luma(lr)[None, :, :, None].astype(np.float32) / 255.0))[0, :, :, 0]
            y = color.to_uint8(y * 255.0)
            if gray:
                return y, y
            # Y from the network, chroma from bicubic upscaling.
            ycbcr = color.rgb_to_ycbcr(imresize(lr, scale=self.scale).numpy())
            ycbcr[..., 0] = y
            return color.to_uint8(color.ycbcr_to_rgb(ycbcr)), y
        rgb = lr if not gray else np.repeat(lr.reshape(lr.shape[0], lr.shape[1], 1), 3, axis=2)
        out = color.to_uint8(np.asarray(self._run(rgb[None].astype(np.float32) / 255.0))[0] * 255.0)
        if gray:
            out = color.to_uint8(out.astype(np.float64).mean(-1))
        return out, color.luma(out)

    def super_resolve(self, lr):
        """Super-resolves one uint8 image (HW gray or HWC RGB), tile by tile.

        Memory is bounded by the tile size plus the uint8 output and its
        float32 luma, whatever the image size.
        """
        lr = np.asarray(lr)
        if lr.ndim == 3 and lr.shape[-1] == 1:
            lr = lr[..., 0]
        gray = color.is_gray(lr)
        h, w, s = lr.shape[0], lr.shape[1], self.scale
        image = np.zeros((h * s, w * s) + (() if gray else (3,)), np.uint8)
        luma = np.zeros((h * s, w * s), np.float32)
        for (y0, y1, x0, x1), (top, bottom, left, right) in self._tiles(h, w):
            tile_image, tile_luma = self._sr_region(lr[y0:y1, x0:x1], gray)
            rows = slice((top - y0) * s, (bottom - y0) * s)
            cols = slice((left - x0) * s, (right - x0) * s)
            image[top * s : bottom * s, left * s : right * s] = tile_image[rows, cols]
            luma[top * s : bottom * s, left * s : right * s] = tile_luma[rows, cols]
        return SRResult(image, luma)


class BicubicUpscaler(Upscaler):
    """MATLAB bicubic upscaling: the baseline every SR table starts from."""

    channels = 3

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def _sr_region(self, lr, gray):
        out = imresize(lr, scale=self.scale).numpy()
        return out, color.luma(out)


class KerasUpscaler(Upscaler):
    """A Keras generator (`.keras` file or in-memory `keras.Model`)."""

    def __init__(self, model, scale=None, **kwargs):
        super().__init__(**kwargs)
        import keras

        from tfsr.arch import layers  # noqa: F401  (registers custom layers)

        if isinstance(model, str):
            try:
                model = keras.models.load_model(model, compile=False)
            except (OSError, ValueError) as e:
                raise UserError(f"cannot load Keras model {model}: {e}") from None
        self.model = model
        self.channels = int(model.inputs[0].shape[-1])
        self.scale = scale or _infer_scale(model, self.channels)

    def _run(self, batch):
        return self.model(batch, training=False)


def _infer_scale(model, channels):
    probe = np.zeros((1, 8, 8, channels), np.float32)
    return int(np.asarray(model(probe, training=False)).shape[1] // 8)


def load_upscaler(model, scale=None, tile=0, overlap=8):
    """`--model` value -> `Upscaler`: "bicubic" or a model file/folder.

    `scale` None means the model's own (x2 for bicubic); otherwise a model
    of another scale is an error.
    """
    if model == "bicubic":
        return BicubicUpscaler(scale or 2, tile=tile, overlap=overlap)
    if not os.path.exists(model):
        raise UserError(f"--model: no such file or folder: {model}")
    if model.endswith(".keras") or model.endswith(".h5"):
        upscaler = KerasUpscaler(model, tile=tile, overlap=overlap)
    else:
        raise UserError(f"--model: unsupported model format {model!r} (expected .keras or 'bicubic')")
    if scale is not None and upscaler.scale != scale:
        raise UserError(f"--model: {model} upscales x{upscaler.scale} but --scale={scale}")
    return upscaler
