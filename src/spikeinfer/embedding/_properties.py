"""Statistical properties of fluorescence traces, per neuron, at a common frame rate.

Each trace is resampled to :data:`PROPERTY_FPS` (8 Hz) before its properties are
computed, so that every dataset is seen through the same band (0-4 Hz) and with
the same frame duration: a 500 Hz recording then looks as noisy as its noise
level really is at 8 Hz, not as noisy as each of its 2 ms frames. 8 Hz is just
above the slowest ground truth (7.5-7.8 Hz, whose traces are barely upsampled),
its Nyquist frequency (4 Hz) lies above the highest frequency read from the
power spectrum (3.6 Hz), and the autocorrelation lags (0.5, 1, 2 s) are whole
frames. Only the noise level nu is computed at the original rate: by its
definition (CASCADE's) it is per square-root hertz and so already comparable
across rates.
"""

from __future__ import annotations

import numpy as np
from scipy import signal, stats

from ..signals import check_fps, compute_noise_level, resample_trace

#: Rate (Hz) at which every property but the noise level is computed.
PROPERTY_FPS = 8.0
#: Lags (s) of the autocorrelation.
AUTOCORR_LAGS_S = (0.5, 1.0, 2.0)
#: Orders q of the generalised Hurst exponent H(q).
HURST_ORDERS = (1, 2, 3, 4, 5)
#: Lags (frames at PROPERTY_FPS, 0.125-2 s) over which H(q) is fitted.
HURST_LAGS = (1, 2, 3, 4, 6, 8, 11, 16)
#: Frequencies (Hz) at which the normalised power spectral density is read.
PSD_FREQUENCIES_HZ = (0.1, 0.2, 0.4, 0.8, 1.2, 1.6, 2.4, 3.6)
#: Shortest trace (s) whose properties are computed; shorter rows give NaN.
MIN_DURATION_S = 8.0
# Relative power density floor (per Hz), so that a band a slow recording cannot hold
# gives a finite log.
_PSD_FLOOR = 1e-6

PROPERTY_NAMES = (
    ("log10_variance", "log10_kurtosis", "skewness")
    + tuple(f"autocorr_{lag:g}s" for lag in AUTOCORR_LAGS_S)
    + tuple(f"hurst_{q}" for q in HURST_ORDERS)
    + tuple(f"log10_psd_{f:g}hz" for f in PSD_FREQUENCIES_HZ)
    + ("noise_level",)
)


def compute_properties(traces: np.ndarray, fps: float) -> np.ndarray:
    """Statistical properties of each trace (the seed's "statistical embedding" features).

    Every trace is cut to its finite stretch (leading and trailing NaN dropped,
    inner NaN frames interpolated over), resampled to :data:`PROPERTY_FPS`, and
    described by (in the order of :data:`PROPERTY_NAMES`):

    - ``log10_variance``: log10 of the variance of dF/F;
    - ``log10_kurtosis``: log10 of Pearson's kurtosis (3 for a Gaussian);
    - ``skewness``;
    - ``autocorr_0.5s``, ``autocorr_1s``, ``autocorr_2s``: autocorrelation at these lags;
    - ``hurst_1`` ... ``hurst_5``: generalised Hurst exponents H(q), from
      E|x(t + tau) - x(t)|^q ~ tau^(q H(q)) over tau = 0.125-2 s (0 for white noise,
      0.5 for a random walk);
    - ``log10_psd_0.1hz`` ... ``log10_psd_3.6hz``: log10 of the power spectral
      density (Welch) divided by the total power, i.e. the fraction of the variance
      per hertz, at 8 frequencies from 0.1 to 3.6 Hz; NaN at frequencies above 0.45
      times the original rate, which a slow recording cannot hold (upsampling leaves
      them empty, and frame rate alone would then set them);
    - ``noise_level``: CASCADE's nu at the original rate
      (:func:`spikeinfer.signals.compute_noise_level`).

    Variance and kurtosis are on a log scale because they span orders of magnitude
    across datasets and would otherwise dominate any average or distance.

    Parameters
    ----------
    traces : ndarray of shape (n_neurons, n_frames)
        dF/F; NaN padding allowed.
    fps : float
        Frame rate in Hz.

    Returns
    -------
    ndarray of shape (n_neurons, len(PROPERTY_NAMES))
        A row is NaN where the trace has fewer than :data:`MIN_DURATION_S` seconds
        of finite frames or is constant.

    Examples
    --------
    >>> from spikeinfer.simulate import simulate_recording
    >>> rec = simulate_recording(n_neurons=3, duration_s=120, fps=30, random_state=0)
    >>> compute_properties(rec.traces, rec.fps).shape
    (3, 20)
    """
    fps = check_fps(fps)
    traces = np.atleast_2d(np.asarray(traces, dtype=np.float64))
    if traces.ndim != 2:
        raise ValueError(f"traces must be 2-D (n_neurons, n_frames), got shape {traces.shape}")
    out = np.full((traces.shape[0], len(PROPERTY_NAMES)), np.nan)
    for i, row in enumerate(traces):
        trace = _finite_stretch(row)
        if len(trace) < MIN_DURATION_S * fps or np.ptp(trace) == 0:
            continue
        nu = float(compute_noise_level(trace, fps)[0])
        x = resample_trace(trace, fps, PROPERTY_FPS)
        psd = compute_relative_psd(x, PROPERTY_FPS)
        psd[np.array(PSD_FREQUENCIES_HZ) > 0.45 * fps] = np.nan
        out[i] = np.concatenate([_moments(x), compute_autocorrelation(x, PROPERTY_FPS),
                                 compute_hurst_exponents(x), psd, [nu]])
    return out


