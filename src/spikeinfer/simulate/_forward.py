"""Forward model: spike times -> calcium -> dF/F with saturation, drift, neuropil and noise."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import ndimage, signal

from ..data import TraceSet
from ..exceptions import InputError
from ..signals import check_fps, compute_noise_level, compute_shot_noise_shape
from ._indicators import get_indicator_preset
from ._spikes import simulate_spike_times

# Without an indicator, simulate_recording uses these (its defaults before presets existed).
GENERIC_PARAMETERS = {"tau_rise_s": 0.05, "tau_decay_s": 0.8, "amplitude": 0.5,
                      "saturation": None}
# The neuropil background is the mean dF/F of this many unobserved neurons.
_N_BACKGROUND_NEURONS = 20


def compute_kernel_peak(tau_rise_s: float, tau_decay_s: float) -> float:
    """Maximum over t of exp(-t / tau_decay_s) - exp(-t / tau_rise_s)."""
    if tau_rise_s == 0:
        return 1.0
    t_peak = np.log(tau_decay_s / tau_rise_s) * tau_rise_s * tau_decay_s / (
        tau_decay_s - tau_rise_s)
    return float(np.exp(-t_peak / tau_decay_s) - np.exp(-t_peak / tau_rise_s))


def double_exponential_kernel(fps: float, tau_rise_s: float, tau_decay_s: float,
                              length_s: float | None = None) -> np.ndarray:
    """Response to one spike at time 0 sampled at ``k / fps``; the continuous-time peak is 1,
    so at low frame rates the largest sample is below 1."""
    _check_kinetics(tau_rise_s, tau_decay_s)
    length_s = length_s or 8 * tau_decay_s
    t = np.arange(int(np.ceil(length_s * fps))) / fps
    rise = np.exp(-t / tau_rise_s) if tau_rise_s > 0 else (t == 0).astype(float)
    return (np.exp(-t / tau_decay_s) - rise) / compute_kernel_peak(tau_rise_s, tau_decay_s)


def compute_exponential_trace(spike_times: np.ndarray, fps: float, n_frames: int, tau_s: float,
                              weights: np.ndarray | None = None) -> np.ndarray:
    """sum over spikes s < t of w_s * exp(-(t - s) / tau_s) at the frame times t = k / fps.

    Exact for any sub-frame spike time: each spike enters at the first frame after it
    with its decay to that frame, then a first-order recursive filter carries it on.
    Spikes before time 0 count from frame 0; spikes after the last frame are dropped.
    """
    spikes = np.asarray(spike_times, dtype=np.float64)
    weights = np.ones_like(spikes) if weights is None else np.asarray(weights, dtype=np.float64)
    first_frame = np.maximum(np.floor(spikes * fps).astype(np.int64) + 1, 0)
    keep = first_frame < n_frames
    first_frame, spikes, weights = first_frame[keep], spikes[keep], weights[keep]
    entry = weights * np.exp(-(first_frame / fps - spikes) / tau_s)
    inputs = np.bincount(first_frame, weights=entry, minlength=n_frames)
    return signal.lfilter([1.0], [1.0, -np.exp(-1.0 / (fps * tau_s))], inputs)


def compute_calcium(spike_times: np.ndarray, fps: float, n_frames: int, tau_rise_s: float,
                    tau_decay_s: float, weights: np.ndarray | None = None) -> np.ndarray:
    """Sum of double-exponential transients (continuous peak 1 per unit weight) evaluated at
    the frame times from exact spike times, so the same kinetics hold at any frame rate."""
    calcium = compute_exponential_trace(spike_times, fps, n_frames, tau_decay_s, weights)
    if tau_rise_s > 0:
        calcium -= compute_exponential_trace(spike_times, fps, n_frames, tau_rise_s, weights)
    return calcium / compute_kernel_peak(tau_rise_s, tau_decay_s)


def apply_saturation(dff: np.ndarray, saturation: float | None) -> np.ndarray:
    """``dff / (1 + dff / saturation)``: half of linear at ``dff = saturation``, never above
    ``saturation``. ``None`` or infinity leaves ``dff`` linear."""
    if saturation is None or np.isinf(saturation):
        return dff
    return dff / (1.0 + dff / saturation)


def simulate_drift(n_neurons: int, fps: float, n_frames: int, timescale_s: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Slow zero-mean fluctuations of unit std: white noise on a 1 s grid smoothed by a
    Gaussian of ``timescale_s`` seconds, interpolated to the frames."""
    n_seconds = int(np.ceil(n_frames / fps)) + 1
    coarse = ndimage.gaussian_filter1d(rng.standard_normal((n_neurons, n_seconds)),
                                       timescale_s, axis=1, mode="reflect")
    coarse /= np.sqrt(1.0 / (2.0 * np.sqrt(np.pi) * timescale_s))  # std of smoothed white noise
    frame_times = np.arange(n_frames) / fps
    return np.stack([np.interp(frame_times, np.arange(n_seconds), row) for row in coarse])


