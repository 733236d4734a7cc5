"""Reading traces and ground truth, writing predictions.

One private module per format behind :func:`load_traces` and
:func:`save_predictions`; ground truth has :func:`load_spikefinder` and
:func:`load_cascade_dataset`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..data import TraceSet
from ..signals import check_fps
from ..exceptions import DataWarning, InputError
from ._cascade import read_cascade_collection, read_cascade_dataset
from ._matrix import ORIENTATIONS, orient_matrix, read_csv_matrix, read_npy
from ._spikefinder import (
    SPIKEFINDER_FPS,
    format_spikefinder,
    read_spikefinder,
    read_spikefinder_counts,
    spikes_path_for,
)
from ._catalogue import (
    DEFAULT_SPIKEFINDER_SETS,
    INDICATORS,
    DatasetEntry,
    cv_folds,
    dataset_group,
    dataset_indicator,
    is_inhibitory,
    load_catalogue,
    normalise_indicator_name,
)
from ._artifact import ARTIFACT_KINDS, read_artifact, sha256_of, write_artifact
from ._write import write_atomically

FORMATS = ("auto", "spikefinder", "npy", "csv", "h5", "suite2p", "nwb")

__all__ = ["ARTIFACT_KINDS", "DEFAULT_SPIKEFINDER_SETS", "FORMATS", "INDICATORS", "ORIENTATIONS",
           "DatasetEntry", "cv_folds", "dataset_group", "dataset_indicator", "is_inhibitory",
           "load_catalogue", "load_ground_truth", "normalise_indicator_name", "read_artifact",
           "sha256_of", "write_artifact", "detect_format", "load_traces", "load_spikefinder",
           "load_cascade_dataset", "load_cascade_collection", "load_counts",
           "save_predictions", "write_atomically"]


def detect_format(path: Path) -> str:
    """The input format implied by a path's name and kind."""
    path = Path(path)
    if path.is_dir():
        if (path / "F.npy").exists() or any(path.glob("plane*/F.npy")):
            return "suite2p"
        raise InputError(f"{path}: folder is not a suite2p output (no F.npy); pass a file")
    name = path.name.lower()
    if name.endswith(".calcium.csv") or name.endswith(".spikes.csv"):
        return "spikefinder"
    by_suffix = {".npy": "npy", ".csv": "csv", ".h5": "h5", ".hdf5": "h5", ".nwb": "nwb"}
    if path.suffix.lower() in by_suffix:
        return by_suffix[path.suffix.lower()]
    raise InputError(f"{path}: unknown format; pass --format ({', '.join(FORMATS[1:])})")


def load_traces(path, format: str = "auto", fps: float | None = None, *,
                orientation: str = "auto", dataset: str | None = None) -> TraceSet:
    """Load fluorescence traces from any supported file.

    Parameters
    ----------
    path : str or Path
        A file, or a suite2p output folder.
    format : {"auto", "spikefinder", "npy", "csv", "h5", "suite2p", "nwb"}, default="auto"
        File format; ``"auto"`` decides from the name.
    fps : float, default=None
        Frame rate in Hz; required where the format does not carry one
        (npy, csv, HDF5 without a rate attribute).
    orientation : {"auto", "neurons-by-frames", "frames-by-neurons"}, default="auto"
        Layout of npy, csv and HDF5 matrices. ``"auto"`` accepts a matrix with
        more columns than rows as neurons x frames and refuses others as ambiguous.
    dataset : str, default=None
        HDF5 dataset path, or NWB series name, to read.

    Returns
    -------
    TraceSet
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if format not in FORMATS:
        raise InputError(f"{path}: unknown format {format!r}; choose from {', '.join(FORMATS)}")
    fmt = detect_format(path) if format == "auto" else format
    if fmt == "spikefinder":
        if fps is not None and abs(check_fps(fps, f"{path}: ") - SPIKEFINDER_FPS) > 1e-9:
            raise InputError(f"{path}: Spikefinder files are at {SPIKEFINDER_FPS:g} Hz, "
                             f"not {fps:g} Hz")
        return read_spikefinder(path)
    if fmt in ("npy", "csv"):
        matrix = read_npy(path) if fmt == "npy" else read_csv_matrix(path)
        traces = orient_matrix(matrix, orientation, str(path))
        return TraceSet(traces, check_fps(fps, f"{path}: "), source=str(path))
    if fmt == "h5":
        from ._hdf5 import read_hdf5

        return read_hdf5(path, fps=fps, dataset=dataset, orientation=orientation)
    if fmt == "suite2p":
        from ._suite2p import read_suite2p

        planes = sorted(p.name for p in path.glob("plane*") if (p / "F.npy").exists())
        if not (path / "F.npy").exists() and len(planes) > 1:
            raise InputError(f"{path}: {len(planes)} planes ({', '.join(planes)}); "
                             "pass one plane folder")
        return read_suite2p(path if (path / "F.npy").exists() else path / planes[0], fps=fps)
    from ._nwb import read_nwb

    return read_nwb(path, fps=fps, series=dataset)


def load_spikefinder(calcium_path, spikes_path=None, *, with_spikes: bool = True) -> TraceSet:
    """A Spikefinder calcium file with its ground truth (``N.split.spikes.csv`` beside it)."""
    calcium_path = Path(calcium_path)
    if not calcium_path.exists():
        raise InputError(f"{calcium_path}: no such file")
    if spikes_path is None and with_spikes:
        spikes_path = spikes_path_for(calcium_path)
        if not spikes_path.exists():
            raise InputError(f"{spikes_path}: no such file (ground truth for {calcium_path.name})")
    return read_spikefinder(calcium_path, Path(spikes_path) if spikes_path else None)


def load_cascade_dataset(folder, quiet: bool = False) -> list[TraceSet]:
    """One CASCADE dataset folder, as one TraceSet per frame rate. Each repair or skip
    of an irregular file is a DataWarning, unless ``quiet``."""
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore", DataWarning)
        return read_cascade_dataset(Path(folder))


def load_cascade_collection(root, quiet: bool = False) -> list[TraceSet]:
    """Every CASCADE dataset folder under ``root`` (see :func:`load_cascade_dataset`)."""
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore", DataWarning)
        return read_cascade_collection(Path(root))


def load_counts(path, format: str = "auto", *, orientation: str = "auto",
                dataset: str | None = None) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """Spike counts or predictions per frame, (n_neurons, n_frames), with names if stored.

    Reads Spikefinder CSV (columns are neurons), .npy, .csv and the ``spikes``
    dataset of an HDF5 file written by :func:`save_predictions`.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    fmt = detect_format(path) if format == "auto" else format
    if fmt == "spikefinder":
        return read_spikefinder_counts(path)
    if fmt == "npy":
        return orient_matrix(read_npy(path), orientation, str(path)), None
    if fmt == "csv":
        return orient_matrix(read_csv_matrix(path), orientation, str(path)), None
    if fmt == "h5":
        import h5py

        try:
            with h5py.File(path, "r") as fh:
                values = np.asarray(fh[dataset or "spikes"], dtype=np.float64)
                names = tuple(s.decode() if isinstance(s, bytes) else str(s)
                              for s in fh["neuron_ids"][()]) if "neuron_ids" in fh else None
        except (OSError, KeyError, TypeError, ValueError) as err:
            raise InputError(f"{path}: cannot read spike counts ({err})") from None
        return orient_matrix(values, orientation, str(path)), names
    raise InputError(f"{path}: format {fmt!r} does not hold spike counts")


