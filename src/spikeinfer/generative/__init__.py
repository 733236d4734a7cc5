"""Generative models of calcium-imaging windows, trained on real ground truth.

- :class:`SpikeClassifier`: does a window hold a spike at its centre?
- :class:`WindowAutoencoder`: a low-dimensional code of windows.
- :class:`ConditionalGAN`: fluorescence given spikes and a dataset or indicator label;
  :func:`train_gan` and :func:`generate_traces` are what the training pipeline uses.

Windows are cut from ground truth resampled to 30 Hz with its running baseline
removed (:func:`make_stretches`, :func:`make_windows`); neurons, not windows, are held
out (:func:`split_neurons`). See ``docs/generative.md``.
"""

from ._models import (
    KINDS,
    MODELS,
    ConditionalGAN,
    SpikeClassifier,
    WindowAutoencoder,
    generate_traces,
    generate_twins,
    load_generative,
    train_gan,
)
from ._evaluate import (
    evaluate_model,
    format_evaluation,
    simulate_stretches,
    simulator_parameters,
)
from ._windows import FPS, Stretches, Windows, make_stretches, make_windows, split_neurons

__all__ = ["FPS", "KINDS", "MODELS", "evaluate_model", "format_evaluation", "simulate_stretches",
           "simulator_parameters", "ConditionalGAN", "SpikeClassifier", "Stretches", "WindowAutoencoder",
           "Windows", "generate_traces", "generate_twins", "load_generative", "make_stretches", "make_windows",
           "split_neurons", "train_gan"]
