"""Spike trains: Poisson, or Poisson bursts."""

from __future__ import annotations

import numpy as np

from ..exceptions import InputError

SPIKE_PATTERNS = ("poisson", "bursty")


def simulate_spike_times(n_neurons: int, duration_s: float, rate_hz: float, *,
                         pattern: str = "poisson", burst_size: float = 3.0,
                         burst_isi_s: float = 0.01,
                         random_state: int | np.random.Generator | None = None
                         ) -> tuple[np.ndarray, ...]:
    """Spike times (s) in ``[0, duration_s)`` of independent neurons.

    Parameters
    ----------
    n_neurons : int
    duration_s : float
    rate_hz : float
        Mean firing rate of every neuron.
    pattern : {"poisson", "bursty"}, default="poisson"
        ``"poisson"``: a homogeneous Poisson process. ``"bursty"``: bursts start as a
        Poisson process of rate ``rate_hz / burst_size``; a burst holds 1 + Poisson(
        ``burst_size`` - 1) spikes separated by exponential intervals of mean
        ``burst_isi_s``.
    burst_size : float, default=3.0
        Mean number of spikes per burst (at least 1).
    burst_isi_s : float, default=0.01
        Mean interval between spikes within a burst.
    random_state : int or numpy Generator, default=None

    Returns
    -------
    tuple of ndarray
        Sorted spike times, one array per neuron.
    """
    if pattern not in SPIKE_PATTERNS:
        raise InputError(f"spike pattern {pattern!r} is unknown; choose from "
                         f"{', '.join(SPIKE_PATTERNS)}")
    if not rate_hz >= 0 or not np.isfinite(rate_hz):
        raise InputError(f"firing rate {rate_hz!r} Hz must be finite and at least 0")
    if not burst_size >= 1 or not burst_isi_s > 0:
        raise InputError(f"burst size {burst_size!r} must be at least 1 and the burst interval "
                         f"{burst_isi_s!r} s positive")
    rng = np.random.default_rng(random_state)
    if pattern == "poisson":
        return tuple(np.sort(rng.uniform(0, duration_s, rng.poisson(rate_hz * duration_s)))
                     for _ in range(n_neurons))
    trains = []
    for _ in range(n_neurons):
        onsets = rng.uniform(0, duration_s, rng.poisson(rate_hz / burst_size * duration_s))
        sizes = 1 + rng.poisson(burst_size - 1, onsets.size)
        gaps = rng.exponential(burst_isi_s, int(sizes.sum()))
        # Within each burst the first spike is at the onset, the others follow by the gaps.
        starts = np.cumsum(sizes) - sizes
        gaps[starts] = 0.0
        elapsed = np.cumsum(gaps)
        offsets = elapsed - np.repeat(elapsed[starts], sizes)
        spikes = np.repeat(onsets, sizes) + offsets
        trains.append(np.sort(spikes[spikes < duration_s]))
    return tuple(trains)
