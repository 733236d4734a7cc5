"""Per-recording estimates from fluorescence alone: noise, baseline, decay and the dF/F of
one spike.

Every estimate is made on the trace as the networks see it: resampled to
:data:`ANALYSIS_FPS` with its running baseline subtracted (:func:`prepare_trace`), then
moved so that the neuron's resting level is zero (:func:`resting_level`).

- Noise: CASCADE's level nu at the recording's own rate, and the std of one frame.
- Decay: the time constant of an AR(1) calcium model that best explains the trace with
  sparse non-negative spikes: the joint maximum of ``1/2 |y - c|^2 + lambda |s|_1`` over
  the spikes (OASIS) and the decay, with ``lambda`` a fixed multiple of the noise std.
- Unitary amplitude: events are the clusters of the deconvolved signal; the same
  deconvolution of the negated trace, which holds no spikes, gives the sizes of events
  made by noise alone and sets the detection threshold. Event sizes above it are fitted
  by a mixture whose components sit at whole multiples of one amplitude (burst sizes
  geometric), and the fit's 95% profile-likelihood interval says how sure it is. Neurons
  are pooled per recording by a precision-weighted mean of log amplitudes, and each
  neuron's estimate is shrunk toward it.

How far these estimates agree with the same quantities fitted with the spikes known is
measured per ground-truth dataset in ``docs/calibration.md``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np
from joblib import effective_n_jobs
from oasis.oasis_methods import oasisAR1
from scipy import optimize, stats

from .preprocess import compute_baseline
from .signals import compute_noise_level, finite_runs, noise_std, resample_trace

#: Rate (Hz) at which estimates are made (the default network's rate).
ANALYSIS_FPS = 30.0
#: Decays searched (s).
DECAY_RANGE_S = (0.05, 8.0)
#: The sparsity weight of the decay fit, in units of the noise std.
DECAY_SPARSITY = 8.0
#: Neurons and minutes per neuron that the pooled decay is fitted on.
DECAY_NEURONS, DECAY_MINUTES = 32, 20.0
#: Minutes per neuron that the amplitude is fitted on.
AMPLITUDE_MINUTES = 30.0
#: Per-spike amplitude variability (coefficient of variation) of the quantal mixture.
AMPLITUDE_CV = 0.35
#: Largest burst size (spikes per event) in the mixture.
MAX_BURST = 12
#: Geometric burst-size parameters tried (probability of one more spike in a burst).
BURST_CONTINUE = (0.02, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
#: Deconvolved frames closer than this (s) are one event.
EVENT_GAP_S = 0.2
#: Fewest events above threshold for an amplitude fit.
MIN_EVENTS = 5
#: A neuron's amplitude counts as confident when its 95% interval is narrower than this
#: (a factor of e in amplitude).
CONFIDENT_WIDTH = 1.0
#: Smallest spread (log units) assumed between the amplitudes of one recording's neurons.
MIN_SPREAD = 0.2


def prepare_trace(trace: np.ndarray, fps: float, baseline_window_s: float | None = 60.0,
                  analysis_fps: float = ANALYSIS_FPS) -> np.ndarray:
    """One finite trace resampled to ``analysis_fps`` minus its running baseline."""
    return _prepare(trace, fps, baseline_window_s, analysis_fps)[0]


def _prepare(trace, fps, baseline_window_s, analysis_fps=ANALYSIS_FPS):
    """:func:`prepare_trace`, and the median of the running baseline (60 s where none
    is subtracted)."""
    y = resample_trace(trace, fps, analysis_fps)
    baseline = compute_baseline(y, analysis_fps, baseline_window_s or 60.0)[0]
    return (y - baseline if baseline_window_s else y), float(np.median(baseline))


def resting_level(y: np.ndarray, sigma: float) -> float:
    """The level of ``y`` where the neuron rests: the 10th percentile plus 1.28 noise stds
    (the 10th percentile of noise about it). The running baseline, a low percentile of
    block medians, sits below it; activity only adds to the upper frames."""
    return float(np.percentile(y, 10) + 1.2816 * sigma)


def _deconvolve(y: np.ndarray, tau_s: float, lam: float, fps: float):
    g = float(np.exp(-1.0 / (fps * tau_s)))
    c, s = oasisAR1(np.ascontiguousarray(y, dtype=np.float64), g, lam=lam)
    return c, s, g


def decay_objective(y: np.ndarray, sigma: float, tau_s: float, fps: float = ANALYSIS_FPS,
                    sparsity: float = DECAY_SPARSITY) -> float:
    """``1/2 |y - c|^2 + lambda |s|_1`` at its minimum over spikes, for decay ``tau_s``."""
    lam = sparsity * sigma
    c, s, _ = _deconvolve(y, tau_s, lam, fps)
    return 0.5 * float(np.sum((y - c) ** 2)) + lam * float(np.sum(s))


def estimate_decay(traces: list[np.ndarray], sigmas, fps: float = ANALYSIS_FPS,
                   sparsity: float = DECAY_SPARSITY) -> float:
    """The decay (s) minimising the summed objective of several traces (one recording).

    Each trace's objective is divided by its own noise variance, so that every neuron
    counts alike whatever its brightness.
    """
    pairs = [(y, s) for y, s in zip(traces, sigmas) if np.isfinite(s) and s > 0 and y.size > 8]
    if not pairs:
        return float("nan")

    def total(log_tau: float) -> float:
        return sum(decay_objective(y, s, float(np.exp(log_tau)), fps, sparsity) / s ** 2
                   for y, s in pairs)

    bounds = np.log(DECAY_RANGE_S)
    result = optimize.minimize_scalar(total, bounds=tuple(bounds), method="bounded",
                                      options={"xatol": 0.02})
    return float(np.exp(result.x))


def _event_sizes(y: np.ndarray, tau_s: float, lam: float, fps: float):
    """Sizes (dF/F) of the clusters of the deconvolved signal, frames less than
    :data:`EVENT_GAP_S` apart merged (a slow rise spreads one spike over several
    frames); the shrinkage of the L1 penalty is added back."""
    gap = max(1, int(round(EVENT_GAP_S * fps)))
    _, s, g = _deconvolve(y, tau_s, lam, fps)
    nz = np.flatnonzero(s > 1e-12)
    if not nz.size:
        return np.zeros(0)
    breaks = np.flatnonzero(np.diff(nz) > gap)
    starts, stops = np.r_[0, breaks + 1], np.r_[breaks + 1, nz.size]
    cumulative = np.r_[0.0, np.cumsum(s[nz])]
    return cumulative[stops] - cumulative[starts] + (stops - starts) * lam * (1 - g * g)


def _normal_pdf(x, mean, sd):
    """The normal density (scipy.stats.norm.pdf without its per-call overhead)."""
    z = (x - mean) / sd
    return np.exp(-0.5 * z * z) / (np.sqrt(2 * np.pi) * sd)


@dataclass(frozen=True)
class AmplitudeFit:
    """A quantal fit of one neuron's event sizes."""

    amplitude: float  # dF/F of one spike; NaN without enough events
    interval: tuple[float, float]  # 95% profile-likelihood interval
    n_events: int  # events above the noise threshold
    threshold: float  # dF/F

    @property
    def log_width(self) -> float:
        low, high = self.interval
        return float(np.log(high / low)) if np.isfinite(low) and low > 0 else float("inf")


