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
    luma: np.ndarray  # the channel papers score, rounded to integers [0, 255]


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

    def _run_tiled(self, x):
        h, w = x.shape[1:3]
        if not self.tile or (h <= self.tile and w <= self.tile):
            return np.asarray(self._run(x), np.float32)
        s, t, o = self.scale, self.tile, self.overlap
        out = np.zeros((1, h * s, w * s, x.shape[3]), np.float32)
        for top in range(0, h, t):
            for left in range(0, w, t):
                # Read the tile with `o` pixels of context, keep the centre.
                y0, x0 = max(top - o, 0), max(left - o, 0)
                y1, x1 = min(top + t + o, h), min(left + t + o, w)
                sr = np.asarray(self._run(x[:, y0:y1, x0:x1]), np.float32)
                bottom, right = min(top + t, h), min(left + t, w)
                out[:, top * s : bottom * s, left * s : right * s] = sr[
                    :, (top - y0) * s : (bottom - y0) * s, (left - x0) * s : (right - x0) * s
                ]
        return out

    def super_resolve(self, lr):
        """Super-resolves one uint8 image (HW gray or HWC RGB)."""
        lr = np.asarray(lr)
        gray = color.is_gray(lr)
        if self.channels == 1:
            y = self._run_tiled(color.luma(lr)[None, :, :, None].astype(np.float32) / 255.0)[0, :, :, 0]
            y = color.to_uint8(y * 255.0)
            if gray:
                return SRResult(y, y.astype(np.float64))
            # Y from the network, chroma from bicubic upscaling.
            chroma = color.rgb_to_ycbcr(imresize(lr, scale=self.scale).numpy())
            chroma[..., 0] = y
            return SRResult(color.to_uint8(color.ycbcr_to_rgb(chroma)), y.astype(np.float64))
        rgb = lr if not gray else np.repeat(lr.reshape(lr.shape[0], lr.shape[1], 1), 3, axis=2)
        out = color.to_uint8(self._run_tiled(rgb[None].astype(np.float32) / 255.0)[0] * 255.0)
        if gray:
            out = color.to_uint8(out.astype(np.float64).mean(-1))
        return SRResult(out, color.luma(out))


class BicubicUpscaler(Upscaler):
    """MATLAB bicubic upscaling: the baseline every SR table starts from."""

    channels = 3

    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def super_resolve(self, lr):
        out = imresize(np.asarray(lr), scale=self.scale).numpy()
        return SRResult(out, color.luma(out))


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


def load_upscaler(model, scale, tile=0):
    """`--model` value -> `Upscaler`: "bicubic" or a model file/folder."""
    if model == "bicubic":
        return BicubicUpscaler(scale)
    if not os.path.exists(model):
        raise UserError(f"--model: no such file or folder: {model}")
    if model.endswith(".keras") or model.endswith(".h5"):
        upscaler = KerasUpscaler(model, tile=tile)
    else:
        raise UserError(f"--model: unsupported model format {model!r} (expected .keras or 'bicubic')")
    if upscaler.scale != scale:
        raise UserError(f"--model: {model} upscales x{upscaler.scale} but --scale={scale}")
    return upscaler
