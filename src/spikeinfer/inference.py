"""Inference on whole recordings: what ``spikeinfer predict`` gives a user beside the
expected spikes per frame.

- :func:`place_spikes`: discrete spike times from expected counts;
- :class:`CountError` and :func:`count_interval`: an interval on the number of spikes of
  any frame or window, from the expected count and the model's measured error;
- :func:`quality_flags`: per neuron, why its output should not be trusted, if it should not;
- :func:`predict_recording`: all of it for a recording, a chunk of neurons at a time
  (bounded memory), resumable, on this process or on a Dask cluster.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy import stats
from tqdm.auto import tqdm

from . import __version__
from .calibration import Calibration, calibrate
from .counts import gate_silence, silence_threshold
from .exceptions import InputError
from .io import PredictionWriter, TraceSource, write_atomically
from .models import SpikeModel
from .signals import compute_noise_level, finite_runs

logger = logging.getLogger(__name__)

#: The central interval of :func:`count_interval` (90%).
INTERVAL_LEVEL = 0.9
#: Neurons predicted per chunk: the unit of memory, of resuming and of Dask tasks.
CHUNK_NEURONS = 256


# -- spike times ----------------------------------------------------------------------

def place_spikes(expected: np.ndarray, fps: float) -> np.ndarray:
    """Spike times (s) of one trace from its expected spikes per frame: a spike each time
    the running sum of expected spikes passes a half-integer (0.5, 1.5, ...), placed within
    its frame where the sum passes it. The number of spikes is the rounded total; a frame
    expecting 3.2 spikes gets 3, an isolated frame expecting 0.3 none.

    NaN frames count as zero.
    """
    counts = np.nan_to_num(np.asarray(expected, dtype=np.float64).ravel(), nan=0.0)
    counts = np.maximum(counts, 0.0)
    cumulative = np.concatenate([[0.0], np.cumsum(counts)])
    n = int(np.floor(cumulative[-1] + 0.5))
    if n == 0:
        return np.zeros(0)
    levels = np.arange(n) + 0.5
    frame = np.searchsorted(cumulative, levels, side="left") - 1  # the frame that crosses
    frame = np.clip(frame, 0, len(counts) - 1)
    within = (levels - cumulative[frame]) / np.maximum(counts[frame], 1e-12)
    # frame k spans [(k - 0.5) / fps, (k + 0.5) / fps)
    return (frame - 0.5 + np.clip(within, 0.0, 1.0)) / fps


# -- intervals ------------------------------------------------------------------------

@dataclass(frozen=True)
class CountError:
    """The model's error on counts: the true count of a window given its expected count
    ``mu`` is taken as Poisson(``mu * exp(e)``) with ``e`` normal of standard deviation
    ``log_sd`` and mean ``-log_sd**2 / 2`` (so that the mean stays ``mu``).

    ``log_sd`` is measured on held-out datasets of the cross-validation
    (``benchmarks/outputs.py``): how far a model's expected counts are from the truth
    on data it never saw.
    """

    log_sd: float = 0.5
    level: float = INTERVAL_LEVEL

    def _nodes(self) -> tuple[np.ndarray, np.ndarray]:
        x, w = np.polynomial.hermite_e.hermegauss(24)
        return x * self.log_sd - self.log_sd ** 2 / 2, w / w.sum()

    def cdf(self, k: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """P(count <= k) for expected counts ``mu`` (same shape)."""
        e, w = self._nodes()
        rates = np.asarray(mu, dtype=np.float64)[..., None] * np.exp(e)
        return (stats.poisson.cdf(np.asarray(k)[..., None], rates) * w).sum(axis=-1)

    def table(self, mu_grid: np.ndarray, k_max: int) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the central interval for each expected count of
        ``mu_grid``: the smallest k with P(N <= k) above the lower tail, and the smallest
        with P(N <= k) at least 1 - tail (at most ``k_max``)."""
        tail = (1 - self.level) / 2
        lower = self._smallest_k(lambda p: p > tail, mu_grid, k_max + 1)
        upper = self._smallest_k(lambda p: p >= 1 - tail, mu_grid, k_max)
        return lower.astype(np.float64), upper.astype(np.float64)

    def _smallest_k(self, reached, mu: np.ndarray, k_max: int) -> np.ndarray:
        """The smallest k in [0, k_max] with ``reached(P(N <= k))``, else k_max, for each
        of ``mu``: a bisection, as P(N <= k) grows with k."""
        low, high = np.zeros(mu.shape, dtype=np.int64), np.full(mu.shape, k_max, np.int64)
        while (low < high).any():
            mid = (low + high) // 2
            done = reached(self.cdf(mid, mu))
            high, low = np.where(done, mid, high), np.where(done, low, mid + 1)
        return low