def save_predictions(path, predictions: np.ndarray, like: TraceSet, *, force: bool = False,
                     model: str = "") -> Path:
    """Write predictions (expected spikes per frame) atomically.

    The format follows the suffix: ``.csv`` gives Spikefinder layout (columns
    are neurons, blank past each neuron's length), ``.npy`` a (n_neurons,
    n_frames) array with NaN past each length, ``.h5``/``.hdf5`` a ``spikes``
    dataset with ``neuron_ids`` and the frame rate as attribute ``fps``.
    """
    path = Path(path)
    predictions = np.asarray(predictions, dtype=np.float64)
    if predictions.shape != like.traces.shape:
        raise InputError(f"{path}: predictions of shape {predictions.shape} do not match "
                         f"the traces' {like.traces.shape}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = format_spikefinder(predictions, like.lengths, like.neuron_ids)
        write_atomically(path, lambda tmp: tmp.write_text(text), force)
    elif suffix == ".npy":
        def write(tmp):
            with open(tmp, "wb") as fh:
                np.save(fh, predictions)
        write_atomically(path, write, force)
    elif suffix in (".h5", ".hdf5"):
        def write(tmp):
            import h5py

            with h5py.File(tmp, "w") as fh:
                fh.create_dataset("spikes", data=predictions, compression="gzip")
                fh.create_dataset("neuron_ids", data=list(like.neuron_ids),
                                  dtype=h5py.string_dtype())
                fh.attrs.update(fps=like.fps, model=model, source=like.source,
                                units="expected spikes per frame")
        write_atomically(path, write, force)
    else:
        raise InputError(f"{path}: output must end in .csv, .npy, .h5 or .hdf5")
    return path


def load_ground_truth(root, datasets: Sequence[str] | None = None) -> list[TraceSet]:
    """Ground truth under ``root`` (the data folder, e.g. ``../shared/data``): the
    catalogue's CASCADE datasets and Spikefinder set 4, or only ``datasets`` (names of
    the catalogue, e.g. ``spikefinder-5``), chosen before anything is read."""
    catalogue = load_catalogue()
    root = Path(root)
    if datasets is None:
        datasets = [d for d, e in catalogue.items()
                    if e.path.startswith("cascade_gt/") or d in DEFAULT_SPIKEFINDER_SETS]
    unknown = [d for d in datasets if d not in catalogue]
    if unknown:
        raise InputError(f"not in the ground-truth catalogue: {', '.join(unknown)}")
    data = []
    for name in datasets:
        path = root / catalogue[name].path
        if not path.exists():
            raise InputError(f"{path}: ground truth of {name} not found")
        if path.is_dir():
            data.extend(load_cascade_dataset(path, quiet=True))
        else:
            data.append(load_spikefinder(path))
    return data