def scale_noise_to_level(clean: np.ndarray, noise: np.ndarray, fps: float, noise_level: float,
                         max_iter: int = 20, rtol: float = 1e-3) -> np.ndarray:
    """``clean + s * noise`` with ``s`` per row such that the measured CASCADE noise level
    (:func:`spikeinfer.signals.compute_noise_level`) equals ``noise_level``.

    The signal contributes to the measured level too (its frame-to-frame changes), so
    ``s`` is found by fixed-point iteration on the whole trace, starting from the std
    that white noise alone would need.
    """
    clean = np.atleast_2d(clean)
    noise = np.atleast_2d(noise)
    if noise_level == 0:
        return clean.copy()
    unit = compute_noise_level(noise, fps)  # level of the noise alone at s = 1
    scale = noise_level / unit
    for _ in range(max_iter):
        measured = compute_noise_level(clean + scale[:, None] * noise, fps)
        if np.all(np.abs(measured / noise_level - 1) < rtol):
            break
        scale *= noise_level / measured
    else:
        worst = float(np.max(measured))
        warnings.warn(f"noise level {noise_level:g} not reached (signal alone is at up to "
                      f"{worst:.3g}); the traces are noisier", stacklevel=3)
    return clean + scale[:, None] * noise


def simulate_fluorescence(spike_times, fps: float, n_frames: int, *,
                          tau_rise_s: float = 0.05, tau_decay_s: float = 0.8,
                          amplitude: float = 0.5, amplitude_cv: float = 0.0,
                          saturation: float | None = None, drift_dff: float = 0.0,
                          drift_timescale_s: float = 60.0, neuropil: float = 0.0,
                          noise_level: float = 2.0, shot_noise: float = 0.0,
                          random_state: int | np.random.Generator | None = None) -> np.ndarray:
    """dF/F traces of neurons firing at the given spike times.

    Each spike adds a double-exponential transient of peak ``amplitude`` times a
    lognormal factor (mean 1, coefficient of variation ``amplitude_cv``); the sum
    saturates (:func:`apply_saturation`); a slow drift of std ``drift_dff`` and a
    neuropil background shared by all neurons (the mean dF/F of unobserved neurons
    of the same indicator and firing rate, times ``neuropil``) are added; then noise,
    a mix of shot-like noise (std grows like sqrt(1 + dF/F)) and Gaussian noise,
    scaled so that each trace's CASCADE noise level nu
    (:func:`spikeinfer.signals.compute_noise_level`) equals ``noise_level``.

    Parameters
    ----------
    spike_times : sequence of ndarray
        Spike times in seconds, one array per neuron (e.g. real ground truth).
    fps : float
        Frame rate in Hz; frame ``k`` is at ``k / fps`` seconds.
    n_frames : int
    tau_rise_s, tau_decay_s : float, default=0.05, 0.8
        Rise and decay time constants of the transient (seconds).
    amplitude : float, default=0.5
        Peak dF/F of one isolated spike before saturation.
    amplitude_cv : float, default=0.0
        Coefficient of variation of the per-spike amplitude.
    saturation : float, default=None
        dF/F at which the response is half of linear; None is linear.
    drift_dff : float, default=0.0
        Std of the slow baseline drift (dF/F).
    drift_timescale_s : float, default=60.0
    neuropil : float, default=0.0
        Coefficient of the shared neuropil background.
    noise_level : float, default=2.0
        CASCADE noise level nu (% per sqrt(Hz)) of the result; 0 for no noise.
    shot_noise : float, default=0.0
        Fraction of the noise variance (at baseline) that is shot-like, in [0, 1].
    random_state : int or numpy Generator, default=None

    Returns
    -------
    ndarray of shape (n_neurons, n_frames)
    """
    fps = check_fps(fps)
    _check_kinetics(tau_rise_s, tau_decay_s)
    _check_parameters(amplitude=amplitude, amplitude_cv=amplitude_cv, drift_dff=drift_dff,
                      neuropil=neuropil, noise_level=noise_level)
    if saturation is not None and not saturation > 0:
        raise InputError(f"saturation={saturation!r} must be positive (None for linear)")
    if not 0 <= shot_noise <= 1:
        raise InputError(f"shot_noise={shot_noise!r} must be in [0, 1]")
    if not drift_timescale_s > 0:
        raise InputError(f"drift_timescale_s={drift_timescale_s!r} must be positive")
    rng = np.random.default_rng(random_state)
    spike_times = [np.asarray(s, dtype=np.float64).ravel() for s in spike_times]
    n_neurons = len(spike_times)
    traces = np.empty((n_neurons, n_frames))
    for i, spikes in enumerate(spike_times):
        weights = None
        if amplitude_cv > 0:
            sigma2 = np.log1p(amplitude_cv ** 2)  # lognormal with mean 1
            weights = rng.lognormal(-sigma2 / 2, np.sqrt(sigma2), spikes.size)
        calcium = compute_calcium(spikes, fps, n_frames, tau_rise_s, tau_decay_s, weights)
        traces[i] = apply_saturation(amplitude * calcium, saturation)
    if drift_dff > 0:
        traces += drift_dff * simulate_drift(n_neurons, fps, n_frames, drift_timescale_s, rng)
    if neuropil > 0:
        duration_s = n_frames / fps
        rate_hz = sum(s.size for s in spike_times) / max(n_neurons, 1) / duration_s
        warm_up_s = 10 * tau_decay_s  # the background is at steady state from frame 0
        hidden = simulate_spike_times(1, duration_s + warm_up_s,
                                      rate_hz * _N_BACKGROUND_NEURONS, random_state=rng)[0]
        background = amplitude / _N_BACKGROUND_NEURONS * compute_calcium(
            hidden - warm_up_s, fps, n_frames, tau_rise_s, tau_decay_s)
        traces += neuropil * background
    if noise_level == 0:
        return traces
    noise = rng.standard_normal((n_neurons, n_frames))
    if shot_noise > 0:
        noise *= np.sqrt(shot_noise * compute_shot_noise_shape(traces) ** 2 + 1 - shot_noise)
    return scale_noise_to_level(traces, noise, fps, noise_level)


