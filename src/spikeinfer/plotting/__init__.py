"""Figures: of predictions, of the embeddings (seed 000) and of the generative models
(seed 001). Each is a matplotlib ``Figure`` made without pyplot and written atomically."""

from ._figure import new_figure, save_figure
from .predictions import plot_prediction, plot_recording

__all__ = ["new_figure", "plot_prediction", "plot_recording", "save_figure"]
