"""Conv kernels rounded onto the int8 grid with their error compensated (GPTQ).

An int8 file holds each kernel on a grid: symmetric, 127 steps either side,
one step per output channel for a conv (max |w| / 127 of that channel) and,
in the files converted from TFMOT's fake-quant model (int8, int8_qat), one
per tensor for a transposed or depthwise conv (TFMOT's quantizers; the
converter copies their grid); where the converter quantizes the weights
itself (int16x8), every kernel is per output channel (`converter_grid`).
The converter puts each weight on its nearest grid point, and those errors
add up: with every activation in float
FSRCNN (x2, 10k steps) loses 0.35 / 0.18 dB on Set5 / Set14 to its weights
alone, most of it in the 9 x 9 transposed conv whose 4,536 weights share
one step (bench/weight_rounding.py).

`rounded_model` rounds the way GPTQ does (Frantar et al., 2022), one layer
at a time from the input, each output channel as one row:

    row = [w_1 ... w_d | b]            H = E[a a^T], a = [input patch | 1]
    for i = 1 .. d:  q_i = step * clip(round(w_i / step), -127, 127)
                     the rows' later entries (and b, never rounded) absorb
                     (w_i - q_i) along H's inverse Cholesky factor

so each rounding error is cancelled, as far as the layer's inputs allow, by
the weights not yet rounded, and what is left by the bias (an int32 in the
file, exact).  H is measured on calibration patches pushed through the
layers already rounded.  A channel's largest weight goes first and stays at
127 steps, so the grid the converter computes from the rounded kernel is
the one rounded onto, and its nearest rounding leaves every weight where it
is (tests/test_weight_rounding.py reads the integers back from the file).
FSRCNN's weights-only loss falls to 0.004 / 0.002 dB, and rounded after
channel equalization its int8 file loses 0.18 / 0.10 dB instead of 0.46 /
0.24 (README, "Weight rounding").

The rounding is done on the deployed Keras 3 model, after channel
equalization and before the PReLU split (`tfsr.arch.prelu_split`), which
keeps it: it copies a rounded kernel as [W, -|a| W] (each new channel on
its own grid, |a| times the old) and a reader's as [V; -sign(a) V] (same
grid).  Layers it does not handle (strided or grouped convs, `roundable`)
keep their weights and get the converter's nearest rounding.
"""

import numpy as np

LEVELS = 127  # symmetric int8 weights: [-127, 127]
# Calibration patches H is measured on: a 9 x 9 transposed conv reading 56
# channels has rows of 4,537; 64 patches of 48 LR pixels give 147,456 samples per phase.
ROUNDING_PATCHES = 64
DAMPING = 0.01  # of H's mean diagonal, added to its diagonal (GPTQ's default)


def conv_columns(x, kernel_size, dilation=1):
    """(N*H*W, k*k*C) input patches, in (ky, kx, c) order, of a stride-1 "same" conv on x (N, H, W, C)."""
    span = dilation * (kernel_size - 1)
    before = span // 2
    padded = np.pad(x, ((0, 0), (before, span - before), (before, span - before), (0, 0)))
    n, h, w, c = x.shape
    taps = [padded[:, ky * dilation:ky * dilation + h, kx * dilation:kx * dilation + w, :]
            for ky in range(kernel_size) for kx in range(kernel_size)]  # fmt: skip
    return np.stack(taps, axis=3).reshape(n * h * w, kernel_size * kernel_size * c)


