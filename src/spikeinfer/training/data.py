"""Ground truth as training windows: through the model's pipeline, then augmented."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy import ndimage

from ..data import TraceSet
from ..pipeline import Pipeline
from ..preprocess import add_noise_to_level, resample_traceset
from ..signals import finite_runs, resample_trace
from .config import AugmentationConfig

#: Augmentation that changes nothing (validation windows of a set without one).
NO_AUGMENTATION = AugmentationConfig(noise_levels=None, balance_datasets=False)


@dataclass
class TrainingSet:
    """Finite stretches of ground truth at the model's rate.

    ``traces[i]`` (dF/F minus running baseline) and ``targets[i]`` (smoothed spikes per
    frame) are 1-D arrays of equal length; ``neuron[i]`` names the neuron (for
    validation splits), ``dataset[i]`` indexes ``dataset_names`` and ``native_fps[i]``
    is the rate the stretch was recorded at. ``synthetic[i]`` marks generated
    stretches, which make up ``synthetic_fraction`` of the windows drawn when there are
    any. ``amplitude[i]`` and ``tau_decay_s[i]`` are the recording's own estimates
    (:mod:`spikeinfer.calibration`, from fluorescence alone as at prediction) for a
    pipeline that normalises with them; NaN otherwise.
    """

    traces: list[np.ndarray]
    targets: list[np.ndarray]
    neuron: list[str]
    dataset: np.ndarray
    dataset_names: list[str]
    fps: float
    native_fps: np.ndarray
    synthetic: np.ndarray | None = None
    synthetic_fraction: float = 0.0
    amplitude: np.ndarray | None = None
    tau_decay_s: np.ndarray | None = None

    def __post_init__(self):
        n = len(self.traces)
        if self.synthetic is None:
            self.synthetic = np.zeros(n, dtype=bool)
        if self.amplitude is None:
            self.amplitude = np.full(n, np.nan)
        if self.tau_decay_s is None:
            self.tau_decay_s = np.full(n, np.nan)

    def sample_windows(self, n: int, window: int, rng: np.random.Generator,
                       augmentation: AugmentationConfig = NO_AUGMENTATION,
                       pipeline: Pipeline | None = None, stretch_time: bool = True):
        """``n`` random windows: (n, channels, window) inputs as the ``pipeline``'s network
        reads them, (n, window) targets and (n,) dataset indices.

        Stretches are drawn in proportion to their length, or, with
        ``balance_datasets``, each dataset equally often and its stretches in
        proportion to their length (so that a few long datasets do not dominate).
        With ``noise_levels``, each window gets noise up to a level drawn
        uniformly from that range, added at the rate the window was recorded at.
        With ``acquisition_rates``, each window is made as if recorded at a rate
        drawn log-uniformly from that range (band-limited to it, noise added at
        it, then brought back to :attr:`fps`); rates above the stretch's own
        change nothing. A model trained so reads slow recordings, which reach it
        upsampled and smooth, the way it reads fast ones. With ``time_stretch``
        (and ``stretch_time``; validation windows keep real time courses), each window
        is ``s`` times as much recording (``s`` log-uniform in that range) resampled to
        the window's length, spike counts kept: ``s > 1`` makes an indicator faster and
        its neuron fire faster, ``s < 1`` slower. A pipeline that normalises time
        stretches each window further by the time factor of its recording's decay.
        """
        pipeline = pipeline or Pipeline(fps=self.fps)
        stretch_range = augmentation.time_stretch if stretch_time else None
        noise_levels, acquisition_rates = augmentation.noise_levels, augmentation.acquisition_rates
        lengths = np.array([len(t) for t in self.traces])
        usable = np.flatnonzero(lengths >= window)
        p = lengths[usable].astype(np.float64)
        if augmentation.balance_datasets:
            groups = self.dataset[usable]
            totals = {g: p[groups == g].sum() for g in np.unique(groups)}
            p /= np.array([totals[g] for g in groups])
        synthetic = self.synthetic[usable]
        if synthetic.any() and not synthetic.all():
            p[synthetic] *= self.synthetic_fraction / p[synthetic].sum()
            p[~synthetic] *= (1 - self.synthetic_fraction) / p[~synthetic].sum()
        p /= p.sum()
        picks = rng.choice(usable, size=n, p=p)
        x = np.empty((n, 1 + pipeline.n_context, window), dtype=np.float32)
        y = np.empty((n, window), dtype=np.float32)
        for j, i in enumerate(picks):
            stretch = 1.0 if stretch_range is None else float(
                np.exp(rng.uniform(*np.log(stretch_range))))
            stretch *= pipeline.time_factor(self.tau_decay_s[i])
            # A stretch of small numerator and denominator keeps the resampling filter short.
            stretch = float(Fraction(stretch).limit_denominator(10))
            span = min(round(window * stretch), lengths[i])
            start = rng.integers(0, lengths[i] - span + 1)
            trace = self.traces[i][start:start + span]
            target = self.targets[i][start:start + span]
            if span != window:
                trace, target = _stretch(trace, target, window)
            native = min(self.native_fps[i] * span / window, self.fps)
            rate = native if acquisition_rates is None else min(
                native, np.exp(rng.uniform(*np.log(acquisition_rates))))
            level = rng.uniform(*noise_levels) if noise_levels is not None else None
            x[j] = pipeline.normalise_window(self._acquire(trace, native, rate, level, rng),
                                             self.amplitude[i], self.tau_decay_s[i])
            y[j] = target
        return x, y, self.dataset[picks]

    def _acquire(self, trace: np.ndarray, native: float, rate: float, level: float | None,
                 rng: np.random.Generator) -> np.ndarray:
        """``trace`` (recorded at ``native`` Hz) as if recorded at ``rate`` with noise
        level ``level``, at :attr:`fps`."""
        if level is None and rate >= native:
            return trace
        if rate >= self.fps:
            return add_noise_to_level(trace, self.fps, level, rng)
        # A rate with a small ratio to fps keeps the polyphase filters short.
        rate = self.fps * float(Fraction(rate / self.fps).limit_denominator(12) or Fraction(1, 12))
        slow = resample_trace(trace, self.fps, rate)
        if level is not None:
            slow = add_noise_to_level(slow, rate, level, rng)
        return resample_trace(slow, rate, self.fps)[:len(trace)]

    def subset(self, keep: np.ndarray) -> TrainingSet:
        keep = np.asarray(keep)
        return TrainingSet([self.traces[i] for i in keep], [self.targets[i] for i in keep],
                           [self.neuron[i] for i in keep], self.dataset[keep],
                           self.dataset_names, self.fps, self.native_fps[keep],
                           self.synthetic[keep], self.synthetic_fraction, self.amplitude[keep],
                           self.tau_decay_s[keep])

    def join(self, synthetic: TrainingSet, fraction: float) -> TrainingSet:
        """This set plus the stretches of ``synthetic``, marked synthetic, drawn for
        ``fraction`` of the windows."""
        def both(name):
            return np.concatenate([getattr(self, name), getattr(synthetic, name)])

        return TrainingSet(self.traces + synthetic.traces, self.targets + synthetic.targets,
                           self.neuron + synthetic.neuron, both("dataset"), self.dataset_names,
                           self.fps, both("native_fps"),
                           np.concatenate([self.synthetic, np.ones(len(synthetic.traces), bool)]),
                           fraction, both("amplitude"), both("tau_decay_s"))


def _stretch(trace: np.ndarray, target: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``trace`` and ``target`` (spikes per frame) brought to ``n`` frames: the trace by
    anti-aliased resampling, the target by re-binning its cumulative count."""
    count = np.concatenate([[0.0], np.cumsum(target, dtype=np.float64)])
    edges = np.arange(n + 1) * len(trace) / n
    return (resample_trace(trace, len(trace), n),
            np.diff(np.interp(edges, np.arange(len(count)), count)))


