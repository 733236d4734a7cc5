"""Training: ground-truth sampling with noise augmentation, losses, and the loop."""

from .data import TrainingSet, make_training_set
from .loop import TrainResult, train_network
from .losses import correlation_loss, get_loss

__all__ = ["TrainingSet", "TrainResult", "correlation_loss", "get_loss",
           "make_training_set", "train_network"]