def transposed_phase_columns(x, kernel_size, stride, offset):
    """A transposed conv's input patches, phase by phase: [(column indices, columns)].

    Output pixel o reads the zero-dilated input at o + offset - k through
    tap k, so of the k*k taps only those with (o + offset - k) % stride == 0
    read a pixel; each of the stride**2 output phases is a plain conv over
    those taps, and H is the sum of the phases' (a quarter of the taps at
    x2: a sixteenth of the work of the dilated columns)."""
    n, h, w, c = x.shape
    k, s = kernel_size, stride
    dilated = np.zeros((n, h * s, w * s, c), x.dtype)
    dilated[:, ::s, ::s] = x
    pad = 2 * k
    padded = np.pad(dilated, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    phases = []
    for py in range(s):
        for px in range(s):
            taps = [(ky, kx) for ky in range(k) for kx in range(k)
                    if (py + offset - ky) % s == 0 and (px + offset - kx) % s == 0]  # fmt: skip
            reads = [padded[:, pad + offset - ky + py:pad + offset - ky + h * s:s,
                            pad + offset - kx + px:pad + offset - kx + w * s:s, :] for ky, kx in taps]  # fmt: skip
            columns = np.stack(reads, axis=3).reshape(-1, len(taps) * c)
            index = np.array([(ky * k + kx) * c + i for ky, kx in taps for i in range(c)])
            phases.append((index, columns))
    return phases


def transposed_offset(x, layer):
    """The `offset` with which `transposed_phase_columns` reproduces `layer` (Keras' "same" padding), checked on x."""
    k, s = layer.kernel_size[0], layer.strides[0]
    kernel, bias = (np.asarray(w) for w in layer.get_weights())
    n, h, w, _ = x.shape
    reference = (np.asarray(layer(x)) - bias)[..., 0]
    row = kernel[:, :, 0, :].reshape(-1)  # output channel 0, (ky, kx, in)
    for offset in range(-k, k + 1):
        out = np.zeros((n, h, w, s, s))
        for (py, px), (index, columns) in zip(np.ndindex(s, s), transposed_phase_columns(x, k, s, offset)):
            out[:, :, :, py, px] = (columns @ row[index]).reshape(n, h, w)
        out = out.transpose(0, 1, 3, 2, 4).reshape(n, h * s, w * s)
        if np.abs(out - reference).max() < 1e-4 * max(1.0, np.abs(reference).max()):
            return offset
    raise RuntimeError(f"{layer.name}: no offset reproduces the transposed conv")


def compensated_row(row, hessian, step, damp=DAMPING):
    """GPTQ rounding of one output channel.

    `row`: its kernel flattened, bias last (never rounded: it absorbs what
    is left); `hessian`: E[a a^T] of its inputs, same order; `step`: the
    grid.  Returns the row with the kernel on the grid."""
    d = len(row)
    largest = int(np.abs(row[:-1]).argmax())
    rest = [i for i in np.argsort(-np.diag(hessian)[:-1], kind="stable") if i != largest]
    order = np.array([largest, *rest, d - 1])
    w = row[order].astype(np.float64)
    h = hessian[np.ix_(order, order)] + damp * np.mean(np.diag(hessian)) * np.eye(d)
    upper = np.linalg.cholesky(np.linalg.inv(h)).T  # H^-1 = U^T U, U upper
    for i in range(d - 1):
        rounded = np.clip(np.round(w[i] / step), -LEVELS, LEVELS) * step
        w[i + 1:] -= (w[i] - rounded) / upper[i, i] * upper[i, i + 1:]
        w[i] = rounded
    out = np.empty(d)
    out[order] = w
    return out


class _Rows:
    """One layer's kernel as rows (output channels, bias last) and back, with
    each row's input patches (a transposed conv needs `x_probe`, an input of
    the layer, to find how Keras pads it)."""

    def __init__(self, layer, x_probe, converter_grid=False):
        kind = type(layer).__name__
        self.layer, self.kind = layer, kind
        kernel, bias = (np.asarray(w) for w in layer.get_weights())
        self.shape = kernel.shape
        if kind == "Conv2D":
            self.k = np.moveaxis(kernel, -1, 0)  # (out, k, k, in)
            self.per_tensor = False
            self.dilation = layer.dilation_rate[0]
        elif kind == "Conv2DTranspose":
            self.k = np.moveaxis(kernel, -2, 0)  # Keras: (k, k, out, in) -> (out, k, k, in)
            self.per_tensor = not converter_grid
            self.offset = None if x_probe is None else transposed_offset(x_probe, layer)
        else:  # DepthwiseConv2D: (k, k, C, 1), one row per channel reading that channel only
            self.k = np.moveaxis(kernel[..., 0], -1, 0)[..., None]  # (C, k, k, 1)
            self.per_tensor = not converter_grid
        self.rows = [np.append(self.k[o].reshape(-1), bias[o]) for o in range(len(self.k))]

    def shared_inputs(self):
        """True when every row reads the same input patches (one H for all)."""
        return self.kind != "DepthwiseConv2D"

    def blocks(self, x, row=0):
        """[(column indices, columns)] of the input patches of x that `row` reads."""
        size = self.layer.kernel_size[0]
        if self.kind == "Conv2D":
            return [(None, conv_columns(x, size, self.dilation))]
        if self.kind == "Conv2DTranspose":
            return transposed_phase_columns(x, size, self.layer.strides[0], self.offset)
        return [(None, conv_columns(x[..., row:row + 1], size))]

    def steps(self):
        widest = np.abs(self.k).reshape(len(self.k), -1).max(1)
        if self.per_tensor:
            widest = np.full_like(widest, widest.max())
        return widest / LEVELS

    def weights(self, rows):
        k = np.stack([r[:-1].reshape(self.k.shape[1:]) for r in rows])
        if self.kind == "Conv2D":
            kernel = np.moveaxis(k, 0, -1)
        elif self.kind == "Conv2DTranspose":
            kernel = np.moveaxis(k, 0, -2)
        else:
            kernel = np.moveaxis(k[..., 0], 0, -1)[..., None]
        return [kernel.astype(np.float32).reshape(self.shape), np.array([r[-1] for r in rows], np.float32)]


def roundable(layer):
    """Whether `rounded_model` rounds this layer: square stride-1 convs, depthwise convs, transposed convs."""
    kind = type(layer).__name__
    if kind not in ("Conv2D", "DepthwiseConv2D", "Conv2DTranspose") or not layer.use_bias:
        return False
    if getattr(layer, "groups", 1) != 1 or getattr(layer, "depth_multiplier", 1) != 1:
        return False  # (tfsr's builder splits grouped convs into per-group Conv2Ds)
    square = layer.kernel_size[0] == layer.kernel_size[1]
    if kind == "Conv2DTranspose":
        return square and layer.strides[0] == layer.strides[1] and layer.padding == "same"
    return square and tuple(layer.strides) == (1, 1) and layer.padding == "same"


def _hessian(rows, x, row):
    """E[a a^T] of the input patches (with a ones column) of `row` over x (N, H, W, C), in float64."""
    d = len(rows.rows[row])
    hessian, count = np.zeros((d, d)), 0
    for start in range(len(x)):  # one patch at a time: a 9 x 9 transposed conv's columns are wide
        for index, columns in rows.blocks(x[start:start + 1], row):
            a = np.concatenate([columns, np.ones((len(columns), 1), columns.dtype)], 1).astype(np.float32)
            product = (a.T @ a).astype(np.float64)
            if index is None:
                hessian += product
            else:  # a transposed conv's phase: its taps, and the ones column
                taps = np.append(index, d - 1)
                hessian[np.ix_(taps, taps)] += product
            count += len(columns)  # output pixels (a transposed conv's phases together: all of them)
    return hessian / count


def round_in_place(model, patches, converter_grid=False, log=None):
    """Rounds every `roundable` conv of the Keras 3 `model` (module docstring), from the input on."""
    import keras

    for layer in [l for l in model.layers if roundable(l)]:
        x = keras.ops.convert_to_numpy(keras.Model(model.inputs[0], layer.input)(patches))
        rows = _Rows(layer, x[:1], converter_grid)
        steps = rows.steps()
        shared = _hessian(rows, x, 0) if rows.shared_inputs() else None
        new = []
        for o, (row, step) in enumerate(zip(rows.rows, steps)):
            if step == 0:  # an all-zero channel stays zero
                new.append(row.astype(np.float64))
                continue
            hessian = shared if shared is not None else _hessian(rows, x, o)
            new.append(compensated_row(row, hessian, step))
        layer.set_weights(rows.weights(new))
        if log:
            log(f"  {layer.name}: {rows.k.size} weights rounded")
    return model


def round_to_nearest_in_place(model, converter_grid=False):
    """Puts every `roundable` conv's kernel of `model` on the same grid to
    nearest, as the converter would: the baseline `round_in_place` beats."""
    for layer in [l for l in model.layers if roundable(l)]:
        rows = _Rows(layer, None, converter_grid)
        steps = np.where(rows.steps() > 0, rows.steps(), 1.0)
        rounded = [np.append(np.round(row[:-1] / step) * step, row[-1]) for row, step in zip(rows.rows, steps)]
        layer.set_weights(rows.weights(rounded))
    return model


def rounded_model(model, spec, patches, converter_grid=False, log=None):
    """The deployed Keras 3 model of `spec` equal to `model` (any form) with
    its convs' kernels on the int8 grid, rounded GPTQ's way (module
    docstring) on `patches` (LR `(1, h, w, C)` of one size; the first
    `ROUNDING_PATCHES` are used).  `converter_grid`: every kernel per output
    channel, as the converter quantizes weights itself (int16x8), instead of
    the fake-quant files' grid.  A new model; `model` is unchanged."""
    from tfsr.arch.reparam import deploy

    patches = patches[:ROUNDING_PATCHES]
    if len({p.shape for p in patches}) != 1:
        raise ValueError("rounded_model needs calibration patches of one size")
    return round_in_place(deploy(model, spec), np.concatenate(patches), converter_grid, log)
