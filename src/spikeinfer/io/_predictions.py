"""Writing predictions a chunk of neurons at a time: expected spikes per frame, their
intervals, spike times, the recording's estimates, quality flags and provenance.

Every writer builds its output under temporary names beside the target and renames it
into place when complete: an interrupted or failed run leaves nothing at the target.
Before writing, the free space of the target's disk is checked against the output's size.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import h5py
import numpy as np
import zarr
from numpy.lib.format import open_memmap

from ..exceptions import InputError
from ._spikefinder import format_spikefinder
from ._write import write_atomically

#: Suffixes a prediction can be written to.
PREDICTION_SUFFIXES = (".npy", ".h5", ".hdf5", ".zarr", ".nwb", ".csv")
UNITS = "expected spikes per frame"


def check_output_path(path: Path, force: bool = False) -> Path:
    """Refuse an output that names a folder (other than Zarr's), a missing folder, or an
    existing file without ``force``, with one line naming ``path``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in PREDICTION_SUFFIXES:
        raise InputError(f"{path}: output must end in {', '.join(PREDICTION_SUFFIXES)}")
    if path.is_dir() and suffix != ".zarr":
        raise InputError(f"{path}: is a folder; give the output a file name")
    if not path.parent.is_dir():
        raise InputError(f"{path}: folder {path.parent} does not exist")
    if path.exists() and not force:
        raise InputError(f"{path}: already exists; pass --force to overwrite")
    return path


def check_free_space(path: Path, n_bytes: int) -> None:
    """Refuse to start an output of ``n_bytes`` that the target's disk cannot hold."""
    free = shutil.disk_usage(Path(path).parent).free
    if n_bytes * 1.05 + (16 << 20) > free:
        raise InputError(f"{path}: needs about {n_bytes / 1e9:.2f} GB, the disk has "
                         f"{free / 1e9:.2f} GB free")


class PredictionWriter:
    """Writes one recording's predictions chunk by chunk; :meth:`close` puts the output in
    place, :meth:`abort` removes what was written.

    Parameters
    ----------
    path : Path
        ``.npy`` (with ``.lower.npy``/``.upper.npy``, ``.spike_times.csv`` and ``.json``
        beside it), ``.h5``/``.hdf5``, ``.zarr``, ``.csv`` (Spikefinder layout: expected
        spikes only) or ``.nwb`` (a new NWB file: the input NWB's content plus the
        predictions, ``nwb_input`` needed).
    n_neurons, n_frames, fps, neuron_ids : the recording's shape, rate and ROI names.
    uncertainty, spike_times : bool
        Whether intervals and spike times are written.
    """

    def __init__(self, path, n_neurons: int, n_frames: int, fps: float, neuron_ids,
                 *, uncertainty: bool = False, spike_times: bool = False, force: bool = False,
                 lengths=None, nwb_input: Path | None = None, nwb_series: str | None = None,
                 nwb_rows=None):
        self.path = check_output_path(path, force)
        self.suffix = self.path.suffix.lower()
        self.shape = (n_neurons, n_frames)
        self.fps, self.neuron_ids = fps, tuple(str(i) for i in neuron_ids)
        self.uncertainty, self.with_times = uncertainty, spike_times
        self.lengths = lengths
        self.nwb_input, self.nwb_series, self.nwb_rows = nwb_input, nwb_series, nwb_rows
        if self.suffix == ".nwb" and nwb_input is None:
            raise InputError(f"{self.path}: NWB output needs an NWB input (it is written "
                             "into a copy of it)")
        try:
            self._temporary = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.",
                                                    dir=self.path.parent))
        except OSError as err:
            raise InputError(f"{self.path}: folder {self.path.parent} is not writable "
                             f"({err.strerror or err})") from None
        try:
            check_free_space(self.path, n_neurons * n_frames * 4 * (3 if uncertainty else 1))
        except InputError:
            shutil.rmtree(self._temporary, ignore_errors=True)
            raise
        self._times: list[np.ndarray] = []
        self._estimates: dict[str, list] = {}
        self._quality: list[str] = []
        self._arrays = self._open_arrays()

    # -- arrays written chunk by chunk ------------------------------------------------

    def _names(self):
        return ("spikes", "spikes_lower", "spikes_upper") if self.uncertainty else ("spikes",)

    def _open_arrays(self) -> dict:
        t = self._temporary
        if self.suffix == ".npy":
            return {name: open_memmap(t / f"{name}.npy", mode="w+", dtype=np.float32,
                                      shape=self.shape) for name in self._names()}
        if self.suffix in (".h5", ".hdf5"):
            self._h5 = h5py.File(t / "out.h5", "w")
            chunks = (min(self.shape[0], 16), min(max(self.shape[1], 1), 1 << 16))
            return {name: self._h5.create_dataset(name, self.shape, np.float32, chunks=chunks,
                                                  compression="lzf")
                    for name in self._names()}
        if self.suffix == ".zarr":
            self._zarr = zarr.open_group(str(t / "out.zarr"), mode="w")
            chunks = (min(self.shape[0], 64), max(self.shape[1], 1))
            return {name: self._zarr.create_array(name, shape=self.shape, dtype="float32",
                                                  chunks=chunks)
                    for name in self._names()}
        # .csv and .nwb are written whole at the end (both small enough for memory)
        return {name: np.full(self.shape, np.nan, dtype=np.float32) for name in self._names()}

    def write_chunk(self, rows: tuple[int, int], spikes: np.ndarray, lower=None, upper=None,
                    spike_times=None, estimates: dict | None = None, quality=None) -> None:
        """Rows ``rows[0]:rows[1]`` of every output, in order of rows."""
        a, b = rows
        try:
            self._arrays["spikes"][a:b] = spikes
            if self.uncertainty:
                self._arrays["spikes_lower"][a:b] = lower
                self._arrays["spikes_upper"][a:b] = upper
        except OSError as err:
            raise InputError(f"{self.path}: cannot be written ({err.strerror or err})") from None
        if self.with_times:
            self._times.extend(spike_times)
        for key, values in (estimates or {}).items():
            self._estimates.setdefault(key, []).append(np.asarray(values, dtype=np.float64))
        self._quality.extend(quality or [""] * (b - a))

    # -- finishing ------------------------------------------------------------------

    def close(self, provenance: dict, recording: dict | None = None) -> Path:
        """Write what remains and move the output into place; returns its path."""
        estimates = {k: np.concatenate(v) for k, v in self._estimates.items()}
        side = {"provenance": provenance, "recording_estimates": recording or {},
                "neuron_ids": list(self.neuron_ids), "units": UNITS,
                "estimates": {k: _json_list(v) for k, v in estimates.items()},
                "quality": self._quality}
        try:
            if self.suffix == ".npy":
                self._close_npy(side)
            elif self.suffix in (".h5", ".hdf5"):
                self._close_h5(side, estimates)
            elif self.suffix == ".zarr":
                self._close_zarr(side, estimates)
            elif self.suffix == ".csv":
                text = format_spikefinder(self._arrays["spikes"], self.lengths
                                          if self.lengths is not None else
                                          np.full(self.shape[0], self.shape[1]), self.neuron_ids)
                write_atomically(self.path, lambda tmp: tmp.write_text(text), force=True)
            else:
                from ._nwb_write import write_nwb_predictions  # pynwb: only for NWB

                write_nwb_predictions(self.nwb_input, self.path, self._arrays, self._times
                                      if self.with_times else None, self.fps, self.nwb_series,
                                      self.nwb_rows, side)
        except OSError as err:
            self.abort()
            raise InputError(f"{self.path}: cannot be written ({err.strerror or err})") from None
        except BaseException:
            self.abort()
            raise
        shutil.rmtree(self._temporary, ignore_errors=True)
        return self.path

    def _close_npy(self, side: dict) -> None:
        for array in self._arrays.values():
            array.flush()
        stem = self.path.with_suffix("")
        targets = {"spikes_lower": Path(f"{stem}.lower.npy"), "spikes_upper": Path(f"{stem}.upper.npy")}
        for name, target in targets.items():
            if name in self._arrays:
                os.replace(self._temporary / f"{name}.npy", target)
        if self.with_times:
            lines = ["neuron,roi,time_s"] + [f"{i},{self.neuron_ids[i]},{t:.4f}"
                                             for i, times in enumerate(self._times) for t in times]
            write_atomically(Path(f"{stem}.spike_times.csv"),
                             lambda tmp: tmp.write_text("\n".join(lines) + "\n"), force=True)
        write_atomically(Path(f"{stem}.json"),
                         lambda tmp: tmp.write_text(json.dumps(side, indent=1)), force=True)
        os.replace(self._temporary / "spikes.npy", self.path)

    def _close_h5(self, side: dict, estimates: dict) -> None:
        fh = self._h5
        fh.create_dataset("neuron_ids", data=list(self.neuron_ids), dtype=h5py.string_dtype())
        fh.create_dataset("quality", data=self._quality, dtype=h5py.string_dtype())
        group = fh.create_group("estimates")
        for key, values in estimates.items():
            group.create_dataset(key, data=values)
        if self.with_times:
            times = fh.create_group("spike_times")
            counts = np.array([len(t) for t in self._times], dtype=np.int64)
            times.create_dataset("time_s", data=np.concatenate(self._times) if self._times
                                 else np.zeros(0))
            times.create_dataset("neuron", data=np.repeat(np.arange(len(counts)), counts))
            times.create_dataset("index", data=np.r_[0, np.cumsum(counts)])
        fh.attrs.update(fps=self.fps, units=UNITS, provenance=json.dumps(side["provenance"]),
                        recording_estimates=json.dumps(side["recording_estimates"]),
                        model=side["provenance"].get("model", ""),
                        source=side["provenance"].get("input", ""))
        fh.close()
        os.replace(self._temporary / "out.h5", self.path)

    def _close_zarr(self, side: dict, estimates: dict) -> None:
        group = self._zarr
        group.create_array("neuron_ids", data=np.array(self.neuron_ids, dtype=str))
        for key, values in estimates.items():
            group.create_array(f"estimates/{key}", data=values)
        if self.with_times:
            counts = np.array([len(t) for t in self._times], dtype=np.int64)
            group.create_array("spike_times/time_s", data=np.concatenate(self._times)
                               if self._times else np.zeros(0))
            group.create_array("spike_times/index", data=np.r_[0, np.cumsum(counts)])
        group.attrs.update(fps=self.fps, units=UNITS, provenance=side["provenance"],
                           recording_estimates=side["recording_estimates"],
                           quality=self._quality)
        if self.path.exists():
            shutil.rmtree(self.path)
        os.replace(self._temporary / "out.zarr", self.path)

    @staticmethod
    def remove_leftovers(path: Path, keep: Path | None = None) -> None:
        """Remove the temporary folders that runs killed while writing ``path`` left beside
        it (all but ``keep``)."""
        path = Path(path)
        for leftover in path.parent.glob(f".{path.name}.*"):
            if leftover.is_dir() and leftover != keep:
                shutil.rmtree(leftover, ignore_errors=True)

    def abort(self) -> None:
        """Remove everything written so far."""
        h5 = getattr(self, "_h5", None)
        if h5 is not None:
            try:
                h5.close()
            except Exception:  # an aborted file may already be closed or broken
                pass
        shutil.rmtree(self._temporary, ignore_errors=True)


