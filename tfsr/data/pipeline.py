"""tf.data training pipeline: random HR crops, LR made on the fly.

    images on disk --(decoded once, kept in memory)--> random HR crop
        --> MATLAB bicubic downscale (LR) --> flips / 90-degree rotations
        --> RGB or Y --> batches of (lr, hr) float32 in [0, 1]

Decoding is done once by `load_folder` (tolerant of odd files); the decoded
pixels live in a ragged tensor, so every later step is graph code that
tf.data runs in parallel.
"""

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
        seed: shuffling/cropping seed (None: nondeterministic).
    """

    def __init__(self, folders, scale, patch_size=24, batch_size=16, color="y", augment=True, seed=None):
        if color not in ("y", "rgb"):
            raise ValueError(f"color must be 'y' or 'rgb', got {color!r}")
        self.scale, self.patch_size, self.batch_size = scale, patch_size, batch_size
        self.color, self.augment, self.seed = color, augment, seed
        self.hr_size = patch_size * scale
        self.images, self.paths = load_folder(folders, min_size=self.hr_size)

    def __len__(self):
        return len(self.images)

    def _pixels(self):
        flat = tf.RaggedTensor.from_row_lengths(
            np.concatenate([im.reshape(-1) for im in self.images]),
            [im.size for im in self.images],
        )
        shapes = np.array([im.shape for im in self.images], dtype=np.int32)
        return flat, shapes

    def _make_pair(self, flat, shape):
        image = tf.reshape(flat, shape)
        hr = tf.image.random_crop(image, (self.hr_size, self.hr_size, 3))
        lr = imresize(hr, scale=1.0 / self.scale)
        lr.set_shape((self.patch_size, self.patch_size, 3))
        if self.augment:
            # The same flip and rotation for both, drawn once per patch.
            flip = tf.random.uniform(()) < 0.5
            turns = tf.random.uniform((), 0, 4, tf.int32)

            def augment(x):
                x = tf.cond(flip, lambda: x[:, ::-1], lambda: x)
                return tf.image.rot90(x, turns)

            lr, hr = augment(lr), augment(hr)
        lr = tf.cast(lr, tf.float32) / 255.0
        hr = tf.cast(hr, tf.float32) / 255.0
        if self.color == "y":
            lr, hr = rgb_to_y(lr), rgb_to_y(hr)
        return lr, hr

    def dataset(self):
        """The endless, batched, prefetched `tf.data.Dataset`."""
        flat, shapes = self._pixels()
        ds = tf.data.Dataset.from_tensor_slices((flat, shapes))
        ds = ds.repeat().shuffle(len(self.images), seed=self.seed)
        ds = ds.map(self._make_pair, num_parallel_calls=tf.data.AUTOTUNE, deterministic=self.seed is not None)
        return ds.batch(self.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
