"""Training: ground-truth sampling with noise augmentation, losses, and the loop."""

from .data import TrainingSet, make_training_set, neuron_name
from .loop import TrainResult, train_network
from .losses import correlation_loss, get_loss

__all__ = [
           "TrainResult",
           "TrainingSet",
           "correlation_loss",
           "get_loss",
           "make_training_set",
           "neuron_name",
           "train_network",
]
