"""Reading traces and ground truth, writing predictions.

One private module per format behind :func:`load_traces` and
:func:`save_predictions`; ground truth has :func:`load_spikefinder` and
:func:`load_cascade_dataset`.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np

from ..data import TraceSet
from ..preprocess import INPUT_KINDS, detect_input_kind, to_dff
from ..signals import check_fps
from ..exceptions import DataWarning, InputError
from ._cascade import read_cascade_collection, read_cascade_dataset
from ._hdf5 import open_hdf5, read_hdf5
from ._matrix import ORIENTATIONS, is_transposed, orient_matrix, read_csv_matrix, read_npy
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
from ._fetch import (DATA_ENV, FetchResult, Registry, check_pinned, default_data_dir,
                     fetch_ground_truth, ground_truth_cache, make_registry, read_registry)
from ._predictions import (
    PREDICTION_SUFFIXES,
    PredictionWriter,
    check_output_path,
    read_prediction,
)
from ._source import TraceSource, open_npy
from ._suite2p import read_suite2p
from ._zarr import open_zarr
from ._write import write_atomically

FORMATS = ("auto", "spikefinder", "npy", "csv", "h5", "zarr", "suite2p", "nwb")

__all__ = ["INPUT_KINDS", "PREDICTION_SUFFIXES", "PredictionWriter", "TraceSource",
           "check_output_path", "open_traces", "read_prediction", "ARTIFACT_KINDS", "DEFAULT_SPIKEFINDER_SETS", "FORMATS", "INDICATORS", "ORIENTATIONS",
           "DatasetEntry", "cv_folds", "dataset_group", "dataset_indicator", "is_inhibitory",
           "load_catalogue", "load_ground_truth", "normalise_indicator_name", "read_artifact",
           "sha256_of", "write_artifact", "detect_format", "load_traces", "load_spikefinder",
           "load_cascade_dataset", "load_cascade_collection", "load_counts",
           "save_predictions", "sha256_of_input", "write_atomically", "DATA_ENV",
           "FetchResult", "Registry", "check_pinned", "default_data_dir", "fetch_ground_truth",
           "ground_truth_cache", "make_registry", "read_registry"]


def detect_format(path: Path) -> str:
    """The input format implied by a path's name and kind."""
    path = Path(path)
    if path.is_dir():
        if path.suffix.lower() == ".zarr" or (path / ".zarray").exists() or (
                path / "zarr.json").exists():
            return "zarr"
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


