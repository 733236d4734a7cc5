"""Scoring predictions against ground truth, and benchmarks."""

from .metrics import MEASURES, mean_scores, score_neuron, score_neurons

__all__ = ["MEASURES", "mean_scores", "score_neuron", "score_neurons"]
