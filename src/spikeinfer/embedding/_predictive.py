"""Cross-prediction: a tiny network fitted to each single neuron predicts every other.

The matrix of correlations (row = predicted neuron, column = the neuron whose model
predicts) tells which neurons, and so which datasets, need similar filters (the seed's
"predictive embedding"). :func:`compute_dataset_distances` turns it into a dataset x
dataset distance matrix.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from ..data import TraceSet
from ..exceptions import InputError
from ..io import write_atomically
from ..nn import TinyCNN, TinyCNNConfig
from ..pipeline import Pipeline
from ..signals import bin_spike_times, binned_correlation, finite_runs
from ..training import TimeBudget, Trainer, correlation_loss, gradient_step

logger = logging.getLogger(__name__)


@dataclass
class CrossPrediction:
    """Correlations of every selected neuron's model with every selected neuron.

    ``matrix[i, j]`` is the correlation of neuron ``i``'s true spikes with the
    prediction of the model fitted to neuron ``j`` alone (the diagonal is
    in-sample). ``datasets[i]`` and ``neuron_ids[i]`` name neuron ``i``.
    """

    matrix: np.ndarray
    datasets: tuple[str, ...]
    neuron_ids: tuple[str, ...]
    params: dict = field(default_factory=dict)
    seconds: float = 0.0

    def save(self, path) -> Path:
        """Write an ``.npz`` (no pickled objects) atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"params": self.params, "seconds": round(self.seconds, 1)})

        def write(tmp):
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, matrix=self.matrix, datasets=np.array(self.datasets),
                                    neuron_ids=np.array(self.neuron_ids), meta=np.array(meta))

        write_atomically(path, write, force=True)
        return path

    def subset(self, datasets: Sequence[str]) -> CrossPrediction:
        """Only the neurons (rows) and models (columns) of these datasets: the
        cross-prediction of a cross-validation fold's training datasets, without
        refitting and without anything learned from the others."""
        keep = np.flatnonzero(np.isin(self.datasets, list(datasets)))
        return CrossPrediction(self.matrix[np.ix_(keep, keep)],
                               tuple(self.datasets[i] for i in keep),
                               tuple(self.neuron_ids[i] for i in keep), dict(self.params),
                               self.seconds)

    @classmethod
    def load(cls, path) -> CrossPrediction:
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                doc = cls(np.asarray(z["matrix"], dtype=np.float64), tuple(z["datasets"].tolist()),
                          tuple(z["neuron_ids"].tolist()), meta["params"], meta["seconds"])
        except (OSError, KeyError, ValueError) as err:
            raise InputError(f"{path}: not a cross-prediction file ({err})") from None
        n = len(doc.datasets)
        if doc.matrix.shape != (n, n) or len(doc.neuron_ids) != n:
            raise InputError(f"{path}: matrix of shape {doc.matrix.shape} for {n} neurons")
        return doc


@dataclass
class _Neuron:
    dataset: str
    neuron_id: str
    trace: np.ndarray  # baseline-subtracted dF/F at the model rate, float32
    counts: np.ndarray  # true spikes per frame at the model rate
    target: np.ndarray  # counts smoothed, float32


def select_neurons(data: Sequence[TraceSet], neurons_per_dataset: int = 4,
                   min_duration_s: float = 30.0, min_spikes: int = 10,
                   random_state: int = 0) -> list[tuple[TraceSet, int]]:
    """Up to ``neurons_per_dataset`` recordings per dataset, of different neurons where
    possible (rows whose ids share the part before ``:``), each with at least
    ``min_duration_s`` seconds and ``min_spikes`` spikes; drawn at random with a seed
    per dataset (``random_state`` and the dataset's name), so that a dataset's choice
    does not depend on which other datasets are given. Returns (trace set, row) pairs
    sorted by dataset."""
    by_dataset: dict[str, list[tuple[TraceSet, int]]] = {}
    for ts in data:
        if not ts.has_ground_truth:
            continue
        for i in range(ts.n_neurons):
            if ts.lengths[i] / ts.fps >= min_duration_s and ts.spike_times[i].size >= min_spikes:
                by_dataset.setdefault(ts.dataset, []).append((ts, i))
    chosen = []
    for name in sorted(by_dataset):
        rows = by_dataset[name]
        rng = np.random.default_rng([random_state, zlib.crc32(name.encode())])
        order = rng.permutation(len(rows))
        picked, cells = [], set()
        for second_pass in (False, True):  # distinct neurons first, then any
            for k in order:
                ts, i = rows[k]
                cell = ts.neuron_ids[i].split(":")[0]
                if len(picked) < neurons_per_dataset and (k not in picked) and (
                        second_pass or cell not in cells):
                    picked.append(k)
                    cells.add(cell)
        chosen.extend(rows[k] for k in picked)
    return chosen


