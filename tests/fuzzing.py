"""Damaged copies of real files of every format the readers take, for the fuzz test
(``tests/test_fuzz.py``) and its benchmark (``benchmarks/fuzz_readers.py``)."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import h5py
import numpy as np

from spikeinfer import DataWarning
from spikeinfer.io import load_cascade_dataset, load_spikefinder, load_traces

FORMATS = ("npy", "csv", "h5", "nwb", "spikefinder", "cascade", "suite2p-ops", "suite2p-F",
           "zarr")


def make_example(fmt: str, folder: Path, data_dir: Path) -> Path:
    """A small valid file of ``fmt`` in ``folder``; returns the path to damage."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    traces = rng.normal(0, 0.05, (3, 600)).astype(np.float32)
    if fmt == "npy":
        np.save(folder / "x.npy", traces)
        return folder / "x.npy"
    if fmt == "csv":
        np.savetxt(folder / "x.csv", traces, delimiter=",")
        return folder / "x.csv"
    if fmt == "h5":
        with h5py.File(folder / "x.h5", "w") as fh:
            fh.create_dataset("traces", data=traces)
            fh.attrs["fps"] = 30.0
        return folder / "x.h5"
    if fmt == "zarr":
        import zarr

        array = zarr.open_array(str(folder / "x.zarr"), mode="w", shape=traces.shape,
                                dtype="f4", chunks=(1, 600))
        array[:] = traces
        array.attrs["fps"] = 30.0
        chunks = [p for p in sorted((folder / "x.zarr").rglob("*")) if p.is_file()]
        return chunks[int(np.random.default_rng(len(str(folder))).integers(len(chunks)))]
    if fmt == "nwb":
        from test_io_formats import _nwb_file

        _nwb_file(folder / "x.nwb")
        return folder / "x.nwb"
    if fmt == "spikefinder":
        src = data_dir / "spikefinder" / "train"
        lines = (src / "6.train.calcium.csv").read_text().splitlines()[:1500]
        (folder / "6.train.calcium.csv").write_text("\n".join(lines) + "\n")
        spikes = (src / "6.train.spikes.csv").read_text().splitlines()[:1500]
        (folder / "6.train.spikes.csv").write_text("\n".join(spikes) + "\n")
        return folder / "6.train.calcium.csv"
    if fmt == "cascade":
        dataset = folder / "DS99-OGB1-m-V1"
        dataset.mkdir()
        original = sorted((data_dir / "cascade_gt_original").rglob("*.mat"))[0]
        shutil.copy(original, dataset / original.name)
        return dataset / original.name
    if fmt.startswith("suite2p"):
        plane = folder / "plane0"
        plane.mkdir()
        np.save(plane / "F.npy", 500 + 10 * traces)
        np.save(plane / "Fneu.npy", 100 + traces)
        np.save(plane / "iscell.npy", np.ones((3, 2)))
        np.save(plane / "ops.npy", np.array({"fs": 30.0, "nframes": 600}, dtype=object),
                allow_pickle=True)
        return plane / ("ops.npy" if fmt == "suite2p-ops" else "F.npy")
    raise ValueError(fmt)


def damage(path: Path, how: str, seed: int) -> None:
    """Truncate ``path`` at a random length, flip random bits, or replace it with random
    bytes of the same size."""
    rng = np.random.default_rng(seed)
    data = bytearray(path.read_bytes())
    if how == "truncate":
        data = data[:int(rng.integers(0, max(len(data), 1)))]
    elif how == "flip":
        for i in rng.integers(0, max(len(data), 1), size=int(rng.integers(1, 20))):
            if data:
                data[i] ^= 1 << int(rng.integers(0, 8))
    else:
        data = bytearray(rng.integers(0, 256, size=len(data), dtype=np.uint8).tobytes())
    path.write_bytes(bytes(data))


def read_example(fmt: str, path: Path) -> list:
    """What the readers make of the (damaged) example: a list of TraceSets."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        warnings.simplefilter("ignore", UserWarning)
        if fmt == "cascade":
            return load_cascade_dataset(path.parent)
        if fmt.startswith("suite2p"):
            return [load_traces(path.parent)]
        if fmt == "zarr":
            return [load_traces(next(p for p in [path, *path.parents] if p.suffix == ".zarr"),
                                fps=30.0)]
        if fmt == "spikefinder":
            return [load_spikefinder(path)]
        return [load_traces(path, fps=30.0)]
