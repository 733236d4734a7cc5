"""Forward model: spike trains -> calcium -> fluorescence (dF/F) with noise."""

from __future__ import annotations

import numpy as np

from .data import TraceSet, check_fps


def noise_std_for_level(noise_level: float, fps: float) -> float:
    """Std of white Gaussian noise whose CASCADE noise level nu equals ``noise_level``.

    For white noise of std s, median |diff| = s * sqrt(2) * 0.6745, and
    nu = median |diff| / sqrt(fps) * 100.
    """
    return noise_level * np.sqrt(fps) / 100.0 / (np.sqrt(2.0) * 0.6744897501960817)


def double_exponential_kernel(fps: float, tau_rise_s: float, tau_decay_s: float,
                              length_s: float | None = None) -> np.ndarray:
    """Response to one spike at frame 0, peak normalised to 1."""
    length_s = length_s or 8 * tau_decay_s
    t = np.arange(int(np.ceil(length_s * fps))) / fps
    kernel = np.exp(-t / tau_decay_s) - np.exp(-t / max(tau_rise_s, 1e-6))
    return kernel / kernel.max()


def simulate_recording(n_neurons: int = 10, duration_s: float = 120.0, fps: float = 30.0, *,
                       rate_hz: float = 0.5, tau_rise_s: float = 0.05, tau_decay_s: float = 0.8,
                       amplitude: float = 0.5, noise_level: float = 2.0,
                       random_state: int | None = None) -> TraceSet:
    """Simulate dF/F traces of neurons firing as Poisson processes.

    Each spike adds a double-exponential transient of peak ``amplitude`` (dF/F);
    white Gaussian noise is set to the CASCADE noise level ``noise_level``.

    Parameters
    ----------
    n_neurons : int, default=10
    duration_s : float, default=120.0
    fps : float, default=30.0
        Frame rate in Hz.
    rate_hz : float, default=0.5
        Mean firing rate.
    tau_rise_s, tau_decay_s : float, default=0.05, 0.8
        Rise and decay time constants of the calcium transient (seconds).
    amplitude : float, default=0.5
        Peak dF/F of one isolated spike.
    noise_level : float, default=2.0
        CASCADE noise level nu (% per sqrt(Hz)).
    random_state : int, default=None
        Seed; the same seed gives the same recording.

    Returns
    -------
    TraceSet with ground-truth spike times.

    Examples
    --------
    >>> rec = simulate_recording(n_neurons=2, duration_s=10, fps=30, random_state=0)
    >>> rec.traces.shape
    (2, 300)
    """
    fps = check_fps(fps)
    rng = np.random.default_rng(random_state)
    n_frames = int(round(duration_s * fps))
    kernel = double_exponential_kernel(fps, tau_rise_s, tau_decay_s)
    # Sub-frame spike times, binned to the nearest frame (frame k is at k / fps).
    spike_times = [np.sort(rng.uniform(0, n_frames / fps, rng.poisson(rate_hz * n_frames / fps)))
                   for _ in range(n_neurons)]
    traces = np.empty((n_neurons, n_frames))
    sigma = noise_std_for_level(noise_level, fps)
    for i, spikes in enumerate(spike_times):
        frames = np.floor(spikes * fps + 0.5).astype(int)
        counts = np.bincount(frames[frames < n_frames], minlength=n_frames)
        calcium = np.convolve(counts, kernel)[:n_frames] * amplitude
        traces[i] = calcium + rng.normal(0.0, sigma, n_frames)
    spike_times = [s[np.floor(s * fps + 0.5) < n_frames] for s in spike_times]
    return TraceSet(traces, fps, spike_times=tuple(spike_times), dataset="simulated",
                    indicator="simulated", source="simulated")
