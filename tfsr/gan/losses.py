"""Adversarial losses on discriminator logits (keras.ops only).

* ``standard``: the original non-saturating GAN loss (SRGAN).
* ``ragan``: relativistic average GAN (ESRGAN): the discriminator judges
  whether a real image is more realistic than the average fake, and the
  generator gets gradients from both real and fake logits.

`adversarial_losses(kind)` returns `(generator_loss, discriminator_loss)`,
each `fn(real_logits, fake_logits) -> scalar`.
"""

import keras


def _bce(logits, target):
    # Numerically stable sigmoid cross-entropy on logits.
    return keras.ops.mean(keras.ops.binary_crossentropy(keras.ops.full_like(logits, target), logits, from_logits=True))


def standard_g(real, fake):
    return _bce(fake, 1.0)


def standard_d(real, fake):
    return _bce(real, 1.0) + _bce(fake, 0.0)


def ragan_g(real, fake):
    real_rel = real - keras.ops.mean(fake)
    fake_rel = fake - keras.ops.mean(real)
    return (_bce(real_rel, 0.0) + _bce(fake_rel, 1.0)) / 2.0


def ragan_d(real, fake):
    real_rel = real - keras.ops.mean(fake)
    fake_rel = fake - keras.ops.mean(real)
    return (_bce(real_rel, 1.0) + _bce(fake_rel, 0.0)) / 2.0


ADVERSARIAL_LOSSES = {"standard": (standard_g, standard_d), "ragan": (ragan_g, ragan_d)}


def adversarial_losses(kind):
    from tfsr.errors import UserError

    if kind not in ADVERSARIAL_LOSSES:
        raise UserError(f"config.gan.loss must be one of {sorted(ADVERSARIAL_LOSSES)}, got {kind!r}")
    return ADVERSARIAL_LOSSES[kind]