def neuron_name(dataset: str, neuron_id: str) -> str:
    """The neuron a row records: rows ``"cell:1"``, ``"cell:2"`` (recordings of one
    cell) are one neuron, so that validation holds out whole neurons."""
    return f"{dataset}/{neuron_id.split(':')[0]}"


def make_training_set(data: list[TraceSet], pipeline: Pipeline, smoothing_s: float,
                      min_frames: int, dataset_names: list[str] | None = None) -> TrainingSet:
    """Every recording through ``pipeline``: resampled to its rate, each finite stretch of
    at least ``min_frames`` frames minus its running baseline, and, for a pipeline that
    normalises, the recording's own estimates. Targets are spike counts per frame
    smoothed by a Gaussian of ``smoothing_s`` seconds (their sum is unchanged)."""
    names = dataset_names or sorted({ts.dataset for ts in data})
    fps = pipeline.fps
    traces, targets, neuron, dataset, native_fps, amplitude, decay = [], [], [], [], [], [], []
    for ts in data:
        resampled = resample_traceset(ts, fps)
        counts = resampled.spike_counts()
        calibration = pipeline.calibrate(ts.traces, ts.fps)
        for row, (trace_row, count, nid) in enumerate(zip(resampled.traces, counts,
                                                          resampled.neuron_ids)):
            for start, stop in finite_runs(trace_row):
                if stop - start < min_frames:
                    continue
                target = np.nan_to_num(count[start:stop])
                if smoothing_s > 0:
                    target = ndimage.gaussian_filter1d(target, smoothing_s * fps, mode="constant")
                traces.append(pipeline.prepare(trace_row[start:stop], fps).astype(np.float32))
                targets.append(target.astype(np.float32))
                neuron.append(neuron_name(ts.dataset, nid))
                dataset.append(names.index(ts.dataset) if ts.dataset in names else -1)
                native_fps.append(ts.fps)
                amplitude.append(np.nan if calibration is None else calibration.amplitude[row])
                decay.append(np.nan if calibration is None else calibration.tau_decay_s)
    return TrainingSet(traces, targets, neuron, np.array(dataset, dtype=np.int64), names, fps,
                       np.array(native_fps, dtype=np.float64), amplitude=np.array(amplitude),
                       tau_decay_s=np.array(decay))
