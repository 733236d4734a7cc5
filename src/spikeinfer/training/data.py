"""Ground truth as training windows: resampled to the model's rate, noise-augmented."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..data import TraceSet
from ..models.base import finite_runs
from ..preprocess import compute_noise_level, resample_traceset
from ..simulate import noise_std_for_level


def add_noise_to_level(trace: np.ndarray, fps: float, target_level: float,
                       rng: np.random.Generator) -> np.ndarray:
    """Add noise so that the trace's noise level nu reaches ``target_level``.

    As in CASCADE, the added noise grows with the signal like shot noise: its
    std at each frame is proportional to sqrt(max(1 + dF/F, 0.1)). A trace
    already noisier than the target is returned unchanged.
    """
    current = float(compute_noise_level(trace, fps)[0])
    if not np.isfinite(current) or current >= target_level:
        return trace
    shape = np.sqrt(np.maximum(1.0 + trace, 0.1))
    shape /= np.median(shape)
    extra = np.sqrt(target_level ** 2 - current ** 2)
    return trace + rng.normal(0.0, noise_std_for_level(extra, fps), trace.shape) * shape


@dataclass
class TrainingSet:
    """Finite stretches of ground truth at the model's rate.

    ``traces[i]`` and ``targets[i]`` (smoothed spikes per frame) are 1-D arrays
    of equal length; ``neuron[i]`` names the neuron (for validation splits)
    and ``dataset[i]`` indexes ``dataset_names``.
    """

    traces: list[np.ndarray]
    targets: list[np.ndarray]
    neuron: list[str]
    dataset: np.ndarray
    dataset_names: list[str]
    fps: float

    def sample_windows(self, n: int, window: int, rng: np.random.Generator,
                       noise_levels: tuple[float, float] | None = None):
        """``n`` random windows, (n, window) inputs, targets, and dataset indices.

        Stretches are drawn in proportion to their length. With
        ``noise_levels``, each window gets noise up to a level drawn
        uniformly from that range.
        """
        lengths = np.array([len(t) for t in self.traces])
        usable = np.flatnonzero(lengths >= window)
        p = lengths[usable] / lengths[usable].sum()
        picks = rng.choice(usable, size=n, p=p)
        x = np.empty((n, window), dtype=np.float32)
        y = np.empty((n, window), dtype=np.float32)
        for j, i in enumerate(picks):
            start = rng.integers(0, lengths[i] - window + 1)
            trace = self.traces[i][start:start + window]
            if noise_levels is not None:
                trace = add_noise_to_level(trace, self.fps, rng.uniform(*noise_levels), rng)
            x[j], y[j] = trace, self.targets[i][start:start + window]
        return x, y, self.dataset[picks]

    def subset(self, keep: np.ndarray) -> TrainingSet:
        keep = np.asarray(keep)
        return TrainingSet([self.traces[i] for i in keep], [self.targets[i] for i in keep],
                           [self.neuron[i] for i in keep], self.dataset[keep],
                           self.dataset_names, self.fps)


def make_training_set(data: list[TraceSet], fps: float, smoothing_s: float,
                      min_frames: int, dataset_names: list[str] | None = None) -> TrainingSet:
    """Resample every recording to ``fps``; targets are spike counts per frame smoothed
    by a Gaussian of ``smoothing_s`` seconds (their sum is unchanged)."""
    names = dataset_names or sorted({ts.dataset for ts in data})
    traces, targets, neuron, dataset = [], [], [], []
    for ts in data:
        resampled = resample_traceset(ts, fps)
        counts = resampled.spike_counts()
        for row, count, nid in zip(resampled.traces, counts, resampled.neuron_ids):
            for start, stop in finite_runs(row):
                if stop - start < min_frames:
                    continue
                target = np.nan_to_num(count[start:stop])
                if smoothing_s > 0:
                    target = ndimage.gaussian_filter1d(target, smoothing_s * fps, mode="constant")
                traces.append(row[start:stop].astype(np.float32))
                targets.append(target.astype(np.float32))
                neuron.append(f"{ts.dataset}/{nid.split(':')[0]}")
                dataset.append(names.index(ts.dataset) if ts.dataset in names else -1)
    return TrainingSet(traces, targets, neuron, np.array(dataset, dtype=np.int64), names, fps)