def fit_amplitude(y: np.ndarray, sigma: float, tau_s: float, fps: float = ANALYSIS_FPS,
                  max_events: int = 600, native_fps: float | None = None,
                  native_sigma: float | None = None) -> AmplitudeFit:
    """The unitary amplitude of one baseline-subtracted trace by a quantal mixture.

    Event sizes above the 99th percentile of the noise-only sizes (and above three
    times the amplitude noise of an isolated event) are modelled as
    ``sum_n w_n N(n A, s_a^2 + n (cv A)^2)``, truncated at that threshold, plus the
    noise-only events that pass it (their density from the negated trace). For a
    recording slower than ``fps``, the amplitude noise is that of its own frames
    (``native_sigma`` at ``native_fps``): upsampling adds frames, not information.
    """
    nothing = AmplitudeFit(float("nan"), (float("nan"), float("nan")), 0, float("nan"))
    if not (np.isfinite(sigma) and sigma > 0 and np.isfinite(tau_s)):
        return nothing
    lam = sigma
    g = np.exp(-1.0 / (fps * tau_s))
    sigma_a = sigma * np.sqrt(1 - g * g)  # noise of an isolated event's least-squares size
    if native_fps is not None and native_sigma is not None and native_fps < fps:
        g_native = np.exp(-1.0 / (native_fps * tau_s))
        sigma_a = max(sigma_a, native_sigma * np.sqrt(1 - g_native ** 2))
    positive = _event_sizes(y, tau_s, lam, fps)
    negative = _event_sizes(-y, tau_s, lam, fps)
    threshold = max(float(np.percentile(negative, 99)) if negative.size > 20 else 0.0,
                    3 * sigma_a)
    sizes = positive[positive > threshold]
    false = negative[negative > threshold]
    if sizes.size < MIN_EVENTS:
        return AmplitudeFit(nothing.amplitude, nothing.interval, int(sizes.size), threshold)
    if sizes.size > max_events:  # the largest events add little and cost much
        sizes = np.sort(sizes)[:max_events]
    false_weight = min(false.size / sizes.size, 0.95)
    if false.size >= 3:
        bandwidth = max(float(np.std(false)) * false.size ** -0.2, sigma_a)
        noise_density = _normal_pdf(sizes[:, None], false[None, :], bandwidth).mean(axis=1)
    else:
        noise_density, false_weight = np.zeros_like(sizes), 0.0
    grid = np.geomspace(threshold * 0.5, max(np.percentile(sizes, 95), threshold), 60)
    n = np.arange(1, MAX_BURST + 1)
    mu = grid[:, None] * n  # (amplitude, burst size)
    sd = np.sqrt(sigma_a ** 2 + n * (AMPLITUDE_CV * grid[:, None]) ** 2)
    detected = stats.norm.sf((threshold - mu) / sd)  # (amplitude, n)
    density = _normal_pdf(sizes[None, :, None], mu[:, None, :], sd[:, None, :])
    loglik = np.full(grid.size, -np.inf)
    for p in BURST_CONTINUE:
        w = (1 - p) * p ** (n - 1)
        w = w / (w * detected).sum(axis=1, keepdims=True)  # observed events only
        mix = np.einsum("aen,an->ae", density, w)
        ll = np.log(false_weight * noise_density + (1 - false_weight) * mix + 1e-300).sum(axis=1)
        loglik = np.maximum(loglik, ll)
    best = int(np.argmax(loglik))
    inside = grid[loglik > loglik[best] - 2.0]
    return AmplitudeFit(float(grid[best]), (float(inside.min()), float(inside.max())),
                        int(sizes.size), threshold)