def count_interval(expected: np.ndarray, error: CountError) -> tuple[np.ndarray, np.ndarray]:
    """The central interval (``error.level``) on the number of spikes, for each expected
    count in ``expected`` (spikes of a frame, or summed over any window); NaN stays NaN."""
    mu = np.asarray(expected, dtype=np.float64)
    finite = np.isfinite(mu)
    lower, upper = np.full(mu.shape, np.nan), np.full(mu.shape, np.nan)
    if not finite.any():
        return lower, upper
    values = np.maximum(mu[finite], 0.0)
    top = float(values.max())
    grid = np.concatenate([[0.0], np.geomspace(1e-4, max(top, 1e-3) * 1.01, 400)])
    k_max = int(top * np.exp(4 * error.log_sd) + 10 * np.sqrt(top + 1) + 10)
    low_table, high_table = error.table(grid, k_max)
    index = np.clip(np.searchsorted(grid, values, side="right") - 1, 0, len(grid) - 1)
    # a step of the grid rounds mu down: the bounds are then those of a count at most 1%
    # smaller, never wider than they should be
    lower[finite], upper[finite] = low_table[index], high_table[index]
    return lower, upper


# -- quality --------------------------------------------------------------------------

#: Shortest trace (s) whose output is trusted.
MIN_TRUSTED_S = 60.0
#: Most NaN frames (fraction) of a trace whose output is trusted.
MAX_NAN_FRACTION = 0.2


def quality_flags(traces: np.ndarray, fps: float, estimates: Calibration | None,
                  training_range: dict | None = None) -> list[str]:
    """Per neuron, why its output should not be trusted ("" where nothing is wrong):
    too short, many NaN frames, a baseline far above zero (raw fluorescence given as
    dF/F), and estimates outside ``training_range`` (``noise_level``,
    ``tau_decay_s``, ``amplitude``: ``[low, high]`` of the model's training data)."""
    traces = np.atleast_2d(traces)
    training_range = training_range or {}
    reasons: list[list[str]] = [[] for _ in range(traces.shape[0])]
    finite = np.isfinite(traces)
    for i, row in enumerate(traces):
        runs = finite_runs(row)
        longest = max((b - a for a, b in runs), default=0)
        if longest / fps < MIN_TRUSTED_S:
            reasons[i].append(f"too short: {longest / fps:.0f} s, shorter than "
                              f"{MIN_TRUSTED_S:g} s")
        if 1 - finite[i].mean() > MAX_NAN_FRACTION:
            reasons[i].append(f"many NaN frames: {1 - finite[i].mean():.0%}")
    if estimates is not None:
        checks = [("noise_level", estimates.noise_level, "noise level nu"),
                  ("amplitude", estimates.amplitude, "spike amplitude (dF/F)"),
                  ("tau_decay_s", np.full(traces.shape[0], estimates.tau_decay_s), "decay (s)")]
        for key, values, label in checks:
            if key not in training_range:
                continue
            low, high = training_range[key]
            for i, v in enumerate(values):
                if np.isfinite(v) and not low <= v <= high:
                    reasons[i].append(f"{label} outside the training range: {v:.3g}, "
                                      f"not in {low:.3g}-{high:.3g}")
        for i, b in enumerate(estimates.baseline):
            if np.isfinite(b) and b > 0.5:
                reasons[i].append(f"baseline far above zero: {b:.3g} (raw fluorescence, "
                                  "not dF/F?)")
    return ["; ".join(r) for r in reasons]


def count_reasons(flags: Sequence[str]) -> dict[str, int]:
    """How many neurons each reason of :func:`quality_flags` was given for."""
    counts: dict[str, int] = {}
    for flag in flags:
        for reason in filter(None, flag.split("; ")):
            label = reason.split(":")[0]
            counts[label] = counts.get(label, 0) + 1
    return counts


# -- whole recordings -------------------------------------------------------------------

