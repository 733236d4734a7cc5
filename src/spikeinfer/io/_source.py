"""Recordings read a few rows at a time: a :class:`TraceSource` over anything sliceable (an
array in memory, a memory-mapped ``.npy``, an HDF5 or Zarr dataset), so that a recording
larger than memory is predicted chunk by chunk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from ..data import TraceSet
from ..exceptions import InputError
from ..signals import check_fps

#: Largest matrix (bytes, float64) read whole into memory; larger ones are read by rows.
IN_MEMORY_LIMIT = 2 ** 30


class GuardedArray:
    """An array on disk (HDF5, Zarr) whose reads fail with InputError naming it: damaged
    chunks and missing filters fail in many ways inside those libraries."""

    def __init__(self, array, where: str):
        self.array, self.where = array, where
        self.shape, self.dtype = array.shape, array.dtype

    def __getitem__(self, index):
        try:
            return self.array[index]
        except Exception as err:  # the library's own error, whatever its type
            raise InputError(f"{self.where}: cannot be read ({type(err).__name__}: {err})"
                             ) from None


class TraceSource:
    """Rows (neurons) of a recording, read when asked.

    Parameters
    ----------
    array : array-like of shape (n_neurons, n_frames), or (n_frames, n_neurons) with
        ``transposed``
        Anything with ``shape`` and slicing: ndarray, memory map, h5py or zarr dataset.
    fps : float
    transform : callable, default=None
        Applied to every block of rows read (e.g. raw fluorescence to dF/F).
    neuron_ids, source, dataset, indicator, meta : as for :class:`~spikeinfer.TraceSet`.
    """

    def __init__(self, array, fps: float, *, transposed: bool = False,
                 transform: Callable[[np.ndarray], np.ndarray] | None = None,
                 neuron_ids=None, source: str = "", dataset: str = "", indicator: str = "",
                 meta: dict | None = None):
        if len(array.shape) != 2:
            raise InputError(f"{source}: expected a 2-D matrix of traces, got shape {array.shape}")
        if np.dtype(array.dtype).kind not in "biuf":
            raise InputError(f"{source}: expected numbers, got dtype {array.dtype}")
        self.array = array
        self.transposed = transposed
        self.fps = check_fps(fps, f"{source}: " if source else "")
        self.transform = transform
        n = self.n_neurons
        self.neuron_ids = tuple(str(i) for i in (neuron_ids if neuron_ids is not None
                                                  else range(n)))
        if len(self.neuron_ids) != n:
            raise InputError(f"{source}: {len(self.neuron_ids)} neuron ids for {n} traces")
        self.source, self.dataset, self.indicator = source, dataset, indicator
        self.meta = dict(meta or {})

    @property
    def n_neurons(self) -> int:
        return int(self.array.shape[1 if self.transposed else 0])

    @property
    def n_frames(self) -> int:
        return int(self.array.shape[0 if self.transposed else 1])

    def read_rows(self, rows) -> np.ndarray:
        """Rows (a slice, or sorted indices) as an (n, n_frames) float array: float32 input
        stays float32, anything else becomes float64."""
        block = self.array[:, rows] if self.transposed else self.array[rows]
        block = np.asarray(block)
        block = block.T if self.transposed else block
        block = block.astype(np.float32 if block.dtype == np.float32 else np.float64)
        return self.transform(block) if self.transform is not None else block

    def traceset(self) -> TraceSet:
        """The whole recording in memory."""
        return TraceSet(self.read_rows(slice(None)), self.fps, neuron_ids=self.neuron_ids,
                        dataset=self.dataset, indicator=self.indicator, source=self.source,
                        meta=self.meta)

    @classmethod
    def from_traceset(cls, ts: TraceSet) -> TraceSource:
        return cls(ts.traces, ts.fps, neuron_ids=ts.neuron_ids, source=ts.source,
                   dataset=ts.dataset, indicator=ts.indicator, meta=ts.meta)


class MappedNpy:
    """A ``.npy`` file's array, memory-mapped only while a block of it is read: the pages
    read leave the process with the map, so memory stays that of the block, not of all
    that was read so far."""

    def __init__(self, path: Path, dtype: np.dtype, shape: tuple, offset: int, order: str):
        self.path, self.dtype, self.shape = path, dtype, tuple(shape)
        self.offset, self.order, self.ndim = offset, order, len(shape)

    def __getitem__(self, index) -> np.ndarray:
        mapped = np.memmap(self.path, dtype=self.dtype, mode="r", offset=self.offset,
                           shape=self.shape, order=self.order)
        return np.array(mapped[index])  # a copy: the map is closed when this returns

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        block = self[...]
        return block if dtype is None else block.astype(dtype)


def open_npy(path: Path) -> MappedNpy | np.ndarray:
    """A ``.npy`` file, read by blocks through a memory map (:class:`MappedNpy`), after
    checking that its header's shape fits in the file (a header claiming more is refused,
    not allocated)."""
    try:
        with open(path, "rb") as fh:
            version = npy_format.read_magic(fh)
            read_header = (npy_format.read_array_header_1_0 if version == (1, 0)
                           else npy_format.read_array_header_2_0)
            shape, fortran, dtype = read_header(fh)
            offset = fh.tell()
    except Exception as err:  # numpy's header parser fails in many ways on damaged bytes
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(f"{path}: not a readable .npy file ({message})") from None
    if dtype.hasobject:
        raise InputError(f"{path}: holds pickled objects, which are not loaded")
    expected = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    size = path.stat().st_size - offset
    if expected > size:
        raise InputError(f"{path}: not a readable .npy file: its header claims {shape} of "
                         f"{dtype} ({expected:,} bytes) but it holds {size:,} (truncated or "
                         "damaged)")
    if dtype.kind not in "biuf":
        raise InputError(f"{path}: expected numbers, got dtype {dtype}")
    if expected == 0:
        return np.zeros(shape, dtype)
    return MappedNpy(path, dtype, shape, offset, "F" if fortran else "C")
