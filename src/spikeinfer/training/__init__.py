"""Training: ground truth as augmented windows, losses, synthetic twins, and the one
:class:`Trainer` with its callbacks."""

from .config import LOSS_NAMES, SYNTHETIC_SOURCES, AugmentationConfig, TrainingConfig
from .data import TrainingSet, make_training_set, neuron_name
from .losses import LOSSES, correlation_loss, get_loss
from .synthetic import SIMULATED_KINETICS, make_twin, simulate_twins
from .trainer import (
    AtEnd,
    Callback,
    Checkpoint,
    EarlyStopping,
    History,
    ProgressBar,
    TimeBudget,
    Trainer,
    TrainResult,
    gradient_step,
)

__all__ = ["LOSSES", "LOSS_NAMES", "SIMULATED_KINETICS", "SYNTHETIC_SOURCES", "AtEnd",
           "AugmentationConfig", "Callback", "Checkpoint", "EarlyStopping", "History",
           "ProgressBar", "TimeBudget", "TrainResult", "Trainer", "TrainingConfig", "TrainingSet",
           "correlation_loss", "get_loss", "gradient_step", "make_training_set", "make_twin",
           "neuron_name", "simulate_twins"]
