"""How much int8 loses in the weights alone, and how much error-compensating rounding gets back.

    python bench/weight_rounding.py --model=runs/tiny_x2/fsrcnn/model.keras [--patches=64] [--equalize] [--out=ROUNDED.keras]

Every conv kernel is put on the grid the int8 file uses (per output
channel, symmetric, max |w| / 127) while every activation stays float, so
the Set5 / Set14 x2 drop printed is the weights' share of int8's loss:

* nearest: each weight rounded to its nearest grid point (what the
  converter does);
* compensated: GPTQ's rounding (Frantar et al., 2022), one layer at a time
  from the input: each weight is rounded in turn and the still unrounded
  weights of its output channel, and the float bias, absorb its error
  through H = E[x x^T] of the layer's input patches (im2col, a ones column
  for the bias), measured on `--patches` LR training patches of 96 HR
  pixels a side (`patch_side`, tfsr-export's calibration patches) through the already-rounded layers before it.  The channel's largest
  weight goes first, so it stays at 127 steps and the grid stays the one
  the converter will compute from the rounded kernel.

A prototype: `tfsr-export` does not use it yet (it would have to run on the
deployed form, after PReLU split and channel equalization, which rescale
kernels; `--equalize` equalizes first).  `--out` saves the rounded float model (its spec.json must be
copied beside it) for `tfsr-export --quantize=int8` to convert.
"""

import argparse
import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from calibration import DATA, ROOT  # noqa: E402  (bench/calibration.py)

LEVELS = 127  # symmetric int8 weights: [-127, 127]


def conv_columns(x, k):
    """(N*H*W, k*k*C) input patches, (ky, kx, c) order, of a stride-1 'same' k x k conv on x (N, H, W, C)."""
    before = (k - 1) // 2
    padded = np.pad(x, ((0, 0), (before, k - 1 - before), (before, k - 1 - before), (0, 0)))
    n, h, w, c = x.shape
    taps = [padded[:, ky:ky + h, kx:kx + w, :] for ky in range(k) for kx in range(k)]
    return np.stack(taps, axis=3).reshape(n * h * w, k * k * c)


