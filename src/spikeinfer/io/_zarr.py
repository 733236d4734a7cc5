"""Reader for a Zarr array of traces (a ``.zarr`` folder), read a block of rows at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import zarr

from ..exceptions import InputError
from ..signals import check_fps
from ._matrix import is_transposed
from ._source import GuardedArray, TraceSource


def open_zarr(path: Path, fps: float | None = None, orientation: str = "auto") -> TraceSource:
    """A 2-D Zarr array of traces; the frame rate from ``--fps`` or its attribute ``fps``."""
    try:
        array = zarr.open_array(str(path), mode="r")
    except Exception as err:  # zarr raises many types for what is not an array
        raise InputError(f"{path}: not a readable Zarr array ({type(err).__name__}: {err})"
                         ) from None
    if fps is None:
        try:
            fps = array.attrs.get("fps")
        except Exception as err:  # damaged attributes
            raise InputError(f"{path}: unreadable attributes ({err})") from None
        if fps is None:
            raise InputError(f"{path}: no frame rate; pass --fps")
    fps = check_fps(np.asarray(fps).item() if np.size(fps) == 1 else fps, f"{path}: ")
    if array.ndim != 2:
        raise InputError(f"{path}: expected a 2-D matrix of traces, got shape {array.shape}")
    return TraceSource(GuardedArray(array, str(path)), fps, transposed=is_transposed(array.shape, orientation, str(path)),
                       source=str(path), dataset=Path(path).stem, meta={"format": "zarr"})
