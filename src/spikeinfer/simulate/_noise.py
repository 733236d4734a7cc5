"""Noise helpers without package imports: :mod:`spikeinfer.preprocess` imports this one."""

from __future__ import annotations

import numpy as np

_MEDIAN_ABS_NORMAL = 0.6744897501960817  # median |z| of a standard normal z


def noise_std_for_level(noise_level: float, fps: float) -> float:
    """Std of white Gaussian noise whose CASCADE noise level nu equals ``noise_level``.

    For white noise of std s, median |diff| = s * sqrt(2) * 0.6745, and
    nu = median |diff| / sqrt(fps) * 100.
    """
    return noise_level * np.sqrt(fps) / 100.0 / (np.sqrt(2.0) * _MEDIAN_ABS_NORMAL)


def compute_shot_noise_shape(dff: np.ndarray) -> np.ndarray:
    """Relative noise std per frame of shot noise, sqrt(1 + dF/F) (floored at sqrt(0.1)),
    divided by its median per row, as :func:`spikeinfer.preprocess.add_noise_to_level`."""
    shape = np.sqrt(np.maximum(1.0 + dff, 0.1))
    return shape / np.median(shape, axis=-1, keepdims=True)
