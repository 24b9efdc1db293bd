"""Pictures people would rather look at than numbers: side-by-side crops."""

import numpy as np
from PIL import Image, ImageDraw


def _rgb(image):
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return image


def comparison_strip(panels, crop=None, zoom=2, label_height=18, title=None):
    """One row of labelled, equally cropped images.

    Args:
        panels: list of `(label, uint8 image)`, all the same size.
        crop: `(top, left, height, width)` applied to each image (None: all).
        zoom: nearest-neighbour enlargement so pixels are visible.
        title: a line above the row (e.g. the image's name).

    Returns:
        A PIL image.
    """
    tiles = []
    for label, image in panels:
        image = _rgb(image)
        if crop:
            t, l, h, w = crop
            image = image[t : t + h, l : l + w]
        tile = Image.fromarray(image).resize((image.shape[1] * zoom, image.shape[0] * zoom), Image.NEAREST)
        canvas = Image.new("RGB", (tile.width, tile.height + label_height), "white")
        canvas.paste(tile, (0, label_height))
        ImageDraw.Draw(canvas).text((4, 3), label, fill="black")
        tiles.append(canvas)
    gap = 4
    strip = Image.new("RGB", (sum(t.width for t in tiles) + gap * (len(tiles) - 1), tiles[0].height), "white")
    x = 0
    for tile in tiles:
        strip.paste(tile, (x, 0))
        x += tile.width + gap
    if title:
        titled = Image.new("RGB", (strip.width, strip.height + label_height), "white")
        titled.paste(strip, (0, label_height))
        ImageDraw.Draw(titled).text((4, 3), title, fill="black")
        return titled
    return strip


def crop_psnr(image, hr, crop):
    """Y-channel PSNR (dB) of `image` against `hr` inside `crop` = (top, left, height, width)."""
    from tfsr.metrics import psnr

    t, l, h, w = crop
    return psnr(image[t : t + h, l : l + w], hr[t : t + h, l : l + w])


def before_after_row(name, outputs, hr, crop_size=96, zoom=3):
    """A titled strip for one image: the busiest `crop_size` crop of every
    `(label, uint8 image)` in `outputs`, each labelled with its PSNR on that
    crop, then the HR crop.  What the eye compares, with the number beside it."""
    crop = busiest_crop(hr, crop_size)
    panels = [(f"{label} {crop_psnr(image, hr, crop):.2f} dB", image) for label, image in outputs] + [("HR", hr)]
    return comparison_strip(panels, crop=crop, zoom=zoom, title=f"{name}: crop at ({crop[1]}, {crop[0]}), Y-PSNR")


def comparison_grid(rows):
    """Stacks `comparison_strip` results vertically."""
    gap = 6
    grid = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows) + gap * (len(rows) - 1)), "white")
    y = 0
    for row in rows:
        grid.paste(row, (0, y))
        y += row.height + gap
    return grid


def busiest_crop(image, size):
    """`(top, left, size, size)` of the crop with the most detail (gradient energy)."""
    gray = np.asarray(_rgb(image), np.float64).mean(-1)
    size = min(size, gray.shape[0], gray.shape[1])
    energy = np.abs(np.diff(gray, axis=0))[:, :-1] + np.abs(np.diff(gray, axis=1))[:-1, :]
    best, best_at = -1.0, (0, 0)
    step = max(size // 4, 1)
    for t in range(0, energy.shape[0] - size + 2, step):
        for l in range(0, energy.shape[1] - size + 2, step):
            e = energy[t : t + size, l : l + size].sum()
            if e > best:
                best, best_at = e, (t, l)
    return (*best_at, size, size)