@dataclass
class RecordingPrediction:
    """A recording's predictions: ``spikes`` (n_neurons, n_frames) expected spikes per
    frame; with intervals, ``lower``/``upper`` of the same shape; with spike times, one
    array (s) per neuron; the recording's own estimates, per-neuron quality flags, and the
    provenance (model, versions, parameters, input and its sha256, time of the run)."""

    spikes: np.ndarray
    fps: float
    neuron_ids: tuple[str, ...]
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    spike_times: list[np.ndarray] | None = None
    estimates: dict = field(default_factory=dict)
    quality: list[str] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)


@dataclass
class _Chunk:
    rows: tuple[int, int]
    spikes: np.ndarray
    lower: np.ndarray | None
    upper: np.ndarray | None
    spike_times: list[np.ndarray] | None
    estimates: dict
    quality: list[str]


def predict_chunk(model: SpikeModel, traces: np.ndarray, fps: float, rows: tuple[int, int],
                  recording: dict | None, *, uncertainty: bool, spike_times: bool,
                  training_range: dict | None) -> _Chunk:
    """One chunk of rows: predictions, intervals, spike times, estimates and flags. The
    recording's decay and pooled amplitude (:func:`recording_estimates`) are given, so
    that every chunk's estimates are what they would be in one call.

    Where the model's card measured its answer to noise (``silence``), what noise at each
    neuron's level could have made is removed (:func:`spikeinfer.counts.gate_silence`)."""
    spikes = model.predict(traces, fps)
    known = {} if recording is None else {
        "tau_decay_s": recording["tau_decay_s"],
        "prior": (recording["amplitude"], recording["amplitude_spread"])}
    # as many threads as the model's prediction uses (one on a Dask worker)
    estimates = calibrate(traces, fps, n_jobs=torch.get_num_threads(), **known)
    per_neuron = estimates.per_neuron()
    silence = getattr(model, "silence_", None)
    if silence:
        spikes = gate_silence(spikes, estimates.noise_level, fps, silence)
        per_neuron["silent_level"] = silence_threshold(estimates.noise_level, silence)
    lower = upper = None
    if uncertainty:
        lower, upper = count_interval(spikes, count_error_of(model))
    times = [place_spikes(row, fps) for row in spikes] if spike_times else None
    return _Chunk(rows, spikes.astype(np.float32), _f32(lower), _f32(upper), times,
                  per_neuron, quality_flags(traces, fps, estimates, training_range))


def _f32(x):
    return None if x is None else x.astype(np.float32)


def count_error_of(model: SpikeModel) -> CountError:
    """The model's measured count error (its card's ``count_error_log_sd``), or the default."""
    log_sd = getattr(model, "count_error_log_sd_", None)
    return CountError(float(log_sd)) if log_sd else CountError()


def recording_estimates(source: TraceSource) -> dict:
    """The recording's decay, pooled dF/F of one spike and the spread of the latter
    between neurons, from a sample of its neurons spread over the rows (as
    :func:`calibrate` would pool them)."""
    n = source.n_neurons
    rows = np.unique(np.linspace(0, n - 1, min(n, 32)).astype(int))
    sample = calibrate(source.read_rows(rows), source.fps, n_jobs=torch.get_num_threads())
    return {"tau_decay_s": sample.tau_decay_s, "amplitude": sample.recording_amplitude,
            "amplitude_spread": sample.amplitude_spread}


