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
from tfsr.quiet import muted_stderr


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
        if isinstance(model, str):
            from tfsr.runs import load_keras_file

            model = load_keras_file(model)
        self.model = model
        self.channels = int(model.inputs[0].shape[-1])
        self.scale = scale or _infer_scale(model, self.channels)

    def _run(self, batch):
        return self.model(batch, training=False)


def _infer_scale(model, channels):
    probe = np.zeros((1, 8, 8, channels), np.float32)
    return int(np.asarray(model(probe, training=False)).shape[1] // 8)


class TFLiteUpscaler(Upscaler):
    """A `.tflite` generator run by ai-edge-litert's interpreter.

    The input tensor is resized to each image (or tile); quantized
    (uint8/int8) inputs and outputs are converted with the scale and zero
    point stored in the model.
    """

    def __init__(self, path, num_threads=None, **kwargs):
        super().__init__(**kwargs)
        from ai_edge_litert.interpreter import Interpreter

        try:
            self.interpreter = Interpreter(model_path=path, num_threads=num_threads)
        except ValueError as e:
            raise UserError(f"cannot load TFLite model {path}: {str(e).splitlines()[0]}") from None
        self._input = self.interpreter.get_input_details()[0]
        self._output_index = self.interpreter.get_output_details()[0]["index"]
        self.channels = int(self._input["shape_signature"][-1])
        self._shape = None
        # The first allocation applies the XNNPACK delegate, whose C++ code
        # announces itself on stderr ("INFO: Created ... delegate"); errors
        # still arrive as Python exceptions.
        with muted_stderr():
            self.scale = int(self._run(np.zeros((1, 8, 8, self.channels), np.float32)).shape[1] // 8)

    def _run(self, batch):
        if batch.shape != self._shape:
            self.interpreter.resize_tensor_input(self._input["index"], list(batch.shape), strict=False)
            self.interpreter.allocate_tensors()
            self._shape = batch.shape
        dtype = self._input["dtype"]
        if dtype != np.float32:
            scale, zero = self._input["quantization"]
            info = np.iinfo(dtype)
            batch = np.clip(np.round(batch / scale + zero), info.min, info.max).astype(dtype)
        self.interpreter.set_tensor(self._input["index"], batch)
        self.interpreter.invoke()
        out = self.interpreter.get_tensor(self._output_index)
        details = self.interpreter.get_output_details()[0]
        if details["dtype"] != np.float32:
            scale, zero = details["quantization"]
            out = (out.astype(np.float32) - zero) * scale
        return out


class SavedModelUpscaler(Upscaler):
    """A tfsr SavedModel (`tfsr-export --format=savedmodel`), through `serving_default`.

    The SavedModel does the whole pipeline itself (colour, chroma, uint8),
    so only tiling is done here (tiles never larger than the model's
    `max_pixels` request bound).  `path` is the version folder, the model
    folder holding numbered versions (the newest is used), or the base
    folder `tfsr-export --out` names when it holds one model.
    """

    channels = 3

    def __init__(self, path, **kwargs):
        super().__init__(**kwargs)
        import tensorflow as tf

        path = _newest_version(path)
        try:
            self.module = tf.saved_model.load(path)
            self.serve = self.module.signatures["serving_default"]
        except (OSError, KeyError, ValueError) as e:
            raise UserError(f"cannot load SavedModel {path}: {str(e).splitlines()[0]}") from None
        self.scale = int(self.module.scale.numpy())
        if hasattr(self.module, "max_pixels"):
            # Tiles small enough for the model's request bound (context included).
            side = int(self.module.max_pixels.numpy() ** 0.5) - 2 * self.overlap
            if self.tile == 0 or self.tile > side:
                self.tile = max(side, 16)

    def _sr_region(self, lr, gray):
        rgb = lr if not gray else np.repeat(lr[..., None], 3, axis=2)
        out = next(iter(self.serve(images=rgb[None]).values())).numpy()[0]
        if gray:
            out = color.to_uint8(out.astype(np.float64).mean(-1))
            return out, out.astype(np.float32)
        return out, color.luma(out)


def _newest_version(path):
    if os.path.exists(os.path.join(path, "saved_model.pb")):
        return path
    if os.path.isdir(path):
        models = [d for d in os.listdir(path) if not d.isdigit() and os.path.isdir(os.path.join(path, d))]
        if models and not any(d.isdigit() for d in os.listdir(path)):
            if len(models) > 1:
                raise UserError(f"--model: {path} holds several SavedModels ({', '.join(sorted(models))}); "
                                f"name one, e.g. {os.path.join(path, sorted(models)[0])}")  # fmt: skip
            path = os.path.join(path, models[0])  # --out=serving holds serving/<model name>/<version>
    versions = (
        [d for d in os.listdir(path) if d.isdigit() and os.path.isdir(os.path.join(path, d))]
        if os.path.isdir(path)
        else []
    )
    if not versions:
        raise UserError(f"--model: {path} is neither a SavedModel nor a folder of numbered SavedModel versions")
    return os.path.join(path, max(versions, key=int))


def load_upscaler(model, scale=None, tile=0, overlap=8, num_threads=None):
    """`--model` value -> `Upscaler`: "bicubic", a `.keras`/`.h5` or `.tflite`
    file, a SavedModel folder, or a pretrained zoo name (`zoo:x2`, `zoo:x2-int8`).

    `scale` None means the model's own (x2 for bicubic); otherwise a model
    of another scale is an error.  `num_threads` applies to TFLite models.
    """
    from tfsr import pretrained

    if model == "bicubic":
        return BicubicUpscaler(scale or 2, tile=tile, overlap=overlap)
    model = pretrained.resolve(model)
    if not os.path.exists(model):
        raise UserError(f"--model: no such file or folder: {model}")
    if model.endswith(".keras") or model.endswith(".h5"):
        upscaler = KerasUpscaler(model, tile=tile, overlap=overlap)
    elif model.endswith(".tflite"):
        upscaler = TFLiteUpscaler(model, num_threads=num_threads, tile=tile, overlap=overlap)
    elif os.path.isdir(model):
        upscaler = SavedModelUpscaler(model, tile=tile, overlap=overlap)
    else:
        raise UserError(
            f"--model: unsupported model format {model!r} (expected .keras, .tflite, a SavedModel folder or 'bicubic')"
        )
    if scale is not None and upscaler.scale != scale:
        raise UserError(f"--model: {model} upscales x{upscaler.scale} but --scale={scale}")
    return upscaler
