"""Default configuration of tfsr's tools (an ml_collections ConfigDict).

The tools load this file unless `--config=configs/other.py` is given; every
field can be overridden on the command line, `--config.train.steps=1000`.
User configs in `configs/` start from `get_config()` and change fields.
"""

import ml_collections

from tfsr.errors import UserError


def parse_size(text, name):
    """`"480x320"` (WIDTHxHEIGHT) -> `(height, width)`; `name` is the flag/field."""
    try:
        w, h = (int(v) for v in str(text).lower().split("x"))
        if w < 1 or h < 1:
            raise ValueError
    except ValueError:
        raise UserError(f"{name}={text!r}: expected WIDTHxHEIGHT, e.g. 480x480") from None
    return h, w


def train_config():
    """Settings of one training run (also the proxy training of a search)."""
    return ml_collections.ConfigDict(
        {
            "steps": 10000,
            "batch_size": 16,
            "patch_size": 24,  # LR patch side; HR crops are patch_size * scale
            "learning_rate": 1e-3,
            "schedule": "cosine",  # cosine | constant
            "final_lr_fraction": 0.01,  # cosine decays to this fraction
            "ema": 0.0,  # momentum of a moving average of the weights (0: off), e.g. 0.999
            "loss": "l1",  # l1 | charbonnier
            "checkpoint_every": 500,  # steps; at most this much work is lost on a kill
            "log_every": 100,
            "val_limit": 0,  # validate on the first N images (0: all)
            "seed": 0,
        }
    )


def get_config(name="train"):
    """`name`: "train" (default), "search", "demo", "gan", "discriminator_search", "dlsr" or "tpsr".

    Selected as `--config=tfsr/config.py:search` etc.
    """
    if name == "search":
        return search_config()
    if name == "demo":
        return demo_search_config()
    if name == "gan":
        return gan_config()
    if name == "dlsr":
        return dlsr_config()
    if name == "discriminator_search":
        return discriminator_search_config()
    if name == "tpsr":
        return tpsr_config()
    return ml_collections.ConfigDict(
        {
            "arch": "fsrcnn",  # built-in name or a spec .json file
            "scale": 2,
            "color": "y",  # channels of built-in archs: y | rgb
            "train_data": "",  # folder(s), comma-separated; "" = bundled samples
            "val_data": "",  # "" = bundled samples
            "workdir": "",
            "train": train_config(),
        }
    )


def search_config():
    """Settings of an architecture search (tfsr-search)."""
    config = get_config("train")
    config.arch = ""  # unused: the search proposes architectures
    config.search = ml_collections.ConfigDict(
        {
            "max_trials": 40,
            "population_size": 10,
            "crossover_probability": 0.5,
            "initial_candidates": 8,  # samples per initial trial, to spread costs
            # Weights of the mutation sources; rl = 0 gives pure NSGA-II.
            "mutation_mix": {"random": 0.4, "flops": 0.2, "params": 0.1, "rl": 0.3},
            "min_psnr": 0.0,  # dB; 0 = no floor
            "max_mult_adds": 0.0,  # for lr_size; 0 = no ceiling
            "min_mult_adds": 0.0,  # a floor (with the ceiling, a cost band); 0 = none
            "max_params": 0,  # 0 = no ceiling
            "lr_size": "480x480",  # WIDTHxHEIGHT the mult-adds (and int8 latency) are counted for
            # What PSNR is traded against: "mult_adds" (with params) or "latency", the int8 TFLite
            # file's measured ms on this machine (tfsr.latency; each architecture measured once).
            "objective": "mult_adds",
            "max_latency_ms": 0.0,  # int8 latency ceiling, checked before training; 0 = none
            "latency_threads": 1,
            # A tfsr-profile file: latencies predicted from it (another device's, or this one's
            # without converting each candidate) instead of measured here; "" = measure.
            "device_profile": "",
            # Each candidate's score: "float" (the proxy-trained Keras model's validation PSNR) or
            # "int8" (its int8 TFLite file's, calibrated on training patches: the front of what ships).
            "score": "float",
            "top_k": 3,
            "seed": 0,
            "worker_timeout": 600,  # s without heartbeat before a trial is reassigned
            "time_budget": 0.0,  # s of trials in all before no new one starts; 0 = only max_trials
        }
    )
    config.space = ml_collections.ConfigDict(
        {
            # falsr: FALSR's cells and macro links (tfsr.search.space);
            # plain: ECBSR/ABPN's stem -> N same-width blocks -> tail (tfsr.search.plain_space).
            "kind": "falsr",
            "min_cells": 3,  # falsr only
            "max_cells": 7,  # falsr only
            # also available: sepconv, dilated (DLSR's candidate ops)
            "blocks": ("conv", "group_conv2", "group_conv4", "inverted_bottleneck", "ecb", "collapsible"),
            "activations": ("relu", "prelu"),
            "global_skip": "bilinear",  # bilinear | nearest | anchor (plain: always anchor)
            "clip": False,  # clip outputs to [0, 1]
        }
    )
    config.proxy = train_config()  # incomplete training of each candidate
    config.proxy.update({"steps": 300, "batch_size": 16, "patch_size": 24, "learning_rate": 2e-3})
    config.proxy.seeds = 1  # proxy trainings per candidate, from seeds seed .. seed + seeds - 1; PSNR averaged
    return config


