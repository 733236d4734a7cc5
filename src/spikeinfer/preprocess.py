"""Preprocessing of recordings: baseline and dF/F, what a file holds (raw F, dF/F or
percent), resampling a TraceSet, added noise."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
from scipy import ndimage

from .data import TraceSet
from .exceptions import DataWarning
from .signals import (
    check_fps,
    compute_noise_level,
    compute_shot_noise_shape,
    fill_nan,
    noise_std,
    noise_std_for_level,
    resample_trace,
)


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
    padded = padded.reshape(raw.shape[0], n_blocks, step)
    gaps = np.isnan(padded).any(axis=2)
    blocks = np.median(padded, axis=2)  # nanmedian is slow; only blocks with NaN need it
    if gaps.any():
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks give NaN
            blocks[gaps] = np.nanmedian(padded[gaps], axis=1)
    blocks = fill_nan(blocks)
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


#: What a matrix of traces can hold (``--input-kind``).
INPUT_KINDS = ("auto", "dff", "raw", "percent")


def detect_input_kind(sample: np.ndarray, fps: float) -> tuple[str, str]:
    """What rows of traces hold, and why: ``"raw"`` fluorescence (a baseline above 1 and
    far above its noise; F/F0 too, which converts to the same dF/F), dF/F in ``"percent"`` (a baseline near zero with noise of more than
    0.5, implausible as a fraction), or ``"dff"``.

    Decided on the median over rows of the running baseline (8th percentile over 60 s)
    and of the noise std (median absolute frame difference).
    """
    sample = np.atleast_2d(np.asarray(sample, dtype=np.float64))
    rows = [r[np.isfinite(r)] for r in sample]
    rows = [r for r in rows if r.size > 10 and np.ptp(r) > 0]
    if not rows:
        return "dff", "no usable trace to tell"
    baseline = float(np.median([np.median(compute_baseline(r, fps)[0]) for r in rows]))
    noise = float(np.median([noise_std(r) for r in rows]))
    if baseline > 5 * noise and baseline > 1.0:  # F, or F/F0 (whose baseline is 1)
        return "raw", (f"its baseline ({baseline:.3g}) is {baseline / max(noise, 1e-12):.0f} "
                       "times its noise: raw fluorescence")
    if abs(baseline) < 5 * noise and noise > 0.5:
        return "percent", (f"its noise ({noise:.3g} per frame) is too large for a fraction: "
                           "dF/F in percent")
    return "dff", f"baseline {baseline:.3g}, noise {noise:.3g}: dF/F"


def to_dff(block: np.ndarray, fps: float, kind: str) -> np.ndarray:
    """Rows of ``kind`` (see :func:`detect_input_kind`) as dF/F."""
    if kind == "raw":
        return compute_dff(block, fps)
    if kind == "percent":
        return block / 100.0
    return block
