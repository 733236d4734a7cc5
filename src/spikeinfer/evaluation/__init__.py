"""Scoring predictions against ground truth, and benchmarks."""

from .metrics import MEASURES, bin_frames, frames_per_bin, mean_scores, score_neuron, score_neurons

__all__ = ["MEASURES", "bin_frames", "frames_per_bin", "mean_scores", "score_neuron", "score_neurons"]