@dataclass(frozen=True)
class Calibration:
    """Estimates of one recording, per neuron (arrays of shape ``(n_neurons,)``) and pooled.

    ``amplitude`` is each neuron's unitary amplitude shrunk toward the recording's;
    ``amplitude_own`` and ``amplitude_interval`` are the neuron's own fit, NaN where it
    had too few events. ``confident`` marks neurons whose own fit is narrower than
    :data:`CONFIDENT_WIDTH`.
    """

    noise_level: np.ndarray
    noise_std: np.ndarray
    baseline: np.ndarray
    amplitude: np.ndarray
    amplitude_own: np.ndarray
    amplitude_interval: np.ndarray  # (n_neurons, 2)
    n_events: np.ndarray
    confident: np.ndarray
    tau_decay_s: float
    recording_amplitude: float
    amplitude_spread: float  # between neurons, log units
    n_confident: int
    meta: dict = field(default_factory=dict)

    @property
    def n_neurons(self) -> int:
        return self.noise_level.size

    def per_neuron(self) -> dict[str, np.ndarray]:
        """The per-neuron estimates by name (as written into outputs)."""
        return {"noise_level": self.noise_level, "noise_std": self.noise_std,
                "baseline": self.baseline, "amplitude": self.amplitude,
                "amplitude_own": self.amplitude_own,
                "amplitude_low": self.amplitude_interval[:, 0],
                "amplitude_high": self.amplitude_interval[:, 1],
                "n_events": self.n_events.astype(np.float64),
                "confident": self.confident.astype(np.float64)}

    def to_dict(self) -> dict:
        """JSON-ready: lists per neuron, numbers for the recording (NaN as None)."""
        def clean(v):
            if isinstance(v, np.ndarray):
                return [clean(x) for x in v.tolist()]
            if isinstance(v, list | tuple):
                return [clean(x) for x in v]
            if isinstance(v, float | np.floating):
                return float(v) if np.isfinite(v) else None
            if isinstance(v, np.bool_ | bool):
                return bool(v)
            return v
        return {k: clean(v) for k, v in asdict(self).items()}