def _prepare(ts: TraceSet, row: int, fps: float, max_duration_s: float,
             smoothing_s: float) -> _Neuron:
    """The row's longest finite stretch (at most ``max_duration_s``) at ``fps``."""
    start, stop = max(finite_runs(ts.traces[row, :ts.lengths[row]]), key=lambda r: r[1] - r[0])
    stop = min(stop, start + int(max_duration_s * ts.fps))
    x = Pipeline(fps=fps).prepare(ts.traces[row, start:stop], ts.fps)
    counts = bin_spike_times(ts.spike_times[row] - start / ts.fps, fps, len(x))
    target = ndimage.gaussian_filter1d(counts, smoothing_s * fps, mode="constant")
    return _Neuron(ts.dataset, ts.neuron_ids[row], x.astype(np.float32), counts,
                   target.astype(np.float32))


def _fit_one(neuron: _Neuron, config: TinyCNNConfig, steps: int, window: int, batch_size: int,
             learning_rate: float, bin_frames: int, max_seconds: float | None,
             seed: int) -> TinyCNN:
    """Adam on random windows of one neuron, maximising the correlation with the smoothed
    spike counts in bins of ``bin_frames`` (an MSE fit of one sparse neuron often
    collapses to a near-constant output in a few hundred steps)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = TinyCNN(config)
    optimizer = torch.optim.Adam(net.parameters(), lr=learning_rate)
    window = min(window, len(neuron.trace))
    x_all, y_all = torch.from_numpy(neuron.trace), torch.from_numpy(neuron.target)
    net.train()

    def step(_):
        starts = rng.integers(0, len(neuron.trace) - window + 1, size=batch_size)
        x = torch.stack([x_all[s:s + window] for s in starts])[:, None]  # (batch, 1, window)
        y = torch.stack([y_all[s:s + window] for s in starts])  # (batch, window)
        return {"loss": gradient_step(optimizer, correlation_loss(net(x), y, bin_frames))}

    Trainer(step, steps, [TimeBudget(max_seconds)]).fit()
    net.eval()
    return net


def compute_cross_prediction(data: Sequence[TraceSet], neurons_per_dataset: int = 4, *,
                             fps: float = 30.0, steps: int = 300, window_s: float = 8.0,
                             batch_size: int = 16, learning_rate: float = 3e-3,
                             smoothing_s: float = 0.05, bin_s: float = 0.1,
                             max_duration_s: float = 600.0, config: TinyCNNConfig = TinyCNNConfig(),
                             budget_s: float | None = None, random_state: int = 0
                             ) -> CrossPrediction:
    """Fit a :class:`TinyCNN` to each selected neuron alone, predict every selected neuron.

    Parameters
    ----------
    data : list of TraceSet
        Ground truth; neurons are chosen by :func:`select_neurons`.
    neurons_per_dataset : int, default=4
    fps : float, default=30.0
        Rate (Hz) of the networks; traces are resampled to it and have their running
        baseline (8th percentile over 60 s) subtracted.
    steps, window_s, batch_size, learning_rate : training of each network
        (Adam, correlation with the spike counts smoothed by a Gaussian of
        ``smoothing_s`` s, in bins of ``bin_s``).
    bin_s : float, default=0.1
        Bin (s) in which predictions and true spike counts are summed for the loss and
        for the correlations of the matrix (coarser than Spikefinder's 40 ms because the slowest datasets
        have 0.13 s frames).
    max_duration_s : float, default=600.0
        Longest stretch (s) of a recording used, for training and scoring.
    budget_s : float, default=None
        Wall-time limit of all training; each network gets an equal share and stops
        early when it has used it.

    Returns
    -------
    CrossPrediction
    """
    chosen = select_neurons(data, neurons_per_dataset, random_state=random_state)
    if len(chosen) < 2:
        raise InputError(f"{len(chosen)} neurons with ground truth of at least 30 s and 10 "
                         "spikes; cross-prediction needs two or more")
    ids = tuple(f"{ts.dataset}/{ts.neuron_ids[i]}" for ts, i in chosen)
    params = {"neurons_per_dataset": neurons_per_dataset, "fps": fps, "steps": steps,
              "window_s": window_s, "batch_size": batch_size, "learning_rate": learning_rate,
              "smoothing_s": smoothing_s, "bin_s": bin_s, "max_duration_s": max_duration_s,
              "config": asdict(config), "budget_s": budget_s, "random_state": random_state}
    params = json.loads(json.dumps(params))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        neurons = [_prepare(ts, i, fps, max_duration_s, smoothing_s) for ts, i in chosen]
    share = None if budget_s is None else budget_s / len(neurons)
    window = max(round(window_s * fps), sum(config.kernels))
    bin_frames = max(1, round(bin_s * fps))
    inputs = [torch.from_numpy(n.trace)[None, None] for n in neurons]
    matrix = np.full((len(neurons), len(neurons)), np.nan)
    for j, neuron in enumerate(neurons):
        net = _fit_one(neuron, config, steps, window, batch_size, learning_rate, bin_frames,
                       share, random_state + j)
        with torch.no_grad():
            for i, target in enumerate(neurons):
                prediction = net(inputs[i]).numpy()[0].astype(np.float64)
                corr = binned_correlation(prediction, target.counts, fps, bin_s)
                # a constant prediction (a network that learned nothing) scores 0
                matrix[i, j] = 0.0 if np.isnan(corr) and np.ptp(prediction) == 0 else corr
        if (j + 1) % 10 == 0:
            logger.info("cross-prediction: %d/%d networks, %.0f s", j + 1, len(neurons),
                        time.perf_counter() - start)
    return CrossPrediction(matrix, tuple(n.dataset for n in neurons), ids, params,
                           time.perf_counter() - start)


def normalise_cross_prediction(matrix: np.ndarray) -> np.ndarray:
    """Each row (predicted neuron) divided by its best correlation over the other
    neurons' models (its columns), so that neurons that are hard to predict at all
    weigh as much as easy ones; then symmetrised, (C + C^T) / 2. The diagonal (the
    in-sample fit) is NaN, as are rows whose best correlation is not positive."""
    c = np.array(matrix, dtype=np.float64)
    n = c.shape[0]
    if c.ndim != 2 or c.shape != (n, n):
        raise InputError(f"cross-prediction matrix must be square, got shape {c.shape}")
    np.fill_diagonal(c, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
        best = np.nanmax(c, axis=1, keepdims=True)
    c = np.where(best > 0, c / np.where(best > 0, best, 1.0), np.nan)
    return (c + c.T) / 2


def compute_dataset_distances(matrix: np.ndarray, datasets: Sequence[str]
                              ) -> tuple[list[str], np.ndarray]:
    """Dataset x dataset distance: 1 - the mean normalised, symmetrised cross-prediction
    (:func:`normalise_cross_prediction`) over pairs of distinct neurons of the two
    datasets. 0 means "as good as the best model", 1 "no prediction at all"; the
    diagonal is how well a dataset's neurons predict each other (0 where a dataset has
    a single neuron). Returns (sorted dataset names, symmetric matrix)."""
    s = normalise_cross_prediction(matrix)
    labels = np.asarray(datasets)
    names = sorted(set(datasets))
    sim = np.full((len(names), len(names)), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # single-neuron diagonal blocks
        for a, name_a in enumerate(names):
            for b, name_b in enumerate(names):
                sim[a, b] = np.nanmean(s[np.ix_(labels == name_a, labels == name_b)])
    sim[np.isnan(sim) & np.eye(len(names), dtype=bool)] = 1.0
    if np.isnan(sim).any():
        raise InputError("some pairs of datasets have no valid cross-prediction; "
                         "use more neurons per dataset")
    return names, 1.0 - sim
