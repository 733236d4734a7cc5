"""A model adapted to a new recording: fine-tuned on the ground truth that resembles it."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence

import numpy as np

from ..calibration import calibrate
from ..data import TraceSet
from ..exceptions import InputError
from ..models import NeuralModel, with_settings
from ..preprocess import resample_traceset
from ..signals import compute_noise_level
from ..simulate import load_indicator_table, simulate_fluorescence
from ..training import make_twin


def adapt_model(model: NeuralModel, recording: TraceSet, ground_truth: Sequence[TraceSet],
                embedding, k: int = 3, *, steps: int = 300, learning_rate: float = 3e-4,
                match_noise: bool = True, simulate: bool = False,
                max_seconds: float | None = None,
                random_state: int = 0) -> tuple[NeuralModel, list[str]]:
    """A copy of ``model`` fine-tuned for ``recording``, and the datasets chosen.

    The recording is placed in ``embedding`` (a fitted
    :class:`spikeinfer.embedding.Embedding`); the ``k`` nearest ground-truth datasets
    are the training data of ``steps`` more steps from the model's weights, with noise
    added up to the range of the recording's own noise levels (10th-90th percentile of
    its neurons' nu) when ``match_noise``. With ``simulate``, their spike trains are
    also rendered by the simulator with the recording's own estimated decay and spike
    amplitude (:func:`spikeinfer.calibration.calibrate`; the rise of the chosen
    datasets' fitted kernels), at the recording's rate and noise: twins of the
    recording's indicator for the fine-tuning.
    """
    if not isinstance(model, NeuralModel):
        raise InputError(f"only networks can be adapted, not {model.architecture!r}")
    chosen = embedding.nearest_datasets(recording.traces, recording.fps, k)
    data = [ts for ts in ground_truth if ts.dataset in chosen]
    if not data:
        raise InputError(f"none of the nearest datasets ({', '.join(chosen)}) is in the "
                         "ground truth given")
    adapted = copy.deepcopy(model).set_params(warm_start=True, random_state=random_state)
    settings = {"steps": steps, "learning_rate": learning_rate,
                "eval_every": max(1, steps // 5), "max_seconds": max_seconds}
    if match_noise:
        settings["noise_levels"] = recording_noise_range(recording)
    if simulate:
        data = data + recording_twins(recording, data, random_state)
    with_settings(adapted, **settings).fit(data)
    return adapted, chosen


def recording_twins(recording: TraceSet, ground_truth: Sequence[TraceSet],
                    random_state: int = 0) -> list[TraceSet]:
    """The spike trains of ``ground_truth`` with fluorescence simulated at the recording's
    rate with its estimated decay and spike amplitude and its neurons' noise levels
    (each twin the level of a neuron of the recording drawn at random)."""
    estimates = calibrate(recording.traces, recording.fps)
    decay = estimates.tau_decay_s if np.isfinite(estimates.tau_decay_s) else 1.0
    amplitude = estimates.recording_amplitude
    if not np.isfinite(amplitude):
        return []
    fits = {row["dataset"]: row for row in load_indicator_table()["datasets"]}
    rises = [fits[ts.dataset]["tau_rise_s"] for ts in ground_truth if ts.dataset in fits]
    rise = min(float(np.median(rises)) if rises else 0.05, decay / 4)
    rng = np.random.default_rng(random_state)
    levels = estimates.noise_level[np.isfinite(estimates.noise_level)]
    twins = []
    for ts in ground_truth:
        at_rate = resample_traceset(ts, recording.fps)
        traces = np.full(at_rate.traces.shape, np.nan)
        for i, (spikes, length) in enumerate(zip(at_rate.spike_times, at_rate.lengths)):
            level = float(rng.choice(levels)) if levels.size else 1.0
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # fast, large transients: a little noisier
                traces[i, :length] = simulate_fluorescence(
                    [spikes], recording.fps, int(length), tau_rise_s=rise, tau_decay_s=decay,
                    amplitude=amplitude, noise_level=level, amplitude_cv=0.3, shot_noise=0.5,
                    random_state=rng)[0]
        twins.append(make_twin(at_rate, traces))
    return twins


def recording_noise_range(recording: TraceSet, floor: float = 0.3) -> tuple[float, float]:
    """10th and 90th percentile of the neurons' noise levels nu (at least ``floor``)."""
    nu = compute_noise_level(recording.traces, recording.fps)
    nu = nu[np.isfinite(nu)]
    if not nu.size:
        raise InputError(f"{recording.source or 'recording'}: no trace to measure noise on")
    low, high = (max(float(v), floor) for v in np.percentile(nu, [10, 90]))
    return round(low, 3), round(max(high, low * 1.1), 3)