def calibrate(traces: np.ndarray, fps: float, *, baseline_window_s: float | None = 60.0,
              tau_decay_s: float | None = None, prior: tuple[float, float] | None = None,
              random_state: int = 0, n_jobs: int | None = None) -> Calibration:
    """Estimates of every row of ``traces`` (dF/F at ``fps``), pooled over the rows.

    Parameters
    ----------
    traces : ndarray of shape (n_neurons, n_frames)
        NaN frames are ignored; each row's longest finite stretch is used.
    fps : float
        Frame rate in Hz.
    baseline_window_s : float or None, default=60.0
        Running-baseline window subtracted before estimating.
    tau_decay_s : float, default=None
        The recording's decay if known (e.g. from all its neurons when ``traces`` is a
        chunk of them); estimated from ``traces`` if None.
    prior : (amplitude, spread), default=None
        The recording's pooled dF/F of one spike and the spread between its neurons (log
        units), known from all its neurons: each neuron is shrunk toward it rather than
        toward the pool of ``traces``, so that a chunk's estimates do not depend on which
        neurons share it.
    random_state : int, default=0
        Seed of the choice of neurons the decay is fitted on.
    n_jobs : int, default=None
        Threads the rows are estimated on (None: one; -1: one per core). The estimates
        do not depend on it.
    """
    traces = np.atleast_2d(np.asarray(traces))
    n = traces.shape[0]
    map_rows = _row_mapper(n_jobs, n)
    keep = int(max(DECAY_MINUTES, AMPLITUDE_MINUTES) * 60 * ANALYSIS_FPS)

    def prepare(row):  # a row at a time, keeping only what the fits read: bounded memory
        row = np.asarray(row, dtype=np.float64)
        noise = compute_noise_level(row, fps)[0], noise_std(row)
        runs = finite_runs(row)
        start, stop = max(runs, key=lambda r: r[1] - r[0]) if runs else (0, 0)
        if stop - start < 2:
            return np.zeros(0), np.nan, np.nan, *noise
        y, level = _prepare(row[start:stop], fps, baseline_window_s)
        sigma = noise_std(y)
        return (y - resting_level(y, sigma))[:keep], level, sigma, *noise

    prepared, baseline, sigma, nu, native_sigma = zip(*map_rows(prepare, traces)) if n \
        else ((), (), (), (), ())
    baseline, sigma, nu, native_sigma = (np.array(v, dtype=np.float64) for v in
                                         (baseline, sigma, nu, native_sigma))

    rng = np.random.default_rng(random_state)
    usable = [i for i, y in enumerate(prepared) if y.size > 8 and np.isfinite(sigma[i])]
    chosen = sorted(rng.choice(usable, size=min(DECAY_NEURONS, len(usable)), replace=False)) \
        if usable else []
    limit = int(DECAY_MINUTES * 60 * ANALYSIS_FPS)
    tau = float(tau_decay_s) if tau_decay_s is not None else estimate_decay(
        [prepared[i][:limit] for i in chosen], sigma[chosen])

    limit = int(AMPLITUDE_MINUTES * 60 * ANALYSIS_FPS)

    def fit(i):
        if prepared[i].size > 8:
            return fit_amplitude(prepared[i][:limit], sigma[i], tau, native_fps=fps,
                                 native_sigma=native_sigma[i])
        return fit_amplitude(prepared[i], np.nan, tau)

    fits = list(map_rows(fit, range(n)))
    own = np.array([f.amplitude for f in fits])
    interval = np.array([f.interval for f in fits], dtype=np.float64).reshape(n, 2)
    width = np.array([f.log_width for f in fits])
    confident = np.isfinite(own) & (width < CONFIDENT_WIDTH)
    pooled, spread, shrunk = pool_amplitudes(own, width, prior)
    return Calibration(noise_level=nu, noise_std=sigma, baseline=baseline, amplitude=shrunk,
                       amplitude_own=own, amplitude_interval=interval,
                       n_events=np.array([f.n_events for f in fits]), confident=confident,
                       tau_decay_s=tau, recording_amplitude=pooled, amplitude_spread=spread,
                       n_confident=int(confident.sum()),
                       meta={"analysis_fps": ANALYSIS_FPS, "decay_neurons": len(chosen)})