def simulate_recording(n_neurons: int = 10, duration_s: float = 120.0, fps: float = 30.0, *,
                       rate_hz: float = 0.5, indicator: str | None = None,
                       tau_rise_s: float | None = None, tau_decay_s: float | None = None,
                       amplitude: float | None = None, saturation: float | None = None,
                       amplitude_cv: float = 0.0, drift_dff: float = 0.0,
                       neuropil: float = 0.0, noise_level: float = 2.0,
                       shot_noise: float = 0.0, spike_pattern: str = "poisson",
                       random_state: int | None = None) -> TraceSet:
    """Simulate dF/F traces of independent neurons with their ground-truth spikes.

    Spike trains come from :func:`simulate_spike_times`, fluorescence from
    :func:`simulate_fluorescence`. Kinetics, amplitude and saturation come from the
    ``indicator`` preset (:func:`get_indicator_preset`, fitted to ground truth), and
    any of them given explicitly overrides the preset. Without an indicator: rise
    0.05 s, decay 0.8 s, amplitude 0.5, linear.

    Parameters
    ----------
    n_neurons : int, default=10
    duration_s : float, default=120.0
    fps : float, default=30.0
        Frame rate in Hz.
    rate_hz : float, default=0.5
        Mean firing rate.
    indicator : str, default=None
        Preset name, e.g. ``"GCaMP6s"`` (see ``spikeinfer indicators list``).
    tau_rise_s, tau_decay_s : float, default=None
        Rise and decay time constants of the calcium transient (seconds).
    amplitude : float, default=None
        Peak dF/F of one isolated spike (before saturation).
    saturation : float, default=None
        dF/F at which the response is half of linear; ``np.inf`` forces linear.
    amplitude_cv, drift_dff, neuropil, shot_noise : float, default=0.0
        See :func:`simulate_fluorescence`; all off by default.
    noise_level : float, default=2.0
        CASCADE noise level nu (% per sqrt(Hz)) of every trace.
    spike_pattern : {"poisson", "bursty"}, default="poisson"
    random_state : int, default=None
        Seed; the same seed gives the same recording.

    Returns
    -------
    TraceSet with ground-truth spike times; ``meta["simulation"]`` holds the parameters.

    Examples
    --------
    >>> rec = simulate_recording(n_neurons=2, duration_s=10, fps=30, random_state=0)
    >>> rec.traces.shape
    (2, 300)
    >>> simulate_recording(n_neurons=1, duration_s=10, indicator="GCaMP6s").indicator
    'GCaMP6s'
    """
    fps = check_fps(fps)
    if int(n_neurons) != n_neurons or n_neurons < 1:
        raise InputError(f"n_neurons={n_neurons!r} must be a whole number of at least 1")
    n_frames = round(duration_s * fps) if np.isfinite(duration_s) else 0
    if n_frames < 2:
        raise InputError(f"duration_s={duration_s!r} gives fewer than 2 frames at {fps:g} Hz")
    preset = get_indicator_preset(indicator) if indicator is not None else GENERIC_PARAMETERS
    given = {"tau_rise_s": tau_rise_s, "tau_decay_s": tau_decay_s, "amplitude": amplitude,
             "saturation": saturation}
    params = {name: preset[name] if value is None else value for name, value in given.items()}
    if params["saturation"] is not None and np.isinf(params["saturation"]):
        params["saturation"] = None
    params.update(amplitude_cv=amplitude_cv, drift_dff=drift_dff, neuropil=neuropil,
                  noise_level=noise_level, shot_noise=shot_noise)
    rng = np.random.default_rng(random_state)
    spike_times = simulate_spike_times(int(n_neurons), n_frames / fps, rate_hz,
                                       pattern=spike_pattern, random_state=rng)
    # Ground truth holds the spikes of frames 0 .. n_frames - 1 (see bin_spike_times).
    spike_times = tuple(s[np.floor(s * fps + 0.5) < n_frames] for s in spike_times)
    traces = simulate_fluorescence(spike_times, fps, n_frames, random_state=rng, **params)
    meta = {"simulation": {"indicator": indicator, "rate_hz": rate_hz,
                           "spike_pattern": spike_pattern, "random_state": random_state,
                           **params}}
    return TraceSet(traces, fps, spike_times=spike_times, dataset="simulated",
                    indicator=indicator or "simulated", source="simulated", meta=meta)


def _check_kinetics(tau_rise_s: float, tau_decay_s: float) -> None:
    if not (np.isfinite(tau_decay_s) and 0 <= tau_rise_s < tau_decay_s):
        raise InputError(f"time constants tau_rise_s={tau_rise_s!r}, tau_decay_s="
                         f"{tau_decay_s!r} must satisfy 0 <= tau_rise_s < tau_decay_s")


def _check_parameters(**values: float) -> None:
    for name, value in values.items():
        if not (np.isfinite(value) and value >= 0):
            raise InputError(f"{name}={value!r} must be finite and at least 0")
