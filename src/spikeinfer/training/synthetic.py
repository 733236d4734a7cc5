"""Synthetic ground truth: real spike trains rendered with other indicators' kinetics.

A training recording keeps its spike trains (real firing statistics, bursts
included) and gets new fluorescence from a generator: the physical simulator with
kinetics drawn per neuron from a broad range, or a generative model trained on the
same training data (:func:`spikeinfer.generative.generate_twins`). The network then
sees indicators it has no ground truth for.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..data import TraceSet
from ..signals import compute_noise_level
from ..simulate import simulate_fluorescence

SYNTHETIC_PREFIX = "synthetic:"
# Log-uniform ranges of the simulator's kinetics, wider than the fitted presets
# (rise 5-90 ms, decay 0.26-1.7 s, peak dF/F of one spike 0.04-1.0).
SIMULATED_KINETICS = {"tau_rise_s": (0.005, 0.1), "tau_decay_s": (0.2, 2.5),
                      "amplitude": (0.03, 1.2)}


def simulate_twins(data: Sequence[TraceSet], random_state: int = 0, *,
                   amplitude_cv: float = 0.3, shot_noise: float = 0.5) -> list[TraceSet]:
    """Each recording's spike trains with simulated fluorescence at its own rate.

    Every neuron gets its own kinetics, drawn log-uniformly from
    :data:`SIMULATED_KINETICS`, per-spike amplitude variability and the noise level
    nu of its real trace. Dataset names get the prefix ``"synthetic:"``.
    """
    rng = np.random.default_rng(random_state)
    twins = []
    for ts in data:
        traces = np.full(ts.traces.shape, np.nan)
        nu = compute_noise_level(ts.traces, ts.fps)
        for i, (spikes, length) in enumerate(zip(ts.spike_times, ts.lengths)):
            kinetics = {k: float(np.exp(rng.uniform(*np.log(r))))
                        for k, r in SIMULATED_KINETICS.items()}
            kinetics["tau_rise_s"] = min(kinetics["tau_rise_s"], kinetics["tau_decay_s"] / 4)
            level = float(nu[i]) if np.isfinite(nu[i]) else 1.0
            with warnings.catch_warnings():  # fast, large transients: a little noisier
                warnings.filterwarnings("ignore", "noise level .* not reached")
                traces[i, :length] = simulate_fluorescence(
                    [spikes], ts.fps, int(length), amplitude_cv=amplitude_cv,
                    noise_level=level, shot_noise=shot_noise, random_state=rng, **kinetics)[0]
        twins.append(make_twin(ts, traces))
    return twins


def make_twin(ts: TraceSet, traces: np.ndarray) -> TraceSet:
    return replace(ts, traces=traces, lengths=None, dataset=SYNTHETIC_PREFIX + ts.dataset,
                   source=f"{SYNTHETIC_PREFIX}{ts.source}", meta={})