def _json_list(values: np.ndarray) -> list:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


def read_prediction(path) -> dict:
    """A prediction written by :class:`PredictionWriter` (``.h5``, ``.npy`` with its
    sidecars, or ``.zarr``): ``spikes``, ``fps``, ``neuron_ids``, ``lower``/``upper``
    and ``spike_times`` where written, ``quality`` and ``provenance``."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".h5", ".hdf5"):
            with h5py.File(path, "r") as fh:
                out = {"spikes": fh["spikes"][()], "fps": float(fh.attrs["fps"]),
                       "neuron_ids": [_text(v) for v in fh["neuron_ids"][()]],
                       "quality": [_text(v) for v in fh["quality"][()]] if "quality" in fh
                       else [], "provenance": json.loads(fh.attrs.get("provenance", "{}"))}
                for key, name in (("lower", "spikes_lower"), ("upper", "spikes_upper")):
                    out[key] = fh[name][()] if name in fh else None
                out["spike_times"] = (np.split(fh["spike_times/time_s"][()],
                                               fh["spike_times/index"][()][1:-1])
                                      if "spike_times" in fh else None)
            return out
        if suffix == ".npy":
            stem = path.with_suffix("")
            side = json.loads(Path(f"{stem}.json").read_text())
            spikes = np.load(path, allow_pickle=False)
            out = {"spikes": spikes, "fps": float(side["provenance"].get("fps", np.nan)),
                   "neuron_ids": side["neuron_ids"], "quality": side.get("quality", []),
                   "provenance": side["provenance"]}
            for key in ("lower", "upper"):
                file = Path(f"{stem}.{key}.npy")
                out[key] = np.load(file, allow_pickle=False) if file.exists() else None
            times_file = Path(f"{stem}.spike_times.csv")
            out["spike_times"] = None
            if times_file.exists():
                table = np.loadtxt(times_file, delimiter=",", skiprows=1, usecols=(0, 2), ndmin=2)
                out["spike_times"] = [table[table[:, 0] == i, 1] for i in range(len(spikes))]
            return out
        if suffix == ".zarr":
            group = zarr.open_group(str(path), mode="r")
            attrs = dict(group.attrs)
            out = {"spikes": group["spikes"][:], "fps": float(attrs["fps"]),
                   "neuron_ids": [str(v) for v in group["neuron_ids"][:]],
                   "quality": attrs.get("quality", []), "provenance": attrs.get("provenance", {})}
            for key, name in (("lower", "spikes_lower"), ("upper", "spikes_upper")):
                out[key] = group[name][:] if name in group else None
            out["spike_times"] = (np.split(group["spike_times/time_s"][:],
                                           group["spike_times/index"][:][1:-1])
                                  if "spike_times" in group else None)
            return out
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise InputError(f"{path}: not a prediction written by spikeinfer "
                         f"({type(err).__name__}: {err})") from None
    raise InputError(f"{path}: read .h5, .npy or .zarr predictions")


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