def _finite_stretch(row: np.ndarray) -> np.ndarray:
    """From the first to the last finite frame, inner NaN linearly interpolated."""
    finite = np.flatnonzero(np.isfinite(row))
    if finite.size == 0:
        return np.zeros(0)
    row = row[finite[0]:finite[-1] + 1]
    ok = np.isfinite(row)
    if not ok.all():
        idx = np.arange(len(row))
        row = row.copy()
        row[~ok] = np.interp(idx[~ok], idx[ok], row[ok])
    return row


def _moments(x: np.ndarray) -> np.ndarray:
    return np.array([np.log10(np.var(x)), np.log10(stats.kurtosis(x, fisher=False)),
                     stats.skew(x)])


def compute_autocorrelation(x: np.ndarray, fps: float,
                            lags_s: tuple[float, ...] = AUTOCORR_LAGS_S) -> np.ndarray:
    """Autocorrelation of a 1-D trace at the given lags (s), rounded to whole frames:
    sum of (x(t) - m)(x(t + k) - m) over t, divided by the sum of (x(t) - m)^2."""
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    energy = np.dot(x, x)
    out = []
    for lag_s in lags_s:
        k = round(lag_s * fps)
        out.append(np.dot(x[:-k], x[k:]) / energy if 0 < k < len(x) and energy > 0 else np.nan)
    return np.array(out)


def compute_hurst_exponents(x: np.ndarray, orders: tuple[int, ...] = HURST_ORDERS,
                            lags: tuple[int, ...] = HURST_LAGS) -> np.ndarray:
    """Generalised Hurst exponents H(q) of a 1-D trace (Di Matteo 2007).

    The q-th moment of the increments over ``tau`` frames scales as tau^(q H(q));
    H(q) is the least-squares slope of log E|x(t + tau) - x(t)|^q against log tau,
    divided by q. White noise gives H = 0 (increments do not grow with the lag), a
    random walk H = 0.5, a smooth trend H = 1.
    """
    x = np.asarray(x, dtype=np.float64)
    lags = np.array([k for k in lags if k < len(x)])
    if len(lags) < 2:
        return np.full(len(orders), np.nan)
    log_tau = np.log(lags)
    increments = [np.abs(x[k:] - x[:-k]) for k in lags]
    out = []
    for q in orders:
        moments = np.array([np.mean(d ** q) for d in increments])
        if np.any(moments <= 0):
            out.append(np.nan)
            continue
        slope = np.polyfit(log_tau, np.log(moments), 1)[0]
        out.append(slope / q)
    return np.array(out)


def compute_relative_psd(x: np.ndarray, fps: float,
                         frequencies_hz: tuple[float, ...] = PSD_FREQUENCIES_HZ) -> np.ndarray:
    """log10 of the Welch power spectral density divided by the total power (so the
    fraction of the variance per hertz) at the given frequencies, linearly
    interpolated between Welch's; floored at 1e-6 per Hz."""
    x = np.asarray(x, dtype=np.float64)
    nperseg = min(len(x), round(32 * fps))  # 32 s segments: 0.03 Hz resolution
    f, p = signal.welch(x, fps, nperseg=nperseg, detrend="constant")
    total = p.sum() * (f[1] - f[0]) if len(f) > 1 else 0.0
    if not total > 0:
        return np.full(len(frequencies_hz), np.nan)
    density = np.interp(frequencies_hz, f, p / total, right=0.0)
    return np.log10(np.maximum(density, _PSD_FLOOR))
