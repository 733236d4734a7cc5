"""Figures of predictions: traces with the inferred spikes (and true ones where known)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data import TraceSet
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