def predict_recording(source: TraceSource, model: SpikeModel, *, uncertainty: bool = False,
                      spike_times: bool = False, chunk_neurons: int = CHUNK_NEURONS,
                      writer: PredictionWriter | None = None, parts: Path | None = None,
                      client=None, progress=False, model_name: str = "",
                      input_digest: str = "") -> RecordingPrediction | dict:
    """Predict every neuron of ``source``, ``chunk_neurons`` at a time (the memory needed
    is set by the chunk, not by the recording).

    Without ``writer``, returns a :class:`RecordingPrediction` in memory. With one, each
    chunk is written as it comes (in order of rows) and the writer closed; returns a
    summary (``path``, ``provenance``, ``n_neurons``, the total of ``spikes`` and each
    neuron's ``quality`` flag). With ``parts``
    (a folder), every finished chunk is also kept there: a run killed at any point and
    started again with the same ``parts`` predicts only the chunks not there, with the
    same result as an uninterrupted run. With ``client`` (a
    ``dask.distributed.Client``), chunks are predicted on its workers, the model sent
    once to each.
    """
    if chunk_neurons < 1:
        raise InputError(f"chunk of {chunk_neurons} neurons; use 1 or more")
    n = source.n_neurons
    bounds = [(a, min(a + chunk_neurons, n)) for a in range(0, n, chunk_neurons)]
    recording = recording_estimates(source)
    settings = {"uncertainty": uncertainty, "spike_times": spike_times,
                "chunk_neurons": chunk_neurons, "model": model_name,
                "input_sha256": input_digest, "n_neurons": n, "n_frames": source.n_frames}
    store = _PartStore(parts, settings) if parts is not None else None
    training_range = getattr(model, "training_range_", None)
    todo = [b for b in bounds if store is None or not store.has(b)]
    own_bar = not hasattr(progress, "update")  # else a bar shared by several recordings
    bar = tqdm(total=len(bounds), desc="predicting", unit="chunk",
               disable=not progress) if own_bar else progress
    bar.update(len(bounds) - len(todo))
    ready: dict[tuple[int, int], _Chunk] = {}
    kept: list[_Chunk] = []
    total = {"spikes": 0.0, "quality": []}  # what the summary tells of written chunks
    pending = iter(bounds)
    following = next(pending, None)

    def hand_on(chunk: _Chunk) -> None:
        if writer is None:
            kept.append(chunk)
            return
        writer.write_chunk(chunk.rows, chunk.spikes, chunk.lower, chunk.upper,
                           chunk.spike_times, chunk.estimates, chunk.quality)
        total["spikes"] += float(np.nansum(chunk.spikes, dtype=np.float64))
        total["quality"].extend(chunk.quality)

    try:
        for chunk in _run(source, model, todo, recording, uncertainty, spike_times,
                          training_range, client):
            if store is not None:
                store.write(chunk)
            ready[chunk.rows] = chunk
            bar.update(1)
            # chunks reach the writer in order of rows, whatever order they finish in
            while following is not None and (following in ready or (
                    store is not None and following not in todo)):
                hand_on(ready.pop(following) if following in ready else store.read(following))
                following = next(pending, None)
        while following is not None:  # only chunks of an earlier, interrupted run remain
            hand_on(store.read(following))
            following = next(pending, None)
    except BaseException as err:
        if own_bar:
            bar.close()
        if writer is not None:
            writer.abort()
        if store is not None and isinstance(err, Exception):
            store.remove()  # a failure, not an interruption: nothing to resume
        raise
    if own_bar:
        bar.close()
    record = provenance(model, model_name, source, input_digest, settings)
    if writer is None:
        prediction = _assemble(kept, source, recording)
        prediction.provenance = record
        return prediction
    path = writer.close(record, recording)
    if store is not None:
        store.remove()
    return {"path": path, "provenance": record, "n_neurons": n, **total}


def _run(source, model, bounds, recording, uncertainty, spike_times, training_range,
         client) -> Iterator[_Chunk]:
    kwargs = {"uncertainty": uncertainty, "spike_times": spike_times,
              "training_range": training_range}
    where = f"{source.source}: " if source.source else ""
    if client is None:
        for rows in bounds:
            try:
                yield predict_chunk(model, source.read_rows(slice(*rows)), source.fps, rows,
                                    recording, **kwargs)
            except InputError as err:  # name the file and the neuron's row in it
                message = re.sub(r"^neuron (\d+)", lambda m: f"neuron {rows[0] + int(m[1])}",
                                 str(err))
                raise InputError(f"{where}{message}") from None
        return
    from dask.distributed import as_completed  # only with a cluster

    [remote] = client.scatter([model], broadcast=True)  # the weights go to each worker once
    futures = [client.submit(predict_chunk, remote, source.read_rows(slice(*rows)), source.fps,
                             rows, recording, pure=False, **kwargs) for rows in bounds]
    for future in as_completed(futures):
        yield future.result()


def _assemble(chunks: Sequence[_Chunk], source: TraceSource,
              recording: dict) -> RecordingPrediction:
    def stack(name):
        parts = [getattr(c, name) for c in chunks]
        return None if parts[0] is None else np.concatenate(parts)

    times = None if chunks[0].spike_times is None else [t for c in chunks for t in c.spike_times]
    estimates = {k: np.concatenate([c.estimates[k] for c in chunks]) for k in chunks[0].estimates}
    estimates.update({f"recording_{k}": v for k, v in recording.items()})
    return RecordingPrediction(stack("spikes"), source.fps, source.neuron_ids, stack("lower"),
                               stack("upper"), times, estimates,
                               [q for c in chunks for q in c.quality])


