"""Supervised networks behind the common interface: resample to the network's rate,
predict in one pass over each trace, resample back."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from ..data import TraceSet
from ..exceptions import InputError
from ..preprocess import compute_baseline
from ..signals import resample_trace
from .base import SpikeModel


class NeuralModel(SpikeModel):
    """A network from :mod:`spikeinfer.nn`, trained on ground truth.

    Parameters
    ----------
    network : {"elephant", "attended", "conv16", "default"}, default="default"
    network_params : dict, default=None
        Overrides of the network's config dataclass.
    model_fps : float, default=None
        Rate (Hz) at which the network runs; inputs are resampled to it. None
        takes the network's design rate (:data:`spikeinfer.nn.NETWORK_FPS`).
    loss : {"mse", "corr", "mse+corr"}, default="mse"
    corr_bin_s : float, default=0.04
        Bin (s) of the correlation loss (conv16 maximises correlation at 25 Hz).
    smoothing_s : float, default=0.05
        Gaussian smoothing (s) of the target spike counts.
    baseline_window_s : float, default=60.0
        The network reads the trace minus its running baseline (8th percentile
        over this many seconds), so that offsets of dF/F do not pass for
        activity; None feeds the trace as it is.
    noise_levels : tuple of float, default=(0.5, 5.0)
        Range of CASCADE noise levels nu that training windows are brought to.
    acquisition_rates : tuple of float, default=None
        Range (Hz) of frame rates that training windows are made as if recorded at
        (log-uniform; see :meth:`~spikeinfer.training.TrainingSet.sample_windows`);
        None keeps each recording's own rate.
    time_stretch : tuple of float, default=None
        Range of factors by which training windows are sped up in time (log-uniform,
        spike counts kept; see :meth:`~spikeinfer.training.TrainingSet.sample_windows`),
        so that the network meets faster and slower indicators than the training
        data's; None keeps their time course.
    synthetic : {"simulator", "gan"}, default=None
        Also train on twins of the training neurons: their real spike trains with
        fluorescence from the simulator (kinetics drawn per neuron from a broad
        range) or from a conditional GAN trained on the same data (see
        :mod:`spikeinfer.training.synthetic`); None trains on real data only.
    synthetic_fraction : float, default=0.25
        Share of training windows drawn from the twins.
    window_s : float, default=20.0
        Length of training windows (s).
    balance_datasets : bool, default=True
        Draw training windows from every dataset equally often.
    batch_size, steps, learning_rate, eval_every, patience : training settings.
    lr_schedule : {"constant", "cosine"}, default="constant"
        Learning rate over the steps: constant, or decayed to zero along a cosine.
    floor_percentile : float, default=10.0
        The output's silent level, this percentile of the output over each trace
        (and over each training window when the output is calibrated), is
        subtracted, clipping at zero: a network's small output in silence otherwise
        adds up to many spikes in a long recording of a sparsely firing neuron.
        Correlation is unchanged; None keeps the output as it is.
    validation_fraction : float, default=0.15
        Fraction of neurons held out for early stopping.
    max_seconds : float, default=None
        Wall-time budget of training.
    warm_start : bool, default=False
        ``fit`` on a fitted model goes on from its weights (fine-tuning, e.g. on the
        ground truth closest to a new recording) instead of starting afresh; the
        dataset conditioning keeps the first fit's datasets, others count as unseen.
    dataset : str, default=None
        Training dataset to condition on at prediction (attended, conv16);
        None uses the fallback for unseen data: the mean embedding (attended)
        or the uniform mixture of one-hot codes (conv16).
    random_state : int, default=0
    """

    architecture = "neural"

    def __init__(self, network: str = "default", network_params: dict | None = None,
                 model_fps: float | None = None, loss: str = "mse",
                 corr_bin_s: float = 0.04, smoothing_s: float = 0.05,
                 baseline_window_s: float | None = 60.0,
                 noise_levels: tuple[float, float] = (0.5, 5.0),
                 acquisition_rates: tuple[float, float] | None = None,
                 time_stretch: tuple[float, float] | None = None,
                 synthetic: str | None = None, synthetic_fraction: float = 0.25,
                 window_s: float = 20.0,
                 balance_datasets: bool = True, batch_size: int = 32, steps: int = 3000,
                 learning_rate: float = 1e-3, lr_schedule: str = "constant",
                 eval_every: int = 100, patience: int = 16,
                 floor_percentile: float | None = 10.0,
                 validation_fraction: float = 0.15, max_seconds: float | None = None,
                 warm_start: bool = False, dataset: str | None = None, random_state: int = 0):
        self.network = network
        self.network_params = network_params
        self.model_fps = model_fps
        self.loss = loss
        self.corr_bin_s = corr_bin_s
        self.smoothing_s = smoothing_s
        self.baseline_window_s = baseline_window_s
        self.noise_levels = noise_levels
        self.acquisition_rates = acquisition_rates
        self.time_stretch = time_stretch
        self.synthetic = synthetic
        self.synthetic_fraction = synthetic_fraction
        self.window_s = window_s
        self.balance_datasets = balance_datasets
        self.batch_size = batch_size
        self.steps = steps
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.eval_every = eval_every
        self.patience = patience
        self.floor_percentile = floor_percentile
        self.validation_fraction = validation_fraction
        self.max_seconds = max_seconds
        self.warm_start = warm_start
        self.dataset = dataset
        self.random_state = random_state

    def _check_params(self) -> None:
        from ..nn import NETWORKS
        from ..training.losses import LOSSES
        from ..training.synthetic import SYNTHETIC_SOURCES

        if self.network not in NETWORKS:
            raise InputError(f"unknown network {self.network!r}; choose from {', '.join(NETWORKS)}")
        if self.loss not in LOSSES:
            raise InputError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        positive = {"corr_bin_s": self.corr_bin_s, "window_s": self.window_s,
                    "batch_size": self.batch_size, "steps": self.steps,
                    "learning_rate": self.learning_rate, "eval_every": self.eval_every,
                    "patience": self.patience}
        for name, value in {**positive, "smoothing_s": self.smoothing_s}.items():
            kind = "positive" if name in positive else "non-negative"
            if not isinstance(value, int | float) or not np.isfinite(value) or value < 0 or (
                    name in positive and value == 0):
                raise InputError(f"{name} must be a {kind} number, got {value!r}")
        for name in ("noise_levels", "acquisition_rates", "time_stretch"):
            value = getattr(self, name)
            if value is not None and not (
                    isinstance(value, list | tuple) and len(value) == 2
                    and all(isinstance(v, int | float) and v > 0 for v in value)
                    and value[0] <= value[1]):
                raise InputError(f"{name} must be [low, high] with 0 < low <= high, or null; "
                                 f"got {value!r}")
        if self.synthetic is not None and self.synthetic not in SYNTHETIC_SOURCES:
            raise InputError(f"synthetic must be one of {', '.join(SYNTHETIC_SOURCES)} or null, "
                             f"got {self.synthetic!r}")
        if not (isinstance(self.synthetic_fraction, int | float)
                and 0 <= self.synthetic_fraction < 1):
            raise InputError(f"synthetic_fraction must be in [0, 1), got {self.synthetic_fraction!r}")
        if self.lr_schedule not in ("constant", "cosine"):
            raise InputError(f"lr_schedule must be 'constant' or 'cosine', got {self.lr_schedule!r}")
        if self.baseline_window_s is not None and not (
                isinstance(self.baseline_window_s, int | float) and self.baseline_window_s > 0):
            raise InputError(f"baseline_window_s must be a positive number of seconds or null, "
                             f"got {self.baseline_window_s!r}")
        if self.floor_percentile is not None and not (
                isinstance(self.floor_percentile, int | float) and 0 <= self.floor_percentile < 100):
            raise InputError(f"floor_percentile must be in [0, 100) or null, "
                             f"got {self.floor_percentile!r}")
        if self.model_fps is not None and not (isinstance(self.model_fps, int | float)
                                               and 1 <= self.model_fps <= 1000):
            raise InputError(f"model_fps must be 1-1000 Hz or null, got {self.model_fps!r}")

    @property
    def min_frames(self) -> int:
        return 8

    def _is_fitted(self) -> bool:
        return hasattr(self, "output_scale_")

    @property
    def network_fps(self) -> float:
        """The rate the network runs at."""
        from ..nn import NETWORK_FPS

        return float(self.model_fps or NETWORK_FPS.get(self.network, 30.0))

    def _build(self, n_datasets: int) -> torch.nn.Module:
        from ..nn import NETWORKS

        net_cls, config_cls = NETWORKS[self.network]
        params = dict(self.network_params or {})
        if "n_datasets" in config_cls.__dataclass_fields__:
            params["n_datasets"] = n_datasets
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        return net_cls(config_cls(**params))

    # -- training -----------------------------------------------------------------

    def fit(self, data: Sequence[TraceSet] | TraceSet, progress: bool = False) -> NeuralModel:
        """Train on ground-truth recordings (any frame rates); returns self."""
        from ..training import make_training_set, train_network

        self._check_params()
        data = [data] if isinstance(data, TraceSet) else list(data)
        torch.manual_seed(self.random_state)
        window = int(round(self.window_s * self.network_fps))
        warm = self.warm_start and self._is_fitted()
        names = self.dataset_names_ if warm else sorted({ts.dataset for ts in data})
        full = make_training_set(data, self.network_fps, self.smoothing_s, window, names,
                                 self.baseline_window_s)
        if not full.traces:
            raise InputError(f"no ground-truth stretch of at least {self.window_s:g} s to train on")
        rng = np.random.default_rng(self.random_state)
        neurons = sorted(set(full.neuron))
        held = set(rng.choice(neurons, size=max(1, int(len(neurons) * self.validation_fraction)),
                              replace=False)) if len(neurons) > 1 else set()
        is_val = np.array([n in held for n in full.neuron])
        train = full.subset(np.flatnonzero(~is_val))
        validation = full.subset(np.flatnonzero(is_val)) if is_val.any() else None
        if self.synthetic:
            train = train.join(self._synthetic_set(data, held, names, window),
                               self.synthetic_fraction)
        if not warm:
            self.net_ = self._build(len(names))
            self.dataset_names_ = names
        noise_levels = tuple(self.noise_levels) if self.noise_levels else None
        result = train_network(
            self.net_, train, validation, window=window, batch_size=self.batch_size,
            steps=self.steps, learning_rate=self.learning_rate, loss=self.loss,
            noise_levels=noise_levels, balance_datasets=self.balance_datasets,
            acquisition_rates=self._acquisition_rates, lr_schedule=self.lr_schedule,
            time_stretch=tuple(self.time_stretch) if self.time_stretch else None,
            bin_frames=max(1, int(round(self.corr_bin_s * self.network_fps))),
            eval_every=self.eval_every, patience=self.patience, random_state=self.random_state,
            max_seconds=self.max_seconds, progress=progress)
        self.output_scale_ = self._spikes_per_output(full, window, noise_levels)
        self.training_ = {"best_step": result.best_step, "seconds": round(result.seconds, 1),
                          "validation_corr": result.best_validation_corr,
                          "history": result.history}
        return self

    def _synthetic_set(self, data: list[TraceSet], held: set, names: list[str], window: int):
        """Synthetic twins of the training neurons (none of ``held``); their dataset
        index is -1, the unseen-dataset fallback of conditioned networks."""
        from ..training import make_training_set, neuron_name
        from ..training.synthetic import make_synthetic

        keep = [ts.subset([neuron_name(ts.dataset, nid) not in held for nid in ts.neuron_ids])
                for ts in data]
        twins = make_synthetic(self.synthetic, [ts for ts in keep if ts.n_neurons],
                               self.random_state)
        return make_training_set(twins, self.network_fps, self.smoothing_s, window, names,
                                 self.baseline_window_s)

    @property
    def _acquisition_rates(self) -> tuple[float, float] | None:
        return tuple(self.acquisition_rates) if self.acquisition_rates else None

    @torch.no_grad()
    def _spikes_per_output(self, data, window: int, noise_levels) -> float:
        """The factor that makes the output sum to spike counts (a correlation loss
        leaves the scale free): the geometric mean over training datasets of true over
        predicted spikes on training windows, so that the datasets that fire most do not
        set the scale for all."""
        from ..nn import flush_denormals

        x, y, d = data.sample_windows(1024, window, np.random.default_rng(self.random_state + 2),
                                      noise_levels, self.balance_datasets,
                                      self._acquisition_rates)
        self.net_.eval()
        with flush_denormals():
            rate = np.concatenate([self.net_(torch.from_numpy(x[i:i + 256])[:, None],
                                             torch.from_numpy(d[i:i + 256])).numpy()
                                   for i in range(0, len(x), 256)])
        _, group = np.unique(d, return_inverse=True)
        true = np.bincount(group, y.sum(axis=1))
        predicted = np.bincount(group, self._above_floor(rate).sum(axis=1))
        keep = (true > 0) & (predicted > 0)
        return float(np.exp(np.mean(np.log(true[keep] / predicted[keep])))) if keep.any() else 1.0

    def _above_floor(self, rate: np.ndarray) -> np.ndarray:
        """``rate`` (..., time) minus its ``floor_percentile`` along time, clipped at zero."""
        if self.floor_percentile is None:
            return rate
        floor = np.percentile(rate, self.floor_percentile, axis=-1, keepdims=True)
        return np.maximum(rate - floor, 0.0)

    # -- prediction ---------------------------------------------------------------

    def _dataset_index(self) -> torch.Tensor:
        if self.dataset is None:
            return torch.tensor([-1])
        if self.dataset not in self.dataset_names_:
            raise InputError(f"dataset {self.dataset!r} was not in training; "
                             f"choose from {', '.join(self.dataset_names_)} or None")
        return torch.tensor([self.dataset_names_.index(self.dataset)])

    def _map_runs(self, predict_run, runs: list) -> Iterator[np.ndarray]:
        """Stretches are predicted on as many threads as torch may use, each running the
        network on one core: on long traces this is faster than one stretch at a time
        over all cores (1.4-1.8x on 2 cores)."""
        from ..nn import flush_denormals

        threads = torch.get_num_threads()
        self.net_.eval()
        with flush_denormals():
            if threads == 1 or len(runs) < 2:
                yield from map(predict_run, runs)
                return
            torch.set_num_threads(1)
            try:
                with ThreadPoolExecutor(min(threads, len(runs))) as pool:
                    yield from pool.map(predict_run, runs)
            finally:
                torch.set_num_threads(threads)

    @torch.no_grad()
    def _predict_run(self, trace: np.ndarray, fps: float) -> np.ndarray:
        x = resample_trace(trace, fps, self.network_fps)
        if self.baseline_window_s:
            x = x - compute_baseline(x, self.network_fps, self.baseline_window_s)[0]
        rate = self.net_(torch.from_numpy(x.astype(np.float32))[None, None],
                         self._dataset_index()).numpy()[0]
        rate = self._above_floor(rate)
        # Spikes per model frame -> spikes per input frame.
        out = resample_trace(rate, self.network_fps, fps) * (
            self.output_scale_ * self.network_fps / fps)
        out = np.maximum(out, 0.0)
        if len(out) < len(trace):
            out = np.pad(out, (0, len(trace) - len(out)), mode="edge")
        return out[: len(trace)]

    # -- saving -------------------------------------------------------------------

    def fitted_state(self) -> dict:
        return {"dataset_names_": self.dataset_names_, "training_": self.training_,
                "output_scale_": self.output_scale_, "network_config_": asdict(self.net_.config)}

    def save(self, folder, card=None) -> Path:
        from safetensors.torch import save_file

        from ..io import write_atomically

        folder = super().save(folder, card)
        state = {k: v.contiguous() for k, v in self.net_.state_dict().items()}
        write_atomically(folder / "weights.safetensors",
                         lambda tmp: save_file(state, str(tmp)), force=True)
        return folder

    @classmethod
    def _from_document(cls, doc: dict, folder: Path) -> NeuralModel:
        from safetensors.torch import load_file

        model = cls(**doc["params"])
        model._check_params()
        state = doc["state"]
        model.dataset_names_ = list(state["dataset_names_"])
        model.training_ = state.get("training_", {})
        model.output_scale_ = float(state["output_scale_"])
        if not (np.isfinite(model.output_scale_) and model.output_scale_ > 0):
            raise InputError(f"output_scale_ = {model.output_scale_!r} is not a positive number")
        model.net_ = model._build(len(model.dataset_names_))
        model.net_.load_state_dict(load_file(str(folder / "weights.safetensors")))
        model.net_.eval()
        return model