def _row_mapper(n_jobs: int | None, n_rows: int):
    """``map`` over rows, on ``n_jobs`` threads (the numerical work releases the GIL)."""
    workers = min(effective_n_jobs(n_jobs), n_rows)
    if workers <= 1:
        return map

    def threaded(fn, items):
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(fn, items))
    return threaded


def pool_amplitudes(own: np.ndarray, log_width: np.ndarray,
                    prior: tuple[float, float] | None = None) -> tuple[float, float, np.ndarray]:
    """The recording's amplitude, the spread between its neurons (log units) and each
    neuron's amplitude shrunk toward the recording's.

    A neuron's standard error is a quarter of its 95% interval's log width; the pooled
    value is the precision-weighted mean of log amplitudes (a random-effects mean with
    the between-neuron spread estimated robustly), or ``prior`` (amplitude, spread) when
    given; a neuron without a fit gets the pooled value, and all get NaN when there is
    none.
    """
    ok = np.isfinite(own) & np.isfinite(log_width) & (own > 0)
    shrunk = np.full(own.shape, np.nan)
    if prior is not None and not np.all(np.isfinite(prior)):
        return float("nan"), float("nan"), shrunk
    if prior is None and not ok.any():
        return float("nan"), float("nan"), shrunk
    log_a = np.log(own[ok])
    se = np.maximum(log_width[ok] / 4, 0.02)
    if prior is not None:
        pooled, spread = float(np.log(prior[0])), float(prior[1])
    else:
        centre = np.median(log_a)
        spread = max(1.4826 * float(np.median(np.abs(log_a - centre))), MIN_SPREAD) \
            if ok.sum() > 2 else MIN_SPREAD
        weights = 1.0 / (se ** 2 + spread ** 2)
        pooled = float(np.sum(weights * log_a) / np.sum(weights))
    shrunk[:] = np.exp(pooled)
    own_weight = 1.0 / se ** 2
    prior_weight = 1.0 / spread ** 2
    shrunk[ok] = np.exp((own_weight * log_a + prior_weight * pooled) / (own_weight + prior_weight))
    return float(np.exp(pooled)), spread, shrunk
