"""Array helpers every layer uses: frame rates, finite stretches, resampling, spike binning,
noise measures and binned correlation.

This module imports nothing of the package but its exceptions, so that every other
module can import it.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
from scipy import signal

from .exceptions import InputError

#: The median of ``|z|`` for a standard normal ``z``.
MEDIAN_ABS_NORMAL = 0.6744897501960817
#: Bin (s) of the Spikefinder scores: 4 frames at 100 Hz.
BIN_S = 0.04


def check_fps(fps, where: str = "") -> float:
    """Validate a frame rate in Hz; the one place that decides what is absurd."""
    if fps is None:
        raise InputError(f"{where}the frame rate is unknown; pass --fps (Hz)")
    try:
        fps = float(fps)
    except (TypeError, ValueError):
        raise InputError(f"{where}frame rate {fps!r} is not a number") from None
    if not np.isfinite(fps) or not 0.5 <= fps <= 10_000:
        raise InputError(f"{where}frame rate {fps:g} Hz is outside 0.5-10000 Hz")
    return fps


def finite_runs(row: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each stretch of finite values in a 1-D array."""
    finite = np.concatenate([[False], np.isfinite(row), [False]])
    edges = np.flatnonzero(np.diff(finite.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def fill_nan(x: np.ndarray) -> np.ndarray:
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
    filled = fill_nan(trace)
    if len(trace) < 2:
        out = np.full(n_out, filled[0])
    else:
        out = signal.resample_poly(filled, ratio.numerator, ratio.denominator, padtype="line")
        out = out[:n_out] if len(out) >= n_out else np.concatenate(
            [out, np.full(n_out - len(out), out[-1])])
    if missing.any():
        src = np.minimum(np.round(np.arange(n_out) * fps_in / fps_out).astype(int), len(trace) - 1)
        out[missing[src]] = np.nan
    return out


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


def frames_per_bin(fps: float, bin_s: float = BIN_S) -> int:
    """Whole frames summed per bin: the number closest to ``bin_s`` seconds (4 at 100 Hz)."""
    return max(1, int(round(bin_s * check_fps(fps))))


def bin_frames(x: np.ndarray, fps: float, bin_s: float = BIN_S) -> np.ndarray:
    """Sum consecutive frames into bins of whole frames (about ``bin_s`` seconds each);
    an incomplete last bin is dropped. Equal bins keep independent signals uncorrelated,
    which bins of unequal frame counts would not."""
    k = frames_per_bin(fps, bin_s)
    x = np.asarray(x, dtype=np.float64)
    n_bins = len(x) // k
    return x[: n_bins * k].reshape(n_bins, k).sum(axis=1)


def binned_correlation(prediction: np.ndarray, truth: np.ndarray, fps: float,
                       bin_s: float = BIN_S) -> float:
    """Pearson correlation of two signals summed into bins of about ``bin_s`` (NaN where
    either is constant): the Spikefinder ``corr`` of one neuron."""
    a, b = bin_frames(prediction, fps, bin_s), bin_frames(truth, fps, bin_s)
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def compute_noise_level(traces: np.ndarray, fps: float) -> np.ndarray:
    """CASCADE's noise level ``nu = median(|diff(dF/F)|) / sqrt(fps) * 100``, per row.

    NaN frames are ignored; a row with fewer than two finite frames gives NaN.
    """
    fps = check_fps(fps)
    traces = np.atleast_2d(np.asarray(traces, dtype=np.float64))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN
        return np.nanmedian(np.abs(np.diff(traces, axis=1)), axis=1) / np.sqrt(fps) * 100


def noise_std(x: np.ndarray) -> float | np.ndarray:
    """Std of white noise with the median absolute frame difference of ``x`` along its last
    axis (robust to spikes): ``median(|diff|) / (sqrt(2) * 0.6745)``. NaN frames are ignored."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scale = np.nanmedian(np.abs(np.diff(np.asarray(x, dtype=np.float64), axis=-1)), axis=-1)
    return scale / (np.sqrt(2.0) * MEDIAN_ABS_NORMAL)


def noise_std_for_level(noise_level: float, fps: float) -> float:
    """Std of white Gaussian noise whose CASCADE noise level nu equals ``noise_level``.

    For white noise of std ``s``, ``median(|diff|) = s * sqrt(2) * 0.6745``, and
    ``nu = median(|diff|) / sqrt(fps) * 100``.
    """
    return noise_level * np.sqrt(fps) / 100.0 / (np.sqrt(2.0) * MEDIAN_ABS_NORMAL)


def compute_shot_noise_shape(dff: np.ndarray) -> np.ndarray:
    """Relative noise std per frame of shot noise, sqrt(1 + dF/F) (floored at sqrt(0.1)),
    divided by its median per row."""
    shape = np.sqrt(np.maximum(1.0 + dff, 0.1))
    return shape / np.median(shape, axis=-1, keepdims=True)
