"""Spikefinder challenge CSV files: columns are neurons, rows are frames at 100 Hz.

A column ends with blank fields (NaN) where that neuron's recording is shorter.
Spike files hold spike counts per frame in the same layout.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from ..data import TraceSet
from ..exceptions import InputError
from ..signals import counts_to_spike_times
from ._catalogue import dataset_indicator
from ._matrix import read_csv_matrix

SPIKEFINDER_FPS = 100.0
_NAME = re.compile(r"^(?P<set>\w+)\.(?P<split>train|test)\.(?P<kind>calcium|spikes)\.csv$")


def read_spikefinder_counts(path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """A Spikefinder file's values as (n_neurons, n_frames), with the column names."""
    try:
        with open(path, encoding="utf-8") as fh:
            header = [h.strip() for h in fh.readline().strip().split(",")]
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: not a readable text file ({err})") from None
    x = read_csv_matrix(path, header=True)
    if x.shape[1] != len(header):
        raise InputError(f"{path}: {len(header)} column names but {x.shape[1]} columns")
    return x.T, tuple(header)


def read_spikefinder(calcium_path: Path, spikes_path: Path | None = None,
                     fps: float = SPIKEFINDER_FPS) -> TraceSet:
    """Load a Spikefinder calcium file, with its spikes file if given."""
    traces, names = read_spikefinder_counts(calcium_path)
    match = _NAME.match(calcium_path.name)
    spike_times = None
    if spikes_path is not None:
        counts, spike_names = read_spikefinder_counts(spikes_path)
        if spike_names != names or counts.shape[1] > traces.shape[1]:
            raise InputError(f"{spikes_path}: columns or length do not match {calcium_path.name}")
        spike_times = tuple(counts_to_spike_times(c, fps) for c in counts)
    dataset = f"spikefinder-{match['set']}" if match else calcium_path.stem
    return TraceSet(traces, fps, spike_times=spike_times, neuron_ids=names, dataset=dataset,
                    indicator=dataset_indicator(dataset) or "" if match else "",
                    source=str(calcium_path))


def format_spikefinder(values: np.ndarray, lengths: np.ndarray, names: tuple[str, ...]) -> str:
    """CSV text in Spikefinder layout; frames past each neuron's length are blank."""
    n_neurons, n_frames = values.shape
    cells = np.char.mod("%.6g", np.nan_to_num(values.T, nan=0.0)).astype(object)
    blank = (np.arange(n_frames)[:, None] >= lengths[None, :]) | ~np.isfinite(values.T)
    cells[blank] = ""
    out = io.StringIO()
    out.write(",".join(names) + "\n")
    out.writelines(",".join(row) + "\n" for row in cells)
    return out.getvalue()


def spikes_path_for(calcium_path: Path) -> Path:
    """``N.split.spikes.csv`` beside ``N.split.calcium.csv``."""
    return calcium_path.with_name(calcium_path.name.replace(".calcium.csv", ".spikes.csv"))
