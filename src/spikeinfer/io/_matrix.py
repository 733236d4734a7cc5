"""Plain matrices of traces: .npy and .csv files, and the orientation rule they share."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..exceptions import InputError
from ._source import open_npy

ORIENTATIONS = ("auto", "neurons-by-frames", "frames-by-neurons")


def is_transposed(shape: tuple, orientation: str, where: str) -> bool:
    """Whether a matrix of ``shape`` is frames x neurons (see :func:`orient_matrix`)."""
    if orientation not in ORIENTATIONS:
        raise InputError(f"{where}: orientation must be one of {', '.join(ORIENTATIONS)}")
    if len(shape) != 2:
        raise InputError(f"{where}: expected a 2-D matrix of traces, got shape {tuple(shape)}")
    if orientation == "auto" and shape[0] >= shape[1]:
        raise InputError(
            f"{where}: ambiguous orientation ({shape[0]} rows x {shape[1]} columns); "
            "spikeinfer expects neurons x frames, pass --orientation frames-by-neurons "
            "or --orientation neurons-by-frames")
    return orientation == "frames-by-neurons"


def orient_matrix(x: np.ndarray, orientation: str, where: str) -> np.ndarray:
    """Return ``x`` as (n_neurons, n_frames).

    With ``orientation="auto"`` a matrix is accepted as neurons x frames only
    when it has more columns than rows (suite2p's layout); otherwise the
    orientation is ambiguous and the user must say which it is.
    """
    if orientation not in ORIENTATIONS:
        raise InputError(f"{where}: orientation must be one of {', '.join(ORIENTATIONS)}")
    x = np.asarray(x)
    if x.ndim == 1:
        return x[None, :].astype(np.float64)  # one trace, whatever the orientation
    if x.ndim != 2:
        raise InputError(f"{where}: expected a 2-D matrix of traces, got shape {x.shape}")
    if x.dtype.kind not in "biuf":
        raise InputError(f"{where}: expected numbers, got dtype {x.dtype}")
    if orientation == "frames-by-neurons":
        x = x.T
    elif orientation == "auto" and x.shape[0] >= x.shape[1]:
        raise InputError(
            f"{where}: ambiguous orientation ({x.shape[0]} rows x {x.shape[1]} columns); "
            "spikeinfer expects neurons x frames, pass --orientation frames-by-neurons "
            "or --orientation neurons-by-frames")
    return x.astype(np.float64)


def read_npy(path: Path) -> np.ndarray:
    """A numeric array from a .npy file, read whole; pickled objects, damaged headers and
    headers claiming more than the file holds are refused (:func:`open_npy`)."""
    return np.array(open_npy(Path(path)))


def read_csv_matrix(path: Path, header: bool | None = None) -> np.ndarray:
    """A numeric matrix from a comma-separated file.

    ``header=None`` skips the first row only if it is not numeric; Spikefinder
    files, whose header ``0,1,2,...`` is numeric, pass ``header=True``.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: not a readable text file ({err})") from None
    skip = int(header) if header is not None else int(not _is_numeric_row(first))
    try:  # fast path: every field a number (NaN written as "nan")
        x = np.loadtxt(path, delimiter=",", skiprows=skip, dtype=np.float64, ndmin=2)
    except ValueError:
        x = _read_with_blanks(path, skip)
    if x.size == 0:
        raise InputError(f"{path}: no numbers found")
    return x


def _read_with_blanks(path: Path, skip: int) -> np.ndarray:
    """Slow path: blank fields are NaN (Spikefinder's padding); anything else must be a number."""
    try:
        tokens = np.genfromtxt(path, delimiter=",", skip_header=skip, dtype=str, ndmin=2,
                               autostrip=True, invalid_raise=True)
    except ValueError as err:
        raise InputError(f"{path}: rows of unequal length ({str(err).splitlines()[-1]})") from None
    tokens = np.where(tokens == "", "nan", tokens)
    try:
        return tokens.astype(np.float64)
    except ValueError as err:
        raise InputError(f"{path}: non-numeric value ({err})") from None


def _is_numeric_row(line: str) -> bool:
    try:
        [float(v) if v.strip() else np.nan for v in line.strip().split(",")]
    except ValueError:
        return False
    return bool(line.strip())
