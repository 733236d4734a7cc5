"""Ground truth cut into short windows at one frame rate, split by neuron.

Every recording is resampled to ``fps`` (30 Hz), each finite stretch has its running
baseline subtracted (as the training pipeline does), and windows of ``window`` frames
are cut with the spikes per frame beside them. Neurons, not windows, are held out, so
that a held-out score is a score on neurons the model has never seen.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..data import TraceSet
from ..io import normalise_indicator_name
from ..pipeline import Pipeline
from ..signals import noise_std
from ..training import make_training_set

#: Default rate (Hz) of every generative model.
FPS = 30.0


def indicator_of(ts: TraceSet) -> str:
    """The usual name of a recording's indicator ('OGB1' -> 'OGB-1'); Spikefinder set 4
    (no indicator in the file) is OGB-1."""
    if ts.indicator:
        return normalise_indicator_name(ts.indicator)
    return "OGB-1" if ts.dataset == "spikefinder-4" else "unknown"


@dataclass
class Stretches:
    """Finite stretches of ground truth at ``fps``, baseline subtracted.

    ``traces[i]`` (dF/F) and ``counts[i]`` (spikes per frame) have equal length;
    ``neuron[i]`` names the neuron and ``dataset[i]`` indexes ``dataset_names``.
    """

    traces: list[np.ndarray]
    counts: list[np.ndarray]
    neuron: list[str]
    dataset: np.ndarray
    dataset_names: list[str]
    indicators: dict[str, str]
    fps: float

    def subset(self, keep) -> Stretches:
        keep = np.asarray(keep, dtype=np.int64)
        return Stretches([self.traces[i] for i in keep], [self.counts[i] for i in keep],
                         [self.neuron[i] for i in keep], self.dataset[keep], self.dataset_names,
                         self.indicators, self.fps)

    def is_held_out(self, held_out: set[str]) -> np.ndarray:
        return np.array([n in held_out for n in self.neuron], dtype=bool)

    def sample(self, n: int, window: int, rng: np.random.Generator):
        """``n`` random windows, every dataset equally often and its stretches in
        proportion to their length: (n, window) traces, counts, dataset indices."""
        lengths = np.array([len(t) for t in self.traces])
        usable = np.flatnonzero(lengths >= window)
        groups = self.dataset[usable]
        p = lengths[usable].astype(np.float64)
        totals = {g: p[groups == g].sum() for g in np.unique(groups)}
        p /= np.array([totals[g] for g in groups])
        picks = rng.choice(usable, size=n, p=p / p.sum())
        starts = rng.integers(0, lengths[picks] - window + 1)
        x = np.stack([self.traces[i][s:s + window] for i, s in zip(picks, starts)])
        c = np.stack([self.counts[i][s:s + window] for i, s in zip(picks, starts)])
        return x, c, self.dataset[picks]


def make_stretches(data: Sequence[TraceSet], fps: float = FPS, min_frames: int = 64,
                   baseline_window_s: float | None = 60.0,
                   dataset_names: list[str] | None = None) -> Stretches:
    """Resample to ``fps``, split rows at NaN gaps, keep stretches of ``min_frames`` or
    more, subtract each stretch's running baseline (8th percentile over
    ``baseline_window_s`` seconds)."""
    pipeline = Pipeline(fps=fps, baseline_window_s=baseline_window_s, floor_percentile=None)
    stretches = make_training_set(data, pipeline, 0.0, min_frames, dataset_names)
    return Stretches(stretches.traces, stretches.targets, stretches.neuron, stretches.dataset,
                     stretches.dataset_names, {ts.dataset: indicator_of(ts) for ts in data}, fps)


def split_neurons(neurons: Sequence[str], fraction: float = 0.2,
                  random_state: int = 0) -> set[str]:
    """Held-out neurons: ``fraction`` of each dataset's neurons (at least one where a
    dataset has two or more; none of a one-neuron dataset). The draw of a dataset
    depends only on its name and ``random_state``, not on which other data is loaded."""
    by_dataset: dict[str, list[str]] = {}
    for n in sorted(set(neurons)):
        by_dataset.setdefault(n.split("/")[0], []).append(n)
    held = set()
    for name, members in by_dataset.items():
        if len(members) < 2 or fraction <= 0:
            continue
        rng = np.random.default_rng([random_state, zlib.crc32(name.encode())])
        k = min(len(members) - 1, max(1, round(fraction * len(members))))
        held.update(rng.choice(members, size=k, replace=False).tolist())
    return held


def noise_sigma(x: np.ndarray) -> np.ndarray:
    """Std of white noise with the same median |frame difference|, per row (dF/F)."""
    return np.maximum(noise_std(x), 1e-4)


def dataset_noise_scales(stretches: Stretches) -> np.ndarray:
    """Per dataset, the median over its stretches of their noise std (dF/F)."""
    sigma = np.array([noise_sigma(t) for t in stretches.traces])
    return np.array([float(np.median(sigma[stretches.dataset == d]))
                     if np.any(stretches.dataset == d) else float(np.median(sigma))
                     for d in range(len(stretches.dataset_names))])


@dataclass
class Windows:
    """Windows of ``window`` frames: ``x`` (n, window) dF/F minus baseline, ``counts``
    (n, window) spikes per frame, ``dataset`` (n,), ``held_out`` (n,) whether the
    neuron is held out; ``stretch`` and ``start`` locate each window in ``source``."""

    x: np.ndarray
    counts: np.ndarray
    dataset: np.ndarray
    held_out: np.ndarray
    stretch: np.ndarray
    start: np.ndarray
    dataset_names: list[str]
    fps: float
    source: Stretches | None = field(default=None, repr=False)

    @property
    def centre(self) -> int:
        return self.x.shape[1] // 2

    @property
    def has_spike(self) -> np.ndarray:
        """Whether the centre frame (exactly that frame, 33 ms at 30 Hz) holds a spike."""
        return self.counts[:, self.centre] > 0

    def subset(self, keep) -> Windows:
        return Windows(self.x[keep], self.counts[keep], self.dataset[keep], self.held_out[keep],
                       self.stretch[keep], self.start[keep], self.dataset_names, self.fps,
                       self.source)


def make_windows(stretches: Stretches, held_out: set[str], window: int = 64,
                 per_dataset: int = 2000, random_state: int = 0) -> Windows:
    """Per dataset, up to ``per_dataset`` windows of training neurons and up to
    ``per_dataset // 4`` of held-out neurons; in each, half centred on a frame with a
    spike and half on a frame without (as far as there are such frames)."""
    rng = np.random.default_rng(random_state)
    half = window // 2
    is_held = stretches.is_held_out(held_out)
    picks = []  # (stretch, start, held)
    for d in range(len(stretches.dataset_names)):
        for held, n in ((False, per_dataset), (True, per_dataset // 4)):
            rows = np.flatnonzero((stretches.dataset == d) & (is_held == held))
            spike_pos, silent_pos = [], []
            for i in rows:
                c = stretches.counts[i]
                centres = np.arange(half, len(c) - (window - half) + 1)
                spiking = c[centres] > 0
                spike_pos.append(np.stack([np.full(spiking.sum(), i), centres[spiking]], 1))
                silent_pos.append(np.stack([np.full((~spiking).sum(), i), centres[~spiking]], 1))
            for pos in (spike_pos, silent_pos):
                pos = np.concatenate(pos) if pos else np.zeros((0, 2), np.int64)
                take = pos[rng.choice(len(pos), size=min(n // 2, len(pos)), replace=False)]
                picks.extend((int(i), int(c) - half, held) for i, c in take)
    stretch = np.array([p[0] for p in picks], dtype=np.int64)
    start = np.array([p[1] for p in picks], dtype=np.int64)
    x = np.stack([stretches.traces[i][s:s + window] for i, s in zip(stretch, start)]) if picks \
        else np.zeros((0, window), np.float32)
    counts = np.stack([stretches.counts[i][s:s + window] for i, s in zip(stretch, start)]) \
        if picks else np.zeros((0, window), np.float32)
    return Windows(x.astype(np.float32), counts.astype(np.float32), stretches.dataset[stretch],
                   np.array([p[2] for p in picks], dtype=bool), stretch, start,
                   stretches.dataset_names, stretches.fps, stretches)

