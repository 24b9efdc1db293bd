"""Small images shipped inside the package for the demo and the tests.

A fresh user has no benchmark folders; these let every tool run out of the
box.  `train/` holds a few natural-image crops (from the 291-image training
set) and `val/` a few others, kept apart from training.
"""

import os

SAMPLES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample_images")
TRAIN_DIR = os.path.join(SAMPLES_DIR, "train")
VAL_DIR = os.path.join(SAMPLES_DIR, "val")
