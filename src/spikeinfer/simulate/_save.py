"""Writing a simulated recording with its ground truth beside it."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from ..data import TraceSet
from ..exceptions import InputError
from ..io import SPIKEFINDER_FPS, format_spikefinder, write_atomically

SIMULATION_FORMATS = ("auto", "spikefinder", "npy", "h5")


def simulation_paths(path, format: str = "auto") -> tuple[str, Path, Path]:
    """(format, traces file, ground-truth file) for an output name.

    Spikefinder: ``N.calcium.csv`` with ``N.spikes.csv``; npy and h5: ``OUT.npy`` with
    ``OUT.truth.npy`` (spikes per frame), ``OUT.h5`` with ``OUT.truth.h5``.
    """
    path = Path(path)
    name = path.name.lower()
    if format not in SIMULATION_FORMATS:
        raise InputError(f"{path}: unknown format {format!r}; choose from "
                         f"{', '.join(SIMULATION_FORMATS)}")
    if format == "auto":
        by_suffix = {".csv": "spikefinder", ".npy": "npy", ".h5": "h5", ".hdf5": "h5"}
        if path.suffix.lower() not in by_suffix:
            raise InputError(f"{path}: output must end in .calcium.csv, .npy, .h5 or .hdf5")
        format = by_suffix[path.suffix.lower()]
    if format == "spikefinder":
        if not name.endswith(".calcium.csv"):
            raise InputError(f"{path}: Spikefinder output must end in .calcium.csv (its "
                             "spikes go to .spikes.csv beside it)")
        return format, path, path.with_name(path.name[:-len(".calcium.csv")] + ".spikes.csv")
    suffix = {"npy": (".npy",), "h5": (".h5", ".hdf5")}[format]
    if path.suffix.lower() not in suffix:
        raise InputError(f"{path}: {format} output must end in {' or '.join(suffix)}")
    return format, path, path.with_name(f"{path.stem}.truth{path.suffix}")


def save_simulation(path, recording: TraceSet, format: str = "auto", *,
                    force: bool = False) -> tuple[Path, Path]:
    """Write simulated traces and their spikes per frame, each file atomically.

    Parameters
    ----------
    path : str or Path
        ``.calcium.csv`` (Spikefinder layout, 100 Hz only), ``.npy`` or ``.h5``.
    recording : TraceSet
        With ground-truth spike times, e.g. from :func:`simulate_recording`.
    format : {"auto", "spikefinder", "npy", "h5"}, default="auto"
    force : bool, default=False
        Overwrite existing files.

    Returns
    -------
    (traces path, ground-truth path). HDF5 files also hold the frame rate (attribute
    ``fps``), the simulation parameters (``simulation``, JSON) and, in the
    ground-truth file, the exact spike times (``spike_times`` concatenated,
    ``spike_offsets`` where each neuron's start).
    """

    format, traces_path, truth_path = simulation_paths(path, format)
    if format == "spikefinder" and recording.fps != SPIKEFINDER_FPS:
        raise InputError(f"{traces_path}: Spikefinder files are at {SPIKEFINDER_FPS:g} Hz, "
                         f"not {recording.fps:g} Hz; simulate at 100 Hz or write .npy/.h5")
    for target in (traces_path, truth_path):
        if target.exists() and not force:
            raise InputError(f"{target}: already exists; pass --force to overwrite")
    counts = recording.spike_counts()
    params = json.dumps(recording.meta.get("simulation", {}))

    if format == "spikefinder":
        def write_truth(tmp):
            tmp.write_text(format_spikefinder(counts, recording.lengths, recording.neuron_ids))

        def write_traces(tmp):
            tmp.write_text(format_spikefinder(recording.traces, recording.lengths,
                                              recording.neuron_ids))
    elif format == "npy":
        def write_truth(tmp):
            with open(tmp, "wb") as fh:
                np.save(fh, counts)

        def write_traces(tmp):
            with open(tmp, "wb") as fh:
                np.save(fh, recording.traces)
    else:
        def write_truth(tmp):
            with h5py.File(tmp, "w") as fh:
                fh.create_dataset("spikes", data=counts, compression="gzip")
                fh.create_dataset("neuron_ids", data=list(recording.neuron_ids),
                                  dtype=h5py.string_dtype())
                fh.create_dataset("spike_times", data=np.concatenate(recording.spike_times))
                fh.create_dataset("spike_offsets", data=np.cumsum(
                    [0] + [s.size for s in recording.spike_times])[:-1])
                fh.attrs.update(fps=recording.fps, units="spikes per frame", simulation=params)

        def write_traces(tmp):
            with h5py.File(tmp, "w") as fh:
                fh.create_dataset("traces", data=recording.traces, compression="gzip")
                fh.attrs.update(fps=recording.fps, units="dF/F", simulation=params)
    # Ground truth first: traces on disk always have their spikes beside them.
    write_atomically(truth_path, write_truth, force)
    write_atomically(traces_path, write_traces, force)
    return traces_path, truth_path