# All 614 clean training images of the data root (T91, BSD200, BSDS500test,
# CQ100, Unsplash30; no benchmark image): the tiny-model configs train on them.
TINY_TRAIN_DATA = ",".join(
    f"$TFSR_DATA/train/{name}" for name in ("T91", "BSD200", "BSDS500test", "CQ100", "Unsplash30")
)


def tiny_config(arch="ecbsr", scale=2, steps=10000):
    """The tiny-model recipe (configs/tiny_x2.py, configs/zoo.py): batch 16,
    32x32 LR patches, Adam 1e-3 with cosine decay to 1e-5, EMA 0.999,
    Charbonnier, on `TINY_TRAIN_DATA`, validated on Set5."""
    config = get_config("train")
    config.arch = arch
    config.scale = scale
    config.train_data = TINY_TRAIN_DATA
    config.val_data = "$TFSR_DATA/val/Set5"
    config.train.update(
        {
            "steps": steps,
            "batch_size": 16,
            "patch_size": 32,
            "learning_rate": 1e-3,
            "schedule": "cosine",
            "final_lr_fraction": 0.01,
            "ema": 0.999,
            "loss": "charbonnier",
            "checkpoint_every": 2000,
            "log_every": 1000,
        }
    )
    return config


def dlsr_config():
    """DLSR's differentiable search (tfsr-search-dlsr): the supernet's shape,
    the alternating optimization and the cost term."""
    config = get_config("train")
    config.arch = ""  # the search derives it
    config.arch_data = ""  # images for the architecture steps, disjoint from train_data ("" = bundled val)
    config.dlsr = ml_collections.ConfigDict(
        {
            "nf": 48,  # DLSR's width (18: its tiny variant)
            "blocks": 6,
            "steps": 3,  # distillation steps per block
            "candidates": ("conv1", "conv3", "conv5", "conv7", "sep3", "sep5", "sep7", "dil3", "dil5"),
            "activation": "relu",  # relu | prelu | leaky_relu (DLSR's, slope 0.05)
            "esa": False,  # RFDN's spatial attention after each block (DLSR has it)
            "search_steps": 2000,  # weight steps; as many architecture steps after the warm-up
            "warmup": 200,
            "phase_steps": 100,  # steps per weight / architecture phase
            "penalty_weight": 0.01,  # per G mult-adds (640x360 LR) of the expected derived network
            # A tfsr-profile file: the cost term counts the int8 ms it predicts for the derived
            # network instead (penalty_weight is then per ms; "" = mult-adds)
            "device_profile": "",
            # G mult-adds at 640x360 (0: none): the cost term counts only the expected excess over it,
            # and the derived network is made to fit under it (cheaper ops where alpha loses least)
            "max_mult_adds": 0.0,
            "weight_lr": 5e-4,
            "arch_lr": 3e-4,
            "batch_size": 16,
            "patch_size": 24,
            "seed": 0,
        }
    )
    return config


def demo_search_config():
    """A search small enough for a few minutes on 2 CPU cores (bundled images)."""
    config = search_config()
    config.search.update({"max_trials": 14, "population_size": 6, "max_mult_adds": 3.0e9})
    config.space.update({"min_cells": 2, "max_cells": 4})
    config.proxy.update({"steps": 120})
    config.train.update({"steps": 1500, "checkpoint_every": 500, "log_every": 250})
    return config



def gan_config():
    """Perceptual + adversarial fine-tuning of a PSNR-trained generator."""
    config = get_config("train")
    config.color = "rgb"  # perceptual backbones see RGB
    config.generator = ""  # the PSNR-trained generator (.keras)
    config.discriminator = "srgan"  # built-in name or a discriminator spec .json
    config.train.update(
        {"steps": 3000, "learning_rate": 1e-4, "schedule": "constant", "checkpoint_every": 250, "log_every": 50}
    )
    config.gan = ml_collections.ConfigDict(
        {
            "loss": "ragan",  # standard | ragan (relativistic average)
            "d_learning_rate": 1e-4,
            "pixel_weight": 1e-2,  # L1; ESRGAN's weights
            "perceptual_weight": 1.0,
            "adversarial_weight": 5e-3,
            # vgg16: VGG16 relu1_2 + relu2_2, a network no LPIPS metric uses | lpips: the AlexNet
            # LPIPS-alex is built on (the loss and the metric then share it) | vgg19 (Keras .h5)
            "perceptual": "vgg16",
            # Pooling factors the perceptual distance is also taken at: (1, 2) adds the images
            # halved, so relu2_2's 14-pixel view covers 28 pixels of the image
            "perceptual_scales": (1,),
            "vgg16_weights": "",  # vgg16_relu2_2.npz (required for perceptual=vgg16)
            "lpips_weights": "",  # LPIPS .npz (required for perceptual=lpips and for LPIPS scores)
            # LPIPS-squeeze .npz: validation also reports val_lpips_squeeze, a metric on a network
            # no loss uses (so a result that only fools AlexNet shows)
            "lpips_squeeze_weights": "",
            "vgg19_weights": "",  # Keras VGG19 ImageNet .h5 (required for perceptual=vgg19)
            "sample_every": 250,  # steps between TensorBoard sample images
            "divergence_patience": 3,  # non-finite steps in a row (each skipped) before giving up
            "max_psnr_drop": 3.0,  # dB under the starting generator's val PSNR that counts as divergence
        }
    )
    return config


