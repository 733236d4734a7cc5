"""A model adapted to a new recording: fine-tuned on the ground truth that resembles it."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np

from ..data import TraceSet
from ..exceptions import InputError
from ..models import NeuralModel, with_settings
from ..signals import compute_noise_level


def adapt_model(model: NeuralModel, recording: TraceSet, ground_truth: Sequence[TraceSet],
                embedding, k: int = 3, *, steps: int = 300, learning_rate: float = 3e-4,
                match_noise: bool = True, max_seconds: float | None = None,
                random_state: int = 0) -> tuple[NeuralModel, list[str]]:
    """A copy of ``model`` fine-tuned for ``recording``, and the datasets chosen.

    The recording is placed in ``embedding`` (a fitted
    :class:`spikeinfer.embedding.Embedding`); the ``k`` nearest ground-truth datasets
    are the training data of ``steps`` more steps from the model's weights, with noise
    added up to the range of the recording's own noise levels (10th-90th percentile of
    its neurons' nu) when ``match_noise``.
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
    with_settings(adapted, **settings).fit(data)
    return adapted, chosen


def recording_noise_range(recording: TraceSet, floor: float = 0.3) -> tuple[float, float]:
    """10th and 90th percentile of the neurons' noise levels nu (at least ``floor``)."""
    nu = compute_noise_level(recording.traces, recording.fps)
    nu = nu[np.isfinite(nu)]
    if not nu.size:
        raise InputError(f"{recording.source or 'recording'}: no trace to measure noise on")
    low, high = (max(float(v), floor) for v in np.percentile(nu, [10, 90]))
    return round(low, 3), round(max(high, low * 1.1), 3)
