"""Figures of predictions: traces with the inferred spikes (and true ones where known)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data import TraceSet
from ..exceptions import InputError
from ..inference import CountError, count_interval
from ._figure import new_figure, save_figure


def plot_prediction(ts: TraceSet, prediction: np.ndarray, path, n_neurons: int = 3,
                    title: str = "", window_s: float = 60.0, force: bool = False) -> Path:
    """Fluorescence, predicted spikes and true spikes of the first neurons over the first
    ``window_s`` seconds, saved as PNG."""
    n = min(n_neurons, ts.n_neurons)
    fig, axes = new_figure(n, 1, figsize=(10, 2.4 * n), sharex=True, squeeze=False)
    time = np.arange(ts.n_frames) / ts.fps
    truth = ts.spike_counts() if ts.has_ground_truth else None
    for i, ax in enumerate(axes[:, 0]):
        ax.plot(time, ts.traces[i], color="tab:green", lw=0.8, label="dF/F")
        ax.set_ylabel(f"neuron {ts.neuron_ids[i]}")
        twin = ax.twinx()
        twin.plot(time, prediction[i], color="tab:blue", lw=0.8, label="predicted spikes/frame")
        twin.set_ylabel("spikes / frame", color="tab:blue")
        if truth is not None:
            frames = np.flatnonzero(truth[i] > 0)
            ax.plot(time[frames], np.full(len(frames), np.nanmin(ts.traces[i])), "|",
                    color="black", ms=10, label="true spikes")
        if i == 0:
            ax.legend(loc="upper left", fontsize=8)
            twin.legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("time (s)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    axes[-1, 0].set_xlim(0, min(window_s, ts.n_frames / ts.fps))
    return save_figure(fig, Path(path), force=force)


#: Bins (s) of the rate and interval drawn for each neuron.
BIN_S = 0.1


def binned_rate(spikes: np.ndarray, fps: float, first: int, last: int,
                log_sd: float | None = None):
    """Bin edges (s), spikes per second in bins of about :data:`BIN_S` from frame
    ``first`` to ``last``, and the 90% interval on it (None without ``log_sd``)."""
    frames = max(1, int(round(BIN_S * fps)))
    n_bins = max(1, (last - first) // frames)
    counts = np.nansum(spikes[first:first + n_bins * frames].reshape(n_bins, frames), axis=1)
    width = frames / fps
    edges = (first + np.arange(n_bins + 1) * frames) / fps
    if log_sd is None:
        return edges, counts / width, None, None
    low, high = count_interval(counts, CountError(log_sd))
    return edges, counts / width, low / width, high / width


def plot_recording(prediction: dict, path, traces: TraceSet | None = None,
                   neurons=None, start_s: float = 0.0, duration_s: float = 60.0,
                   force: bool = False) -> Path:
    """A prediction (:func:`spikeinfer.io.read_prediction`) drawn: for each of ``neurons``
    (default: the first three), its trace (when ``traces`` are given), the inferred rate
    in :data:`BIN_S` bins with the 90% interval on it where the prediction has intervals,
    and spike times, with the true spikes beside them for a recording with ground truth;
    then a raster of every neuron's spike times and the population rate. PNG, SVG or PDF
    after the suffix."""
    spikes, fps = prediction["spikes"], prediction["fps"]
    n = spikes.shape[0]
    neurons = list(range(min(n, 3))) if neurons is None else list(neurons)
    bad = [i for i in neurons if not 0 <= i < n]
    if bad:
        raise InputError(f"neurons {bad} are not in the prediction's 0-{n - 1}")
    first = max(0, int(start_s * fps))
    last = min(spikes.shape[1], first + max(1, int(duration_s * fps)))
    window = slice(first, last)
    time = np.arange(first, last) / fps
    truth = traces.spike_counts() if traces is not None and traces.has_ground_truth else None
    times = prediction.get("spike_times")
    log_sd = (prediction.get("provenance") or {}).get("count_error_log_sd") \
        if prediction.get("lower") is not None else None
    fig, axes = new_figure(len(neurons) + 2, 1, figsize=(10, 1.9 * (len(neurons) + 2)),
                           sharex=True, squeeze=False)
    legend = []
    for ax, i in zip(axes[:len(neurons), 0], neurons):
        ax.set_ylabel(f"neuron {prediction['neuron_ids'][i]}", fontsize=8)
        rate_ax = ax
        if traces is not None:
            ax.plot(time, traces.traces[i, window], color="tab:green", lw=0.7, label="dF/F")
            rate_ax = ax.twinx()
        edges, rate, low, high = binned_rate(spikes[i], fps, first, last, log_sd)
        if low is not None:
            rate_ax.fill_between(edges, np.r_[low, low[-1]], np.r_[high, high[-1]],
                                 color="tab:blue", alpha=0.2, lw=0, step="post",
                                 label=f"90% interval ({BIN_S * 1000:g} ms bins)")
        rate_ax.step(edges, np.r_[rate, rate[-1]], where="post", color="tab:blue", lw=0.8,
                     label="inferred rate")
        rate_ax.set_ylabel("spikes / s", color="tab:blue", fontsize=8)
        top = max(np.nanmax(high if low is not None else rate), 1e-3)
        if times is not None:
            mine = times[i][(times[i] >= time[0]) & (times[i] <= time[-1])]
            rate_ax.plot(mine, np.full(mine.size, -0.06 * top), "|", color="tab:blue", ms=6,
                         label="inferred spikes")
        if truth is not None:
            frames = np.flatnonzero(truth[i, window] > 0)
            rate_ax.plot(time[frames], np.full(frames.size, -0.16 * top), "|", color="black",
                         ms=6, label="true spikes")
        if not legend:
            legend = [h for a in {ax, rate_ax} for h in a.get_legend_handles_labels()[0]]
        quality = prediction.get("quality") or []
        if i < len(quality) and quality[i]:
            ax.set_title(f"flagged: {quality[i]}", fontsize=7, loc="left", color="tab:red")
    axes[0, 0].legend(handles=legend, loc="upper left", fontsize=7, ncol=len(legend))
    raster = axes[len(neurons), 0]
    if times is not None:
        raster.eventplot([t[(t >= time[0]) & (t <= time[-1])] for t in times], lw=0.6,
                         color="k")
    else:
        raster.imshow(spikes[:, window], aspect="auto", cmap="Greys", origin="lower",
                      extent=(time[0], time[-1], -0.5, n - 0.5), interpolation="nearest")
    raster.set_ylabel("neuron", fontsize=8)
    population = axes[len(neurons) + 1, 0]
    population.plot(time, np.nansum(spikes[:, window], axis=0) * fps, color="k", lw=0.8)
    population.set_ylabel("population\n(spikes/s)", fontsize=8)
    population.set_xlabel("time (s)")
    fig.tight_layout()
    return save_figure(fig, Path(path), force=force)