def transposed_columns(x, k, stride, offset):
    """Columns of a transposed conv: y[o] = sum_k x_dilated[o + offset - k] W[k] on the zero-dilated input."""
    n, h, w, c = x.shape
    dilated = np.zeros((n, h * stride, w * stride, c), x.dtype)
    dilated[:, ::stride, ::stride] = x
    pad = 2 * k
    padded = np.pad(dilated, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    taps = [padded[:, pad + offset - ky:pad + offset - ky + h * stride, pad + offset - kx:pad + offset - kx + w * stride, :]
            for ky in range(k) for kx in range(k)]  # fmt: skip
    return np.stack(taps, axis=3).reshape(-1, k * k * c)


def transposed_offset(x, layer):
    """The `offset` with which `transposed_columns` reproduces `layer` (Keras' 'same' padding), checked on x."""
    k, stride = layer.kernel_size[0], layer.strides[0]
    kernel, bias = layer.get_weights()
    reference = (np.asarray(layer(x)) - bias)[..., 0].reshape(-1)
    for offset in range(-k, k + 1):
        if np.abs(transposed_columns(x, k, stride, offset) @ kernel[:, :, 0, :].reshape(-1) - reference).max() < 1e-4:
            return offset
    raise RuntimeError(f"{layer.name}: no offset reproduces the transposed conv")


def compensated_row(row, hessian, damp=0.01):
    """GPTQ rounding of one output channel: `row` is its kernel flattened with the bias last (never
    rounded: it absorbs what is left); returns it with the kernel on the grid max|kernel| / 127."""
    d = len(row)
    step = np.abs(row[:-1]).max() / LEVELS
    largest = int(np.abs(row[:-1]).argmax())
    rest = [i for i in np.argsort(-np.diag(hessian)[:-1]) if i != largest]
    order = np.array([largest, *rest, d - 1])
    w = row[order].astype(np.float64)
    h = hessian[np.ix_(order, order)] + damp * np.mean(np.diag(hessian)) * np.eye(d)
    upper = np.linalg.cholesky(np.linalg.inv(h)).T
    for i in range(d - 1):
        rounded = np.clip(np.round(w[i] / step), -LEVELS, LEVELS) * step
        w[i + 1:] -= (w[i] - rounded) / upper[i, i] * upper[i, i + 1:]
        w[i] = rounded
    out = np.empty(d)
    out[order] = w
    return out


def nearest_rounding(kernel, out_axis):
    k = np.moveaxis(kernel, out_axis, -1)
    step = np.abs(k).reshape(-1, k.shape[-1]).max(0) / LEVELS
    return np.moveaxis(np.round(k / step) * step, -1, out_axis)


def is_conv(layer):
    return type(layer).__name__ in ("Conv2D", "Conv2DTranspose")


def out_axis(layer):
    return -2 if type(layer).__name__ == "Conv2DTranspose" else -1  # Keras: (k, k, out, in) for transposed


def round_compensated(model, patches, log=print):
    """Round every conv of `model` in place, from the input on (see the module docstring)."""
    import keras

    for layer in [l for l in model.layers if is_conv(l)]:
        strided_conv = type(layer).__name__ == "Conv2D" and layer.strides[0] != 1
        if strided_conv or layer.kernel_size[0] != layer.kernel_size[1]:
            raise ValueError(f"{layer.name}: only square stride-1 convs and transposed convs")
        x = np.asarray(keras.Model(model.inputs, layer.input)(patches))
        kernel, bias = layer.get_weights()
        if type(layer).__name__ == "Conv2DTranspose":
            offset = transposed_offset(x[:1], layer)
            columns = lambda xb: transposed_columns(xb, layer.kernel_size[0], layer.strides[0], offset)  # noqa: E731
        else:
            columns = lambda xb: conv_columns(xb, layer.kernel_size[0])  # noqa: E731
        hessian, count = 0.0, 0
        for i in range(0, len(x), 4):  # chunks: a 9x9 transposed conv's columns are 4,536 wide
            a = columns(x[i:i + 4])
            a = np.concatenate([a, np.ones((len(a), 1), a.dtype)], 1).astype(np.float64)
            hessian, count = hessian + a.T @ a, count + len(a)
        hessian /= count
        k = np.moveaxis(kernel, out_axis(layer), -1)
        rows = [compensated_row(np.append(k[..., o].reshape(-1), bias[o]), hessian) for o in range(k.shape[-1])]
        new_k = np.stack([r[:-1].reshape(k.shape[:-1]) for r in rows], axis=-1)
        layer.set_weights([np.moveaxis(new_k, -1, out_axis(layer)).astype(kernel.dtype),
                           np.array([r[-1] for r in rows], bias.dtype)])  # fmt: skip
        log(f"  {layer.name}: rounded ({kernel.size} weights)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--patches", type=int, default=64, help="LR training patches for H")
    parser.add_argument("--equalize", action="store_true",
                        help="equalize activation channels first (tfsr.arch.equalize, as tfsr-export may), then round")
    parser.add_argument("--out", default=None, help="save the compensated float model here (.keras, a new file)")
    args = parser.parse_args()
    os.chdir(ROOT)

    from tfsr.errors import UserError
    from tfsr.outputs import check_output_file

    if args.out:  # checked before the work, not after it
        try:
            check_output_file(args.out, "--out", inputs=(args.model,), extensions=(".keras",))
        except UserError as e:
            parser.error(str(e))

    from tfsr.data.evalsets import load_eval_set
    from tfsr.data.pipeline import PatchDataset
    from tfsr.evaluation import evaluate
    from tfsr.export.exporter import patch_side
    from tfsr.export.tflite import representative_patches
    from tfsr.inference import KerasUpscaler
    from tfsr.runs import load_trained, spec_for_model

    spec = spec_for_model(args.model)
    model = load_trained(args.model, spec)
    train = PatchDataset(f"{DATA}/train/T91,{DATA}/train/BSD200", spec.scale, patch_side(spec.scale), 16, seed=0)
    patches = list(representative_patches(train, args.patches))
    if args.equalize:
        from tfsr.arch.equalize import equalize_model

        model = equalize_model(model, spec, patches)
    sets = [load_eval_set(f"{DATA}/val/{name}/x{spec.scale}", spec.scale) for name in ("Set5", "Set14")]

    def psnr():
        return np.array([evaluate(KerasUpscaler(model, spec.scale), pairs, spec.scale)["mean"]["psnr"] for pairs in sets])

    float_psnr = psnr()
    trained = {layer.name: layer.get_weights() for layer in model.layers}
    for layer in filter(is_conv, model.layers):
        kernel, bias = trained[layer.name]
        layer.set_weights([nearest_rounding(kernel, out_axis(layer)), bias])
    nearest = float_psnr - psnr()
    for layer in model.layers:
        layer.set_weights(trained[layer.name])
    round_compensated(model, np.concatenate(patches))
    compensated = float_psnr - psnr()
    print(f"{args.model}: float Set5 / Set14 x{spec.scale} {float_psnr[0]:.3f} / {float_psnr[1]:.3f} dB; "
          f"int8 weights, float activations, drop: nearest {nearest[0]:.4f} / {nearest[1]:.4f}, "
          f"compensated {compensated[0]:.4f} / {compensated[1]:.4f}")  # fmt: skip
    if args.out:
        model.save(args.out)


if __name__ == "__main__":
    main()