def discriminator_search_config():
    """Search of a discriminator for a fixed generator (tfsr-search-discriminator)."""
    config = gan_config()
    config.train.update({"steps": 300, "checkpoint_every": 100, "log_every": 50})
    config.search = ml_collections.ConfigDict(
        {
            "max_trials": 12,
            "population_size": 6,
            "crossover_probability": 0.5,
            "top_k": 3,
            "seed": 0,
            "worker_timeout": 600,
        }
    )
    config.space = ml_collections.ConfigDict(
        {"min_stages": 2, "max_stages": 5, "channels": (16, 32, 64, 128), "kernels": (3, 5)}
    )
    return config


def tpsr_generator_search_config():
    """TPSR's generator search: x4 RGB, summed nodes of {3x3, 5x5, 7x7 conv, 3x3, 5x5 separable
    conv} + PReLU on 16 channels, within TPSR-D2's 61.1K params and 3.57G mult-adds at 320x180."""
    config = search_config()
    config.scale, config.color = 4, "rgb"
    config.space.update({"kind": "tpsr", "blocks": ("conv", "sepconv"), "activations": ("prelu",),
                         "min_cells": 2, "max_cells": 6})  # fmt: skip
    # The x4 tail: TPSR's sub-pixel shuffle; resize_conv (no pixel-phase grid, but flat 4x4 tiles
    # after GAN training); progressive_resize_conv (neither).  See tfsr/arch/upsamplers.
    config.space.upsampler = "subpixel"
    config.search.update({"max_params": 61100, "max_mult_adds": 3.57e9, "lr_size": "320x180"})
    return config


def tpsr_config():
    """TPSR end to end (tfsr-tpsr, `tfsr.gan.pipeline`): one section per stage, each the config
    its stage tool reads, and the fields they share.  These defaults run in minutes on the
    bundled images (a smoke test of the whole pipeline); configs/tpsr_x4.py:pipeline has the
    budgets of the README's figures."""
    gsearch = tpsr_generator_search_config()
    gsearch.search.update({"max_trials": 4, "population_size": 2, "initial_candidates": 2})
    gsearch.proxy.update({"steps": 20, "batch_size": 4, "patch_size": 16, "val_limit": 2})
    psnr = get_config("train")
    psnr.train.update({"steps": 40, "batch_size": 4, "patch_size": 16, "checkpoint_every": 20, "log_every": 20,
                       "val_limit": 2})  # fmt: skip
    dsearch = discriminator_search_config()
    dsearch.train.update({"steps": 4, "batch_size": 2, "patch_size": 16, "checkpoint_every": 4, "log_every": 2,
                          "val_limit": 2})  # fmt: skip
    dsearch.search.update({"max_trials": 2, "population_size": 2})
    gan = gan_config()
    gan.train.update({"steps": 6, "batch_size": 2, "patch_size": 16, "checkpoint_every": 3, "log_every": 3,
                      "val_limit": 2})  # fmt: skip
    gan.gan.sample_every = 1000
    return ml_collections.ConfigDict(
        {
            "scale": 4,
            # An ArchSpec .json to train instead of searching one ("" = search; stage 1 is then skipped)
            "generator": "",
            "train_data": "",  # training folders, comma-separated, for every stage ("" = bundled samples)
            "val_data": "",  # the validation folder of every stage ("" = bundled samples)
            "eval_data": "",  # folders scored at the end, comma-separated ("" = bundled samples)
            "lpips_weights": "",  # LPIPS-alex .npz (required: the discriminator search's objective)
            "lpips_squeeze_weights": "",  # LPIPS-squeeze .npz: a second metric on a network no loss uses
            "vgg16_weights": "",  # VGG16 relu2_2 .npz, for perceptual=vgg16
            # The loss of the discriminator search's trials and of the GAN stages: vgg16 (a network
            # neither LPIPS metric uses) | lpips (LPIPS-alex's own AlexNet) | vgg19
            "perceptual": "vgg16",
            "baseline_discriminator": "srgan",  # also train against it, for comparison ("" = no)
            "quantize": "int8",  # the shipped file: int8 | int16x8 | float16 | none
            # int8 activation ranges (tfsr-export --calibration): best (each method, the file scoring highest on
            # training images) | minmax | percentile | mse
            "calibration": "best",
            "generator_search": gsearch,
            "psnr": psnr,
            "discriminator_search": dsearch,
            "gan": gan,
        }
    )
