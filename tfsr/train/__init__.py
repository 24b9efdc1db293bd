from tfsr.train.trainer import Trainer, TrainingDiverged  # noqa: F401
