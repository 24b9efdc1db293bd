"""TPSR-style x4 perceptual pipeline on the 291 images (the README's figures).

A tiny RGB generator (configs/specs/tpsr_x4_tiny.json, 51,760 params) is
trained for PSNR, a discriminator is searched for it, and it is fine-tuned
with perceptual + adversarial loss against a hand-made and the searched
discriminator:

    tfsr-train --config=configs/tpsr_x4.py:psnr --workdir=runs/tpsr_psnr_x4
    tfsr-search-discriminator --config=configs/tpsr_x4.py:search \
        --generator=runs/tpsr_psnr_x4/model.keras --workdir=runs/tpsr_dsearch_x4
    tfsr-train-gan --config=configs/tpsr_x4.py \
        --generator=runs/tpsr_psnr_x4/model.keras --discriminator=srgan \
        --workdir=runs/tpsr_gan_srgan_x4

TPSR's whole pipeline with a *searched* generator (TPSR's x4 space with a
resize-conv tail, within TPSR-D2's 61.1K params and 3.57G mult-adds at
320x180) and the VGG16 loss, the same PSNR recipe as above, in one command:

    tfsr-tpsr --config=configs/tpsr_x4.py:pipeline --workdir=runs/tpsr_pipeline_x4
"""

from tfsr.config import get_config as base_config
from tfsr.config import tpsr_config, tpsr_generator_search_config

DATA = "$TFSR_DATA"  # the data root: --data_root or the TFSR_DATA variable (tfsr-data)


def get_config(stage="gan"):
    """`stage`: psnr (tfsr-train), gan (tfsr-train-gan), search (tfsr-search-discriminator),
    generator_search (tfsr-search) or pipeline (tfsr-tpsr: all of them, searched generator)."""
    if stage == "pipeline":
        return pipeline_config()
    if stage == "generator_search":
        return generator_search_config()
    config = base_config("discriminator_search" if stage == "search" else "gan")
    config.arch = "configs/specs/tpsr_x4_tiny.json"
    config.scale = 4
    config.color = "rgb"
    config.train_data = f"{DATA}/train/T91,{DATA}/train/BSD200"
    config.val_data = f"{DATA}/val/Set5"
    config.gan.lpips_weights = "../shared/weights/lpips_alex_v0.1.npz"
    config.gan.lpips_squeeze_weights = "../shared/weights/lpips_squeeze_v0.1.npz"  # a second validation metric
    config.gan.vgg16_weights = "../shared/weights/vgg16_relu2_2.npz"
    # The README's x4 figures were measured with the AlexNet loss, which shares its network with
    # LPIPS-alex; --config.gan.perceptual=vgg16 (tfsr's default) uses a network no metric uses.
    config.gan.perceptual = "lpips"
    if stage == "psnr":
        config.train.update({"steps": 20000, "learning_rate": 1e-3, "schedule": "cosine"})
        config.train.update({"checkpoint_every": 2000, "log_every": 1000})
    elif stage == "search":
        # Short trials: 250 GAN steps each, scored on Set5.
        config.train.update({"steps": 250, "checkpoint_every": 125, "log_every": 50})
        config.search.update({"max_trials": 8, "population_size": 4})
    else:
        # 2,000 steps at 1e-4 tripped the PSNR-collapse guard at step 750
        # (30.65 -> 26.83 dB on Set5) against the SRGAN discriminator.
        config.train.update({"steps": 1000, "learning_rate": 5e-5, "checkpoint_every": 250, "log_every": 50})
    return config


def generator_search_config():
    """TPSR's generator search: 24 trials of 1,000 proxy steps at 1e-3, scored on Set5.

    300 steps at 2e-3 (the x2 searches' proxy) ranked x4 candidates by noise: a third of
    them had not left bilinear's 27.6 dB, and the front ended at 0.84G of the 3.57G allowed."""
    config = tpsr_generator_search_config()
    config.train_data = f"{DATA}/train/T91,{DATA}/train/BSD200"
    config.val_data = f"{DATA}/val/Set5"
    config.search.update({"max_trials": 24, "population_size": 8})
    config.proxy.update({"steps": 1000, "learning_rate": 1e-3})
    return config


def pipeline_config():
    """tfsr-tpsr: the searched generator through the stages above, with the budgets above
    except a 6-trial, 200-step discriminator search, and the VGG16 perceptual loss."""
    config = tpsr_config()
    config.update({
        "train_data": f"{DATA}/train/T91,{DATA}/train/BSD200",
        "val_data": f"{DATA}/val/Set5",
        "eval_data": f"{DATA}/val/Set5,{DATA}/val/Set14",
        "lpips_weights": "../shared/weights/lpips_alex_v0.1.npz",
        "lpips_squeeze_weights": "../shared/weights/lpips_squeeze_v0.1.npz",
        "vgg16_weights": "../shared/weights/vgg16_relu2_2.npz",
    })  # fmt: skip
    config.generator_search = generator_search_config()
    # The shipped generator's tail.  TPSR's sub-pixel shuffle leaves a 4-pixel grid in GAN
    # outputs (17-20 dB over HR's at the grid frequencies, bench/grid_x4.sh); a one-step
    # resize-conv leaves flat 4x4 tiles instead (blockiness 3.5 / 4.3 dB on Set5 / Set14,
    # bicubic's 1.2 / 1.4); resize-conv in x2 steps neither.
    config.generator_search.space.upsampler = "progressive_resize_conv"
    config.psnr = get_config("psnr")
    config.discriminator_search = get_config("search")
    config.discriminator_search.train.update({"steps": 200, "checkpoint_every": 100})
    config.discriminator_search.search.update({"max_trials": 6, "population_size": 3})
    config.gan = get_config("gan")
    config.perceptual = "vgg16"  # both GAN stages' loss: a network neither LPIPS metric uses
    return config
