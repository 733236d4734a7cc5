"""Preprocessing: dF/F, resampling between frame rates, spike binning, noise level."""

from __future__ import annotations

import warnings
from dataclasses import replace
from fractions import Fraction

import numpy as np
from scipy import ndimage, signal

from .data import TraceSet, check_fps
from .exceptions import DataWarning
from .simulate import compute_shot_noise_shape, noise_std_for_level


def compute_baseline(traces: np.ndarray, fps: float, window_s: float = 60.0,
                     percentile: float = 8.0) -> np.ndarray:
    """Running percentile of each row: the fluorescence baseline F0.

    The percentile is taken over a sliding window of ``window_s`` seconds on a
    copy of the trace reduced to medians of blocks of about 1/50 window, then
    interpolated back, so that long recordings stay fast.

    Parameters
    ----------
    traces : ndarray of shape (n_neurons, n_frames)
        NaN frames are ignored.
    fps : float
        Frame rate in Hz.
    window_s : float, default=60.0
        Length of the baseline window in seconds.
    percentile : float, default=8.0
        Percentile within the window taken as baseline.
    """
    fps = check_fps(fps)
    raw = np.atleast_2d(np.asarray(traces, dtype=np.float64))
    n_frames = raw.shape[1]
    window = max(int(round(window_s * fps)), 1)
    step = max(window // 50, 1)
    n_blocks = int(np.ceil(n_frames / step))
    padded = np.full((raw.shape[0], n_blocks * step), np.nan)
    padded[:, :n_frames] = raw
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks give NaN
        blocks = np.nanmedian(padded.reshape(raw.shape[0], n_blocks, step), axis=2)
    blocks = _fill_nan(blocks)
    size = max(int(round(window / step)), 1)
    baseline_blocks = ndimage.percentile_filter(blocks, percentile, size=(1, size), mode="nearest")
    centers = (np.arange(n_blocks) + 0.5) * step - 0.5
    frames = np.arange(n_frames)
    return np.stack([np.interp(frames, centers, b) for b in baseline_blocks])


def compute_dff(raw: np.ndarray, fps: float, window_s: float = 60.0,
                percentile: float = 8.0) -> np.ndarray:
    """dF/F = (F - F0) / F0 with F0 the running percentile of :func:`compute_baseline`.

    Parameters
    ----------
    raw : ndarray of shape (n_neurons, n_frames)
        Raw fluorescence (positive). NaN frames are ignored and stay NaN.
    fps : float
        Frame rate in Hz.
    window_s : float, default=60.0
        Length of the baseline window in seconds.
    percentile : float, default=8.0
        Percentile of F within the window taken as baseline.
    """
    raw = np.atleast_2d(np.asarray(raw, dtype=np.float64))
    baseline = compute_baseline(raw, fps, window_s, percentile)
    scale = np.nanmedian(np.abs(raw), axis=1, keepdims=True)
    low = np.nanmin(baseline, axis=1, keepdims=True) <= 0.01 * scale
    if np.any(low):
        warnings.warn(f"{int(low.sum())} traces have a baseline near or below zero (e.g. after "
                      "neuropil subtraction); their dF/F is unreliable", DataWarning, stacklevel=2)
    with np.errstate(all="ignore"):
        return (raw - baseline) / np.abs(baseline)


def _fill_nan(x: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN along the last axis (all-NaN rows become 0)."""
    x = np.array(x, dtype=np.float64, copy=True)
    idx = np.arange(x.shape[-1])
    for row in x.reshape(-1, x.shape[-1]):
        ok = np.isfinite(row)
        if ok.all():
            continue
        row[~ok] = np.interp(idx[~ok], idx[ok], row[ok]) if ok.any() else 0.0
    return x


def resample_trace(trace: np.ndarray, fps_in: float, fps_out: float) -> np.ndarray:
    """Resample one 1-D trace with an anti-aliasing polyphase filter.

    NaN frames are interpolated over for filtering and are NaN again in the
    output wherever the output frame falls in a NaN stretch of the input.
    Output length is ``ceil(len(trace) * fps_out / fps_in)``.
    """
    fps_in, fps_out = check_fps(fps_in), check_fps(fps_out)
    trace = np.asarray(trace, dtype=np.float64)
    if fps_in == fps_out:
        return trace.copy()
    ratio = Fraction(fps_out / fps_in).limit_denominator(1000)
    n_out = int(np.ceil(len(trace) * fps_out / fps_in - 1e-9))
    if len(trace) == 0:
        return np.zeros(0)
    missing = ~np.isfinite(trace)
    if missing.all():
        return np.full(n_out, np.nan)
    filled = _fill_nan(trace)
    if len(trace) < 2:
        out = np.full(n_out, filled[0])
    else:
        out = signal.resample_poly(filled, ratio.numerator, ratio.denominator, padtype="line")
        out = _fit_length(out, n_out)
    if missing.any():
        src = np.minimum(np.round(np.arange(n_out) * fps_in / fps_out).astype(int), len(trace) - 1)
        out[missing[src]] = np.nan
    return out


def _fit_length(x: np.ndarray, n: int) -> np.ndarray:
    if len(x) >= n:
        return x[:n]
    return np.concatenate([x, np.full(n - len(x), x[-1])])


def resample_traceset(ts: TraceSet, fps_out: float) -> TraceSet:
    """The same recordings at another frame rate; spike times are unchanged."""
    fps_out = check_fps(fps_out)
    if fps_out == ts.fps:
        return ts
    lengths = np.ceil(ts.lengths * fps_out / ts.fps - 1e-9).astype(np.int64)
    traces = np.full((ts.n_neurons, int(lengths.max(initial=0))), np.nan)
    for i, n in enumerate(ts.lengths):
        traces[i, :lengths[i]] = resample_trace(ts.traces[i, :n], ts.fps, fps_out)
    return replace(ts, traces=traces, fps=fps_out, lengths=lengths)


def bin_spike_times(spike_times: np.ndarray, fps: float, n_frames: int) -> np.ndarray:
    """Spikes per frame: frame ``k`` counts spikes in ``[(k - 0.5) / fps, (k + 0.5) / fps)``.

    Spikes outside the ``n_frames`` frames are dropped.
    """
    fps = check_fps(fps)
    spikes = np.asarray(spike_times, dtype=np.float64).ravel()
    frames = np.floor(spikes[np.isfinite(spikes)] * fps + 0.5).astype(np.int64)
    frames = frames[(frames >= 0) & (frames < n_frames)]
    return np.bincount(frames, minlength=n_frames).astype(np.float64)


def counts_to_spike_times(counts: np.ndarray, fps: float) -> np.ndarray:
    """Spike times (s) from spikes per frame: ``c`` spikes at frame ``k`` are ``c`` times ``k / fps``.

    Non-integer counts are rounded; NaN frames hold no spikes.
    """
    fps = check_fps(fps)
    counts = np.nan_to_num(np.asarray(counts, dtype=np.float64).ravel(), nan=0.0)
    reps = np.rint(np.clip(counts, 0, None)).astype(np.int64)
    return np.repeat(np.arange(len(counts)), reps) / fps


def compute_noise_level(traces: np.ndarray, fps: float) -> np.ndarray:
    """CASCADE's noise level nu = median(|diff(dF/F)|) / sqrt(fps) * 100, per row.

    NaN frames are ignored; a row with fewer than two finite frames gives NaN.
    """
    fps = check_fps(fps)
    traces = np.atleast_2d(np.asarray(traces, dtype=np.float64))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN
        return np.nanmedian(np.abs(np.diff(traces, axis=1)), axis=1) / np.sqrt(fps) * 100


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
    shape = compute_shot_noise_shape(trace)
    extra = np.sqrt(target_level ** 2 - current ** 2)
    return trace + rng.normal(0.0, noise_std_for_level(extra, fps), trace.shape) * shape
