"""Pictures people would rather look at than numbers: side-by-side crops."""

import numpy as np
from PIL import Image, ImageDraw


def _rgb(image):
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return image


def comparison_strip(panels, crop=None, zoom=2, label_height=18):
    """One row of labelled, equally cropped images.

    Args:
        panels: list of `(label, uint8 image)`, all the same size.
        crop: `(top, left, height, width)` applied to each image (None: all).
        zoom: nearest-neighbour enlargement so pixels are visible.

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
    return strip


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
