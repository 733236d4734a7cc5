"""The data type for a set of fluorescence traces, with optional ground truth."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .exceptions import InputError
from .signals import bin_spike_times, check_fps


def _valid_lengths(traces: np.ndarray) -> np.ndarray:
    """Frames up to and including the last finite one, per row (trailing NaN is padding)."""
    finite = np.isfinite(traces)
    last = traces.shape[1] - np.argmax(finite[:, ::-1], axis=1)
    return np.where(finite.any(axis=1), last, 0).astype(np.int64)


@dataclass(frozen=True, eq=False)
class TraceSet:
    """Fluorescence traces of several neurons at one frame rate.

    Frame ``k`` of a row is the fluorescence at time ``k / fps`` seconds;
    spike times use the same clock. Rows can be of different lengths: a row
    is NaN after its valid length (the padding of the Spikefinder format).
    A collection whose recordings differ in frame rate is a list of TraceSets.

    Parameters
    ----------
    traces : ndarray of shape (n_neurons, n_frames)
        Fluorescence, usually dF/F.
    fps : float
        Frame rate in Hz.
    spike_times : tuple of ndarray, default=None
        Ground-truth spike times in seconds, one array per row.
    lengths : ndarray of shape (n_neurons,), default=None
        Valid frames per row; computed from the trailing NaN padding if omitted.
    neuron_ids : tuple of str, default=None
        One name per row; ``"0"``, ``"1"``, ... if omitted.
    dataset, indicator, source : str
        Metadata: dataset name, calcium indicator, source file.
    """

    traces: np.ndarray
    fps: float
    spike_times: tuple[np.ndarray, ...] | None = None
    lengths: np.ndarray | None = None
    neuron_ids: tuple[str, ...] | None = None
    dataset: str = ""
    indicator: str = ""
    source: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        traces = np.asarray(self.traces, dtype=np.float64)
        if traces.ndim == 1:
            traces = traces[None, :]
        if traces.ndim != 2:
            raise InputError(f"{self._where()}traces must be 2-D (n_neurons, n_frames), "
                             f"got shape {traces.shape}")
        object.__setattr__(self, "traces", traces)
        object.__setattr__(self, "fps", check_fps(self.fps, self._where()))
        n = traces.shape[0]
        lengths = _valid_lengths(traces) if self.lengths is None else np.asarray(
            self.lengths, dtype=np.int64)
        if lengths.shape != (n,) or np.any(lengths > traces.shape[1]) or np.any(lengths < 0):
            raise InputError(f"{self._where()}lengths must be {n} values in [0, {traces.shape[1]}]")
        object.__setattr__(self, "lengths", lengths)
        ids = tuple(str(i) for i in range(n)) if self.neuron_ids is None else tuple(
            str(i) for i in self.neuron_ids)
        if len(ids) != n:
            raise InputError(f"{self._where()}{len(ids)} neuron ids for {n} traces")
        object.__setattr__(self, "neuron_ids", ids)
        if self.spike_times is not None:
            spikes = tuple(np.sort(np.asarray(s, dtype=np.float64).ravel())
                           for s in self.spike_times)
            if len(spikes) != n:
                raise InputError(f"{self._where()}{len(spikes)} spike trains for {n} traces")
            object.__setattr__(self, "spike_times", spikes)

    def _where(self) -> str:
        return f"{self.source}: " if self.source else ""

    @property
    def n_neurons(self) -> int:
        return self.traces.shape[0]

    @property
    def n_frames(self) -> int:
        return self.traces.shape[1]

    @property
    def has_ground_truth(self) -> bool:
        return self.spike_times is not None

    @property
    def duration_s(self) -> np.ndarray:
        """Recorded duration of each row in seconds."""
        return self.lengths / self.fps

    def spike_counts(self) -> np.ndarray:
        """Ground-truth spikes per frame, shape (n_neurons, n_frames), NaN past each row's length."""
        if self.spike_times is None:
            raise InputError(f"{self._where()}no ground-truth spikes in this trace set")
        counts = np.full(self.traces.shape, np.nan)
        for i, (spikes, length) in enumerate(zip(self.spike_times, self.lengths)):
            counts[i, :length] = bin_spike_times(spikes, self.fps, length)
        return counts

    def subset(self, rows) -> TraceSet:
        """A new TraceSet with the given rows (indices or boolean mask)."""
        rows = np.arange(self.n_neurons)[rows]
        spikes = None if self.spike_times is None else tuple(self.spike_times[i] for i in rows)
        return replace(self, traces=self.traces[rows], lengths=self.lengths[rows],
                       neuron_ids=tuple(self.neuron_ids[i] for i in rows), spike_times=spikes)

    def __repr__(self) -> str:
        gt = ", with spikes" if self.has_ground_truth else ""
        name = f"{self.dataset!r}, " if self.dataset else ""
        return (f"TraceSet({name}{self.n_neurons} neurons x {self.n_frames} frames "
                f"at {self.fps:g} Hz{gt})")
