"""tf.data training pipeline: random HR crops, LR made on the fly.

    images on disk --(decoded once, kept in memory)--> random HR crop
        --> MATLAB bicubic downscale (LR) --> flips / 90-degree rotations
        --> RGB or Y --> batches of (lr, hr) float32 in [0, 1]

Decoding is done once by `load_folder` (tolerant of odd files); the decoded
pixels live in a ragged tensor, so every later step is graph code that
tf.data runs in parallel.
"""

import copy
import functools

import numpy as np
import tensorflow as tf

from tfsr.data.color import rgb_to_y
from tfsr.data.images import load_folder
from tfsr.data.imresize import imresize


class PatchDataset:
    """Endless batches of `(lr, hr)` training patches.

    Args:
        folders: a folder, a comma-separated string or a list of folders.
        scale: the SR factor.
        patch_size: LR patch side; HR crops are `patch_size * scale`.
        batch_size: patches per batch.
        color: "y" (1 channel) or "rgb" (3 channels).
        augment: random flips and 90-degree rotations.
        seed: shuffling/cropping seed (None: a random one).  With a seed the
            stream is a pure function of it: patch i's crop, flip and
            rotation come from stateless ops seeded by `(seed, i)`, so the
            same spec trained twice sees the same patches (a proxy score is
            reproducible) and `dataset(start=k)` continues a stream exactly.
    """

    def __init__(self, folders, scale, patch_size=24, batch_size=16, color="y", augment=True, seed=None):
        if color not in ("y", "rgb"):
            raise ValueError(f"color must be 'y' or 'rgb', got {color!r}")
        self.scale, self.patch_size, self.batch_size = scale, patch_size, batch_size
        self.color, self.augment = color, augment
        self.seed = int(np.random.default_rng().integers(2**31)) if seed is None else int(seed)
        self.hr_size = patch_size * scale
        self.images, self.paths = load_folder(folders, min_size=self.hr_size)

    def __len__(self):
        return len(self.images)

    @functools.cached_property
    def _pixels(self):
        """The decoded images as one ragged tensor (made once: datasets are cheap)."""
        flat = tf.RaggedTensor.from_row_lengths(
            np.concatenate([im.reshape(-1) for im in self.images]),
            [im.size for im in self.images],
        )
        shapes = np.array([im.shape for im in self.images], dtype=np.int32)
        return flat, shapes

    def _make_pair(self, index, pixels):
        flat, shape = pixels
        seeds = tf.random.experimental.stateless_split(tf.stack([tf.cast(self.seed, tf.int64), index]), 3)
        image = tf.reshape(flat, shape)
        hr = tf.image.stateless_random_crop(image, (self.hr_size, self.hr_size, 3), seed=seeds[0])
        lr = imresize(hr, scale=1.0 / self.scale)
        lr.set_shape((self.patch_size, self.patch_size, 3))
        # Float before the flips and rotations: oneDNN has no uint8 transpose
        # on CPUs without AVX-512 and logs an error line when it meets one.
        lr = tf.cast(lr, tf.float32) / 255.0
        hr = tf.cast(hr, tf.float32) / 255.0
        if self.augment:
            # The same flip and rotation for both, drawn once per patch.
            flip = tf.random.stateless_uniform((), seed=seeds[1]) < 0.5
            turns = tf.random.stateless_uniform((), seed=seeds[2], minval=0, maxval=4, dtype=tf.int32)

            def augment(x):
                x = tf.cond(flip, lambda: x[:, ::-1], lambda: x)
                return tf.image.rot90(x, turns)

            lr, hr = augment(lr), augment(hr)
        if self.color == "y":
            lr, hr = rgb_to_y(lr), rgb_to_y(hr)
        return lr, hr

    def with_seed(self, seed):
        """The same images and settings with another patch stream (`seed`
        sets the shuffle, the crops and the flips)."""
        other = copy.copy(self)
        other.seed = int(seed)
        return other

    def dataset(self, start=0):
        """The endless, batched, prefetched `tf.data.Dataset`, from batch `start` on."""
        flat, shapes = self._pixels
        ds = tf.data.Dataset.from_tensor_slices((flat, shapes))
        ds = ds.repeat().shuffle(len(self.images), seed=self.seed).enumerate()
        # Skipped before the map: no patch is made for the batches skipped.
        ds = ds.skip(start * self.batch_size)
        ds = ds.map(self._make_pair, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds.batch(self.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
