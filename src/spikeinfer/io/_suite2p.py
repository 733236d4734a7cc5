"""Reader for a suite2p output folder (``suite2p/plane0``)."""

from __future__ import annotations

import codecs
import datetime
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from ..data import TraceSet
from ..signals import check_fps
from ..exceptions import InputError
from ..preprocess import compute_dff
from ._matrix import read_npy

try:
    from numpy._core import multiarray as _multiarray
except ImportError:  # numpy < 1.26 only has the old name
    from numpy.core import multiarray as _multiarray

# The only globals an ops.npy pickle may name. numpy 1.x writes "numpy.core",
# numpy 2.x "numpy._core"; both map to whichever this numpy has, so old files
# load without numpy's deprecation warning. datetime is in suite2p's own ops
# ("date_proc"); _codecs.encode is how protocol-2 pickles store bytes.
_SAFE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy.core.multiarray", "scalar"): _multiarray.scalar,
    ("numpy._core.multiarray", "scalar"): _multiarray.scalar,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "complex"): complex,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "slice"): slice,
    ("builtins", "range"): range,
    ("collections", "OrderedDict"): OrderedDict,
    ("datetime", "datetime"): datetime.datetime,
    ("datetime", "date"): datetime.date,
    ("datetime", "time"): datetime.time,
    ("datetime", "timedelta"): datetime.timedelta,
    ("datetime", "timezone"): datetime.timezone,
    ("_codecs", "encode"): codecs.encode,
}


class _SafeUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and plain containers, and refuses every other global.

    Refusing in ``find_class`` is what makes this safe: a pickle can only call
    what it first looks up there, so it cannot reach ``os.system`` and the like.
    """

    def __init__(self, file, where: str):
        # latin1 is numpy's advice for array pickles written by Python 2
        super().__init__(file, encoding="latin1")
        self._where = where

    def find_class(self, module: str, name: str):
        try:
            return _SAFE_GLOBALS[(module, name)]
        except KeyError:
            raise InputError(f"{self._where}: refusing to load pickled object "
                             f"{module}.{name}; only numpy arrays and plain values are read"
                             ) from None

    def persistent_load(self, pid):
        raise InputError(f"{self._where}: refusing pickled persistent reference")


def _read_ops(path: Path) -> dict:
    """The dict in suite2p's ops.npy, unpickled without running arbitrary code."""
    try:
        with open(path, "rb") as fh:
            version = npy_format.read_magic(fh)
            if version == (1, 0):
                _, _, dtype = npy_format.read_array_header_1_0(fh)
            elif version == (2, 0):
                _, _, dtype = npy_format.read_array_header_2_0(fh)
            else:
                raise InputError(f"{path}: unsupported .npy format version {version}")
            if not dtype.hasobject:
                raise InputError(f"{path}: expected a pickled dict, got a {dtype} array")
            ops = _SafeUnpickler(fh, str(path)).load()
    except InputError:
        raise
    except Exception as err:  # truncated/garbage files fail in many ways inside pickle
        raise InputError(f"{path}: not a readable ops.npy file ({type(err).__name__}: {err})"
                         ) from None
    if isinstance(ops, np.ndarray) and ops.shape == ():
        ops = ops.item()  # np.save wraps the dict in a 0-d object array
    if not isinstance(ops, dict):
        raise InputError(f"{path}: expected a pickled dict, got {type(ops).__name__}")
    return ops


def _load_array(path: Path, ndim: tuple[int, ...]) -> np.ndarray:
    """A numeric array from a .npy file, never unpickling."""
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    x = read_npy(path)
    if x.ndim not in ndim or x.dtype.kind not in "biuf":
        raise InputError(f"{path}: expected a {' or '.join(map(str, ndim))}-D numeric array, "
                         f"got shape {x.shape} of dtype {x.dtype}")
    return x


def read_suite2p(folder: Path, fps: float | None = None, neuropil_coefficient: float = 0.7,
                 only_cells: bool = True) -> TraceSet:
    """Read dF/F traces from a suite2p plane folder.

    The traces are ``F - neuropil_coefficient * Fneu`` converted to dF/F with
    :func:`~spikeinfer.preprocess.compute_dff`.

    Parameters
    ----------
    folder : Path
        A suite2p plane folder holding ``F.npy``, ``Fneu.npy``, ``iscell.npy``
        and ``ops.npy``.
    fps : float, optional
        Frame rate in Hz; read from ``ops["fs"]`` if omitted. If both are known
        they must agree within 1%.
    neuropil_coefficient : float, default=0.7
        Fraction of the neuropil trace subtracted (suite2p's own default).
        With 0, ``Fneu.npy`` is not needed.
    only_cells : bool, default=True
        Keep only ROIs that ``iscell.npy`` marks as cells.

    Returns
    -------
    TraceSet
        One row per kept ROI; ``neuron_ids`` are the suite2p ROI indices.

    Raises
    ------
    InputError
        If a file is missing, unreadable, of inconsistent shape, if ``ops.npy``
        holds anything but numpy arrays and plain values, or if the frame rate
        is unknown or contradicts ``ops["fs"]``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    if not np.isfinite(neuropil_coefficient) or neuropil_coefficient < 0:
        raise InputError(f"neuropil coefficient must be >= 0, got {neuropil_coefficient}")

    f = _load_array(folder / "F.npy", (2,))
    n_rois = f.shape[0]
    traces = f.astype(np.float64)
    if neuropil_coefficient > 0:
        fneu = _load_array(folder / "Fneu.npy", (2,))
        if fneu.shape != f.shape:
            raise InputError(f"{folder / 'Fneu.npy'}: shape {fneu.shape} does not match "
                             f"F.npy {f.shape}")
        traces = traces - neuropil_coefficient * fneu

    keep = np.arange(n_rois)
    if only_cells:
        iscell = _load_array(folder / "iscell.npy", (1, 2))
        if iscell.shape[0] != n_rois:
            raise InputError(f"{folder / 'iscell.npy'}: {iscell.shape[0]} rows for "
                             f"{n_rois} ROIs in F.npy")
        flags = iscell if iscell.ndim == 1 else iscell[:, 0]
        keep = np.flatnonzero(flags > 0.5)
        if keep.size == 0:
            raise InputError(f"{folder / 'iscell.npy'}: no ROI is marked as a cell")

    # Read ops.npy even when fps is given, to catch a contradicting frame rate.
    ops_path = folder / "ops.npy"
    ops_fs = _read_ops(ops_path).get("fs") if ops_path.is_file() else None
    if ops_fs is not None:
        ops_fs = check_fps(ops_fs, f"{ops_path}: ")
    if fps is None:
        if ops_fs is None:
            raise InputError(f"{folder}: no frame rate in ops.npy; pass --fps")
        fps = ops_fs
    else:
        fps = check_fps(fps, f"{folder}: ")
        if ops_fs is not None and abs(fps - ops_fs) > 0.01 * ops_fs:
            raise InputError(f"{folder}: --fps {fps:g} Hz disagrees with ops.npy "
                             f"fs = {ops_fs:g} Hz")

    # compute_dff works row by row, so selecting cells first only saves time.
    dff = compute_dff(traces[keep], fps)
    return TraceSet(traces=dff, fps=fps, neuron_ids=tuple(str(i) for i in keep),
                    dataset=folder.name, source=str(folder),
                    meta={"format": "suite2p", "neuropil_coefficient": neuropil_coefficient,
                          "n_rois": n_rois})
