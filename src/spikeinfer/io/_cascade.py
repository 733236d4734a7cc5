"""CASCADE ground truth: one folder per dataset, one ``.mat`` file per neuron.

Each file holds ``CAttached``, one struct per recording with ``fluo_time``
(s), ``fluo_mean`` (dF/F) and ``events_AP`` (spike times in 1e-4 s). Real
files are irregular; every repair or skip is reported as a :class:`DataWarning`.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import scipy.io

from ..data import TraceSet
from ..exceptions import DataWarning, InputError
from ._catalogue import dataset_indicator

AP_TIME_UNIT_S = 1e-4
# Recordings whose rates agree to 4 significant digits share a TraceSet; spike times are
# rescaled to its rate, so spikes stay on their frames exactly.
_FPS_DIGITS = 4


def _warn(path: Path, index: int, problem: str) -> None:
    warnings.warn(f"{path}: recording {index}: {problem}", DataWarning, stacklevel=3)


def _vector(record, name: str) -> np.ndarray | None:
    value = getattr(record, name, None)
    if value is None:
        return None
    try:
        value = np.asarray(value, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return None
    return value if value.size else None


def _read_recording(path: Path, index: int, record):
    """(fps, traces on a regular frame grid, spike times from frame 0), or None to skip."""
    time, fluo, events = (_vector(record, k) for k in ("fluo_time", "fluo_mean", "events_AP"))
    if time is None or fluo is None:
        _warn(path, index, "no fluo_time or fluo_mean; skipped")
        return None
    if time.size > fluo.size:
        _warn(path, index, f"fluo_time has {time.size} entries for {fluo.size} frames; "
                           "extra times dropped")
        time = time[: fluo.size]
    known = np.flatnonzero(np.isfinite(time))
    if known.size < 2 or time[known[-1]] <= time[known[0]]:
        _warn(path, index, "fewer than two distinct frame times; skipped")
        return None
    # Frames are samples in file order; the times give the mean rate and the start.
    # (Rounding each time to a grid instead would collide frames where the clock jitters.)
    dt = float((time[known[-1]] - time[known[0]]) / (known[-1] - known[0]))
    t0 = float(time[known[0]] - known[0] * dt)
    if time.size < fluo.size:
        # Seen in real files: the time vector stops early while frames continue.
        _warn(path, index, f"fluo_time has {time.size} entries for {fluo.size} frames; "
                           "the frames after it are taken at the same rate")
    if np.any(np.diff(time[known]) <= 0):
        _warn(path, index, f"{np.sum(np.diff(time[known]) <= 0)} frame times repeat or go "
                           "back; frames are kept in file order")
    trace = fluo.copy()
    if known.size < time.size:
        missing = np.setdiff1d(np.arange(time.size), known)
        trace[missing] = np.nan
        _warn(path, index, f"{missing.size} frames without a time; set to NaN")
    if events is None:
        events = np.zeros(0)
    spikes = events[np.isfinite(events)] * AP_TIME_UNIT_S - t0
    if spikes.size < events.size:
        _warn(path, index, f"{events.size - spikes.size} non-finite spike times; dropped")
    return 1.0 / dt, trace, spikes


def read_cascade_dataset(folder: Path) -> list[TraceSet]:
    """All recordings of one CASCADE dataset folder, one TraceSet per frame rate.

    Neuron ids are ``file_stem:recording``. Spike times are re-expressed on the
    TraceSet's clock (frame ``k`` at ``k / fps``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of CASCADE .mat files")
    files = sorted(folder.glob("*.mat"))
    if not files:
        raise InputError(f"{folder}: no .mat files")
    groups: dict[float, list] = defaultdict(list)
    for path in files:
        for index, record in enumerate(_read_records(path)):
            recording = _read_recording(path, index, record)
            if recording is not None:
                fps, trace, spikes = recording
                groups[float(f"{fps:.{_FPS_DIGITS}g}")].append(
                    (fps, trace, spikes, f"{path.stem}:{index}"))
    name = folder.name
    indicator = dataset_indicator(name) or ""
    return [_stack(recordings, name, indicator, str(folder)) for _, recordings in
            sorted(groups.items())]


def _read_records(path: Path) -> list:
    try:
        content = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)
    except Exception as err:  # a damaged .mat fails in many ways inside scipy (zlib, struct...)
        warnings.warn(f"{path}: not a readable .mat file ({err}); skipped", DataWarning,
                      stacklevel=3)
        return []
    if "CAttached" not in content:
        warnings.warn(f"{path}: no CAttached variable; skipped", DataWarning, stacklevel=3)
        return []
    return list(np.atleast_1d(content["CAttached"]))


def _stack(recordings: list, dataset: str, indicator: str, source: str) -> TraceSet:
    fps = float(np.median([r[0] for r in recordings]))
    n_frames = max(len(r[1]) for r in recordings)
    traces = np.full((len(recordings), n_frames), np.nan)
    for row, (_, trace, _, _) in zip(traces, recordings):
        row[: len(trace)] = trace
    # Rescale each recording's spike times from its own rate to the shared one.
    spikes = tuple(r[2] * r[0] / fps for r in recordings)
    return TraceSet(traces, fps, spike_times=spikes, lengths=[len(r[1]) for r in recordings],
                    neuron_ids=tuple(r[3] for r in recordings), dataset=dataset,
                    indicator=indicator, source=source)


def read_cascade_collection(root: Path) -> list[TraceSet]:
    """Every dataset folder under ``root`` (folders holding .mat files)."""
    root = Path(root)
    folders = sorted(p for p in root.iterdir() if p.is_dir() and any(p.glob("*.mat")))
    if not folders:
        raise InputError(f"{root}: no CASCADE dataset folders")
    return [ts for folder in folders for ts in read_cascade_dataset(folder)]