def provenance(model: SpikeModel, model_name: str, source: TraceSource, input_digest: str,
               settings: dict) -> dict:
    """What made an output: model and versions, parameters, input and time of the run."""
    card = getattr(model, "card_", {}) or {}
    return {"model": model_name or card.get("name", ""), "model_version": card.get("version", ""),
            "model_architecture": model.architecture,
            "count_error_log_sd": count_error_of(model).log_sd,
            "model_params": json.loads(json.dumps(_params(model), default=str)),
            "package_version": __version__, "input": str(source.source),
            "input_sha256": input_digest, "fps": source.fps,
            "settings": {k: v for k, v in settings.items() if k not in ("input_sha256",)},
            "run_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def _params(model):
    document = getattr(model, "params_document", None)
    return document() if callable(document) else model.get_params()


class _PartStore:
    """Finished chunks of an interrupted run, one ``.npz`` each (no pickles), with the
    settings of the run they belong to."""

    def __init__(self, folder: Path, settings: dict):
        self.folder = Path(folder)
        manifest = self.folder / "run.json"
        if manifest.exists():
            stored = json.loads(manifest.read_text())
            if stored != json.loads(json.dumps(settings)):
                raise InputError(f"{self.folder}: parts of another run (other input, model or "
                                 "settings); remove the folder to start afresh")
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomically(manifest, lambda tmp: tmp.write_text(json.dumps(settings)),
                             force=True)

    def _path(self, rows) -> Path:
        return self.folder / f"rows-{rows[0]:09d}-{rows[1]:09d}.npz"

    def has(self, rows) -> bool:
        return self._path(rows).exists()

    def write(self, chunk: _Chunk) -> None:
        arrays = {"spikes": chunk.spikes, "quality": np.array(chunk.quality, dtype=str),
                  **{f"estimate_{k}": np.asarray(v) for k, v in chunk.estimates.items()}}
        for name in ("lower", "upper"):
            if getattr(chunk, name) is not None:
                arrays[name] = getattr(chunk, name)
        if chunk.spike_times is not None:
            arrays["spike_counts"] = np.array([len(t) for t in chunk.spike_times])
            arrays["spike_times"] = np.concatenate(chunk.spike_times) if chunk.spike_times \
                else np.zeros(0)

        def save(tmp):
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
        write_atomically(self._path(chunk.rows), save, force=True)

    def read(self, rows) -> _Chunk:
        with np.load(self._path(rows), allow_pickle=False) as z:
            times = None
            if "spike_times" in z:
                times = np.split(z["spike_times"], np.cumsum(z["spike_counts"])[:-1])
            estimates = {k[len("estimate_"):]: z[k] for k in z.files if k.startswith("estimate_")}
            return _Chunk(rows, z["spikes"], z["lower"] if "lower" in z else None,
                          z["upper"] if "upper" in z else None, times, estimates,
                          z["quality"].tolist())

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def predict_dask(traces, fps: float, model: SpikeModel):
    """A lazy Dask array of expected spikes per frame, the shape of ``traces`` (a Dask array
    of neurons x frames, any chunking): the model is mapped over blocks of whole rows,
    and sent once to each worker; what noise alone makes is removed as by
    :func:`predict_recording`."""
    import dask
    import dask.array as da

    rows = traces.rechunk({1: -1})  # each task needs whole traces
    model_key = dask.delayed(model, pure=True)
    return da.map_blocks(_predict_block, rows, model_key, float(fps),
                         dtype=np.float32, meta=np.zeros((0, 0), np.float32))


def _predict_block(block: np.ndarray, model: SpikeModel, fps: float) -> np.ndarray:
    if block.size == 0:
        return np.zeros(block.shape, np.float32)
    block = np.asarray(block)
    spikes = model.predict(block, fps)
    silence = getattr(model, "silence_", None)
    if silence:  # as predict_recording does
        spikes = gate_silence(spikes, compute_noise_level(block, fps), fps, silence)
    return spikes.astype(np.float32)
