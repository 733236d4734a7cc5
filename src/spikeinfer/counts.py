"""Silence makes no spikes: a model's output on pure noise, and the gate that removes it.

A network trained to output expected spikes puts a low carpet of them on any noise
(the default: 0.13 spikes/s at noise level nu = 1, 0.41 at nu = 4). :func:`measure_silence`
measures, for a model, how many expected spikes a short window of its output holds on
pure noise at each noise level: the ``1 - false_alarm`` quantile of that window mass.
:func:`gate_silence` keeps the output only around windows whose mass exceeds what noise
at the neuron's own level reaches, and sets the rest to zero: events are kept whole,
the carpet between them goes.

The thresholds are a model's own (they live in its card, ``silence``): they depend on how
the network answers noise, not on the recording.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage

from .signals import noise_std_for_level

#: Noise levels (CASCADE's nu) at which a model's answer to noise is measured.
SILENCE_NOISE_LEVELS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
#: The window (s) whose expected spikes are compared with noise's.
SILENCE_WINDOW_S = 0.3
#: The fraction of noise-only windows allowed through the gate.
SILENCE_FALSE_ALARM = 1e-3


def window_mass(spikes: np.ndarray, fps: float, window_s: float) -> np.ndarray:
    """Expected spikes in a window of ``window_s`` centred on each frame (NaN as zero)."""
    width = max(1, int(round(window_s * fps)))
    filled = np.nan_to_num(np.asarray(spikes, dtype=np.float64))
    return ndimage.uniform_filter1d(filled, width, axis=-1, mode="constant") * width


def measure_silence(predict: Callable[[np.ndarray, float], np.ndarray], fps: float = 30.0,
                    noise_levels=SILENCE_NOISE_LEVELS, window_s: float = SILENCE_WINDOW_S,
                    false_alarm: float = SILENCE_FALSE_ALARM, n_traces: int = 40,
                    duration_s: float = 600.0, random_state: int = 0) -> dict:
    """A model's silent level: for each noise level, the expected spikes that a window of
    ``window_s`` of its output exceeds on pure white noise with probability ``false_alarm``.

    ``predict(traces, fps)`` is the model's prediction (``model.predict``). Returns the
    card's ``silence`` entry.
    """
    rng = np.random.default_rng(random_state)
    n_frames = int(duration_s * fps)
    thresholds = []
    for level in noise_levels:
        noise = rng.normal(0.0, noise_std_for_level(level, fps), (n_traces, n_frames))
        mass = window_mass(predict(noise, fps), fps, window_s)
        thresholds.append(float(np.quantile(mass, 1.0 - false_alarm)))
    return {"window_s": float(window_s), "false_alarm": float(false_alarm),
            "noise_levels": [float(v) for v in noise_levels],
            "mass_thresholds": thresholds}


def silence_threshold(noise_level: np.ndarray, silence: dict) -> np.ndarray:
    """The window mass noise at ``noise_level`` reaches (interpolated in log noise; NaN
    levels give the lowest measured threshold)."""
    levels = np.log(np.asarray(silence["noise_levels"], dtype=np.float64))
    noise_level = np.asarray(noise_level, dtype=np.float64)
    safe = np.where(np.isfinite(noise_level) & (noise_level > 0), noise_level,
                    np.exp(levels[0]))
    return np.interp(np.log(safe), levels, silence["mass_thresholds"])


def gate_silence(spikes: np.ndarray, noise_level: np.ndarray, fps: float,
                 silence: dict) -> np.ndarray:
    """``spikes`` (n_neurons, n_frames) with everything that noise at each neuron's
    ``noise_level`` could have made set to zero: a frame is kept when a window of the
    card's width around it holds more expected spikes than the neuron's silent level.
    NaN stays NaN; each row depends on that row alone."""
    spikes = np.atleast_2d(np.asarray(spikes))
    window_s = silence["window_s"]
    threshold = silence_threshold(noise_level, silence).reshape(-1, 1)
    loud = window_mass(spikes, fps, window_s) > threshold
    width = max(1, int(round(window_s * fps)))
    keep = ndimage.maximum_filter1d(loud.astype(np.uint8), width, axis=-1) > 0
    return np.where(keep | np.isnan(spikes), spikes, 0.0).astype(spikes.dtype)
