"""Reader for a matrix of traces in a generic HDF5 file (CaImAn's ``estimates/F_dff``
included), read a block of rows at a time."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from ..exceptions import InputError
from ..signals import check_fps
from ._matrix import is_transposed
from ._source import GuardedArray, TraceSource

# Attribute names taken as the frame rate in Hz, in order of preference (``fr``: CaImAn).
_FPS_ATTRS = ("fps", "frame_rate", "fs", "fr")
# Datasets preferred when a file holds several matrices: CaImAn's dF/F.
_PREFERRED = ("/estimates/F_dff",)


def open_hdf5(path: Path, fps: float | None = None, dataset: str | None = None,
              orientation: str = "auto") -> TraceSource:
    """A 2-D matrix of traces in an HDF5 file, read when asked.

    Parameters
    ----------
    path : Path
        An HDF5 file.
    fps : float, optional
        Frame rate in Hz. If omitted, an attribute ``fps``, ``frame_rate``, ``fs`` or
        ``fr`` on the dataset, else on the file root (or CaImAn's ``params/data/fr``),
        is used. When given it takes precedence over the attributes.
    dataset : str, optional
        Path of the dataset inside the file; needed unless the file holds exactly one
        2-D numeric dataset (or CaImAn's ``estimates/F_dff``).
    orientation : {"auto", "neurons-by-frames", "frames-by-neurons"}, default="auto"

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
    except Exception as err:  # not HDF5, or damaged beyond opening
        raise InputError(f"{path}: not a readable HDF5 file ({err})") from None
    try:
        candidates = []  # 2-D numeric datasets; 1-D, boolean or text ones are not traces

        def collect(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.ndim == 2 and obj.dtype.kind in "iuf":
                candidates.append("/" + name)

        fh.visititems(collect)
        listing = ", ".join(candidates) or "none"
        if dataset is None:
            preferred = [c for c in candidates if c in _PREFERRED]
            if len(candidates) != 1 and not preferred:
                raise InputError(f"{path}: {len(candidates)} 2-D numeric datasets "
                                 f"({listing}); pass --dataset PATH")
            dataset = (preferred or candidates)[0]
        ds = fh.get(dataset)
        if not isinstance(ds, h5py.Dataset):
            raise InputError(f"{path}: no dataset {dataset!r} (2-D numeric datasets: {listing})")
        where = f"{path}, dataset {ds.name}"
        fps_source = "argument"
        if fps is None:
            fps, fps_source = _fps_attribute(ds, fh, fh.get("params/data"))
            if fps is None:
                raise InputError(f"{path}: no frame rate; pass --fps")
        fps = check_fps(fps, f"{path}: {fps_source}: ")
        transposed = is_transposed(ds.shape, orientation, where)
        # CaImAn stores neurons x frames; its files need no orientation when unambiguous
        return TraceSource(GuardedArray(ds, where), fps, transposed=transposed, dataset=path.stem,
                           source=str(path), meta={"format": "hdf5", "dataset": ds.name,
                                                   "fps_source": fps_source, "file": fh})
    except InputError:
        fh.close()
        raise
    except Exception as err:  # a damaged file fails in many ways inside HDF5
        fh.close()
        raise InputError(f"{path}: not a readable HDF5 file ({type(err).__name__}: {err})"
                         ) from None


def read_hdf5(path: Path, fps: float | None = None, dataset: str | None = None,
              orientation: str = "auto"):
    """:func:`open_hdf5`, read whole into a TraceSet."""
    source = open_hdf5(path, fps, dataset, orientation)
    try:
        ts = source.traceset()
    finally:
        source.meta.pop("file").close()
    return ts


def _fps_attribute(*objects) -> tuple[object, str]:
    """The first frame-rate attribute on the objects, and where it was; (None, "") if none."""
    for obj in objects:
        if obj is None:
            continue
        for attr in _FPS_ATTRS:
            if attr in obj.attrs:
                value = np.asarray(obj.attrs[attr])  # often stored as a 1-element array
                value = value.item() if value.size == 1 else value
                return value, f"attribute {attr} of {obj.name}"
        if isinstance(obj, h5py.Group) and "fr" in obj and isinstance(obj["fr"], h5py.Dataset):
            value = np.asarray(obj["fr"][()])
            return (value.item() if value.size == 1 else value), f"dataset {obj.name}/fr"
    return None, ""