def open_traces(path, format: str = "auto", fps: float | None = None, *,
                orientation: str = "auto", dataset: str | None = None,
                input_kind: str = "auto") -> TraceSource:
    """Open a recording of any supported format, to be read a block of rows at a time:
    ``.npy`` through a memory map and HDF5 or Zarr by slices (recordings larger than
    memory), the other formats read whole.

    Parameters as :func:`load_traces`. The returned source converts what it reads to
    dF/F (see ``input_kind``); ``meta["input_kind"]`` says what the file held and
    ``meta["input_kind_reason"]`` why.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if format not in FORMATS:
        raise InputError(f"{path}: unknown format {format!r}; choose from {', '.join(FORMATS)}")
    if input_kind not in INPUT_KINDS:
        raise InputError(f"{path}: input kind must be one of {', '.join(INPUT_KINDS)}")
    fmt = detect_format(path) if format == "auto" else format
    if fmt == "spikefinder":
        if fps is not None and abs(check_fps(fps, f"{path}: ") - SPIKEFINDER_FPS) > 1e-9:
            raise InputError(f"{path}: Spikefinder files are at {SPIKEFINDER_FPS:g} Hz, "
                             f"not {fps:g} Hz")
        source = TraceSource.from_traceset(read_spikefinder(path))
    elif fmt == "npy":
        matrix = open_npy(path)
        source = TraceSource(matrix, check_fps(fps, f"{path}: "), source=str(path),
                             transposed=is_transposed(matrix.shape, orientation, str(path))
                             if matrix.ndim == 2 else False,
                             dataset=path.stem) if matrix.ndim == 2 else \
            TraceSource.from_traceset(TraceSet(orient_matrix(matrix, orientation, str(path)),
                                               check_fps(fps, f"{path}: "), source=str(path)))
    elif fmt == "csv":
        traces = orient_matrix(read_csv_matrix(path), orientation, str(path))
        source = TraceSource(traces, check_fps(fps, f"{path}: "), source=str(path),
                             dataset=path.stem)
    elif fmt == "h5":
        source = open_hdf5(path, fps=fps, dataset=dataset, orientation=orientation)
    elif fmt == "zarr":
        source = open_zarr(path, fps=fps, orientation=orientation)
    elif fmt == "suite2p":
        planes = sorted(p.name for p in path.glob("plane*") if (p / "F.npy").exists())
        if not (path / "F.npy").exists() and len(planes) > 1:
            raise InputError(f"{path}: {len(planes)} planes ({', '.join(planes)}); "
                             "pass one plane folder")
        source = TraceSource.from_traceset(read_suite2p(
            path if (path / "F.npy").exists() else path / planes[0], fps=fps))
    else:
        from ._nwb import read_nwb  # pynwb takes a second to import: only for NWB files

        source = TraceSource.from_traceset(read_nwb(path, fps=fps, series=dataset))
    return _with_input_kind(source, input_kind, path)


def _with_input_kind(source: TraceSource, input_kind: str, path: Path) -> TraceSource:
    """The source converting what it reads to dF/F. Readers that make dF/F themselves
    (suite2p, NWB fluorescence) are taken at their word."""
    if source.meta.get("converted_to_dff") or source.meta.get("format") == "suite2p":
        source.meta.setdefault("input_kind", "dff")
        return source
    if input_kind == "auto":
        sample_rows = np.unique(np.linspace(0, source.n_neurons - 1,
                                            min(source.n_neurons, 16)).astype(int))
        kind, reason = detect_input_kind(source.read_rows(sample_rows), source.fps)
        if kind != "dff":
            warnings.warn(f"{path}: read as {KIND_NAMES[kind]} ({reason}) and converted to "
                          f"dF/F; pass --input-kind dff to read it as it is",
                          DataWarning, stacklevel=3)
    else:
        kind, reason = input_kind, "as asked"
    source.meta.update(input_kind=kind, input_kind_reason=reason)
    if kind != "dff":
        fps = source.fps
        source.transform = lambda block: to_dff(block, fps, kind)
    return source


#: What the input kinds are called in messages.
KIND_NAMES = {"raw": "raw fluorescence", "percent": "dF/F in percent", "dff": "dF/F"}


def load_traces(path, format: str = "auto", fps: float | None = None, *,
                orientation: str = "auto", dataset: str | None = None,
                input_kind: str = "auto") -> TraceSet:
    """Load fluorescence traces from any supported file.

    Parameters
    ----------
    path : str or Path
        A file, or a suite2p output folder, or a Zarr array folder.
    format : {"auto", "spikefinder", "npy", "csv", "h5", "zarr", "suite2p", "nwb"}, default="auto"
        File format; ``"auto"`` decides from the name.
    fps : float, default=None
        Frame rate in Hz; required where the format does not carry one
        (npy, csv, HDF5 and Zarr without a rate attribute).
    orientation : {"auto", "neurons-by-frames", "frames-by-neurons"}, default="auto"
        Layout of npy, csv, HDF5 and Zarr matrices. ``"auto"`` accepts a matrix with
        more columns than rows as neurons x frames and refuses others as ambiguous.
    dataset : str, default=None
        HDF5 dataset path, or NWB series name, to read.
    input_kind : {"auto", "dff", "raw", "percent"}, default="auto"
        What a matrix holds: dF/F, raw fluorescence (converted to dF/F with a running
        8th percentile over 60 s as F0) or dF/F in percent (divided by 100). ``"auto"``
        decides from the traces' baseline and noise (:func:`spikeinfer.preprocess.
        detect_input_kind`) and warns when it converts.

    Returns
    -------
    TraceSet
    """
    source = open_traces(path, format, fps, orientation=orientation, dataset=dataset,
                         input_kind=input_kind)
    try:
        return source.traceset()
    finally:
        handle = source.meta.pop("file", None)
        if handle is not None:
            handle.close()


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
    """Write predictions (expected spikes per frame) of the recording ``like`` atomically.

    The format follows the suffix: ``.csv`` gives Spikefinder layout (columns are
    neurons, blank past each neuron's length), ``.npy`` a (n_neurons, n_frames) array
    (with a ``.json`` beside it: neuron ids and provenance), ``.h5``/``.hdf5`` a
    ``spikes`` dataset with ``neuron_ids`` and the frame rate as attribute ``fps``,
    ``.zarr`` the same as a Zarr group. (``spikeinfer predict`` writes more: see
    :class:`PredictionWriter`.)
    """
    predictions = np.asarray(predictions, dtype=np.float64)
    if predictions.shape != like.traces.shape:
        raise InputError(f"{path}: predictions of shape {predictions.shape} do not match "
                         f"the traces' {like.traces.shape}")
    writer = PredictionWriter(path, *predictions.shape, like.fps, like.neuron_ids, force=force,
                              lengths=like.lengths)
    writer.write_chunk((0, predictions.shape[0]), predictions)
    return writer.close({"model": model, "input": like.source})


def sha256_of_input(path) -> str:
    """The sha256 of a recording's file, or of the files of a folder (suite2p, Zarr) in
    order of their names."""
    path = Path(path)
    if path.is_file():
        return sha256_of(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode())
        digest.update(bytes.fromhex(sha256_of(file)))
    return digest.hexdigest()


def load_ground_truth(root, datasets: Sequence[str] | None = None, *,
                      skip_missing: bool = False) -> list[TraceSet]:
    """Ground truth under ``root`` (the data folder, e.g. ``../shared/data``): the
    catalogue's CASCADE datasets and Spikefinder set 4, or only ``datasets`` (names of
    the catalogue, e.g. ``spikefinder-5``), chosen before anything is read. With
    ``skip_missing``, datasets not under ``root`` are left out (a partial copy), and
    only a folder holding none of them is refused."""
    catalogue = load_catalogue()
    root = Path(root)
    if datasets is None:
        datasets = [d for d, e in catalogue.items()
                    if e.path.startswith("cascade_gt/") or d in DEFAULT_SPIKEFINDER_SETS]
    unknown = [d for d in datasets if d not in catalogue]
    if unknown:
        raise InputError(f"not in the ground-truth catalogue: {', '.join(unknown)}")
    if skip_missing:
        datasets = [d for d in datasets if (root / catalogue[d].path).exists()]
        if not datasets:
            raise InputError(f"{root}: holds none of the ground-truth datasets (cascade_gt/, "
                             "spikefinder/); run 'spikeinfer data' to fetch them")
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
