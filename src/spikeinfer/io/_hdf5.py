"""Reader for a matrix of traces stored in a generic HDF5 file."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from ..data import TraceSet
from ..signals import check_fps
from ..exceptions import InputError
from ._matrix import orient_matrix

# Attribute names taken as the frame rate in Hz, in order of preference.
_FPS_ATTRS = ("fps", "frame_rate", "fs")


def read_hdf5(path: Path, fps: float | None = None, dataset: str | None = None,
              orientation: str = "auto") -> TraceSet:
    """Read a 2-D matrix of traces from an HDF5 file.

    Parameters
    ----------
    path : Path
        An HDF5 file.
    fps : float, optional
        Frame rate in Hz. If omitted, an attribute ``fps``, ``frame_rate`` or
        ``fs`` on the dataset, else on the file root, is used. When given it
        takes precedence over the attributes, whose meaning is only a guess.
    dataset : str, optional
        Path of the dataset inside the file; needed unless the file holds
        exactly one 2-D numeric dataset.
    orientation : {"auto", "neurons-by-frames", "frames-by-neurons"}, default="auto"
        Layout of the matrix, see :func:`spikeinfer.io._matrix.orient_matrix`.

    Returns
    -------
    TraceSet
        The traces as stored (no dF/F conversion), one row per neuron.

    Raises
    ------
    InputError
        If the file is not HDF5, the dataset is missing or ambiguous, the
        orientation is ambiguous, or the frame rate is unknown.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        fh = h5py.File(path, "r")
    except OSError as err:
        raise InputError(f"{path}: not a readable HDF5 file ({err})") from None
    with fh:
        candidates = []  # 2-D numeric datasets; 1-D, boolean or text ones are not traces

        def collect(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.ndim == 2 and obj.dtype.kind in "iuf":
                candidates.append("/" + name)

        fh.visititems(collect)
        listing = ", ".join(candidates) or "none"
        if dataset is None:
            if len(candidates) != 1:
                raise InputError(f"{path}: {len(candidates)} 2-D numeric datasets "
                                 f"({listing}); pass --dataset PATH")
            dataset = candidates[0]
        ds = fh.get(dataset)
        if not isinstance(ds, h5py.Dataset):
            raise InputError(f"{path}: no dataset {dataset!r} (2-D numeric datasets: {listing})")
        name = ds.name
        where = f"{path}, dataset {name}"
        try:
            x = ds[()]
        except (OSError, TypeError, ValueError) as err:  # damaged chunks, missing filters
            raise InputError(f"{where}: cannot be read ({err})") from None

        fps_source = "argument"
        if fps is None:
            fps, fps_source = _fps_attribute(ds, fh)
            if fps is None:
                raise InputError(f"{path}: no frame rate; pass --fps")
        fps = check_fps(fps, f"{path}: {fps_source}: ")

    traces = orient_matrix(x, orientation, where)
    return TraceSet(traces=traces, fps=fps, dataset=path.stem, source=str(path),
                    meta={"format": "hdf5", "dataset": name, "fps_source": fps_source})


def _fps_attribute(*objects) -> tuple[object, str]:
    """The first frame-rate attribute on the objects, and where it was; (None, "") if none."""
    for obj in objects:
        for attr in _FPS_ATTRS:
            if attr in obj.attrs:
                value = np.asarray(obj.attrs[attr])  # often stored as a 1-element array
                value = value.item() if value.size == 1 else value
                return value, f"attribute {attr} of {obj.name}"
    return None, ""
