"""Supervised networks behind the common interface: a :class:`~spikeinfer.pipeline.Pipeline`
around a network of :mod:`spikeinfer.nn`, trained by the one
:class:`~spikeinfer.training.Trainer`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, fields, replace
from numbers import Integral

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ..data import TraceSet
from ..exceptions import InputError
from ..generative import generate_twins
from ..nn import NETWORK_FPS, NETWORKS, flush_denormals
from ..pipeline import Pipeline
from ..training import (
    AtEnd,
    AugmentationConfig,
    EarlyStopping,
    ProgressBar,
    TimeBudget,
    Trainer,
    TrainingConfig,
    correlation_loss,
    get_loss,
    gradient_step,
    make_training_set,
    neuron_name,
    simulate_twins,
)
from .base import SpikeModel, describe_training_data, describe_training_range

#: Settings each section of a network's hyper-parameters holds (flat names, as in
#: ``--param NAME=VALUE`` and :data:`spikeinfer.models.RECIPES`, map to them).
SECTIONS = {"pipeline": Pipeline, "augmentation": AugmentationConfig,
            "training": TrainingConfig}
#: Flat names of earlier versions.
FLAT_ALIASES = {"model_fps": "fps", "network_params": "network_config"}
_TOP = ("network", "network_config", "warm_start", "dataset", "random_state")
# Network samples per pass over a long trace (about 2.4 h at 30 Hz): a longer trace is
# passed in overlapping segments, so memory is set by this, not by the recording.
SEGMENT = 2 ** 18


class NeuralModel(SpikeModel):
    """A network from :mod:`spikeinfer.nn`, trained on ground truth.

    Parameters
    ----------
    network : {"default", "elephant", "attended", "conv16"}, default="default"
    network_config : dict, default=None
        Overrides of the network's config dataclass.
    pipeline : Pipeline, default=None
        What is done to a trace around the network (rate, baseline, normalisation,
        output floor); None: the network's design rate
        (:data:`spikeinfer.nn.NETWORK_FPS`) with the defaults of :class:`Pipeline`.
    augmentation : AugmentationConfig, default=None
        How training windows are varied; None: its defaults.
    training : TrainingConfig, default=None
        Loss, windows, steps and stopping; None: its defaults.
    warm_start : bool, default=False
        ``fit`` on a fitted model goes on from its weights (fine-tuning, e.g. on the
        ground truth closest to a new recording) instead of starting afresh; the
        dataset conditioning keeps the first fit's datasets, others count as unseen.
    dataset : str, default=None
        Training dataset to condition on at prediction (attended, conv16);
        None uses the fallback for unseen data: the mean embedding (attended)
        or the uniform mixture of one-hot codes (conv16).
    random_state : int, default=0

    Examples
    --------
    >>> from spikeinfer.models import NeuralModel
    >>> from spikeinfer.simulate import simulate_recording
    >>> from spikeinfer.training import TrainingConfig
    >>> rec = simulate_recording(n_neurons=3, duration_s=60.0, fps=30.0, random_state=0)
    >>> model = NeuralModel(training=TrainingConfig(steps=20, window_s=10.0)).fit([rec])
    >>> model.predict(rec.traces, rec.fps).shape
    (3, 1800)
    """

    architecture = "neural"
    min_frames = 8
    _fitted_attributes = ("dataset_names_", "output_scale_", "training_", "network_config_")
    _parameter_constraints = {
        "network": [StrOptions(set(NETWORKS))], "network_config": [dict, None],
        "pipeline": [Pipeline, None], "augmentation": [AugmentationConfig, None],
        "training": [TrainingConfig, None], "warm_start": ["boolean"], "dataset": [str, None],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, network: str = "default", network_config: dict | None = None,
                 pipeline: Pipeline | None = None,
                 augmentation: AugmentationConfig | None = None,
                 training: TrainingConfig | None = None, warm_start: bool = False,
                 dataset: str | None = None, random_state: int = 0):
        self.network = network
        self.network_config = network_config
        self.pipeline = pipeline
        self.augmentation = augmentation
        self.training = training
        self.warm_start = warm_start
        self.dataset = dataset
        self.random_state = random_state

    # -- settings -------------------------------------------------------------------

    @property
    def resolved_pipeline(self) -> Pipeline:
        return self.pipeline or Pipeline(fps=NETWORK_FPS.get(self.network, 30.0))

    @property
    def resolved_augmentation(self) -> AugmentationConfig:
        return self.augmentation or AugmentationConfig()

    @property
    def resolved_training(self) -> TrainingConfig:
        return self.training or TrainingConfig()

    @classmethod
    def from_flat(cls, **flat) -> NeuralModel:
        """A model from flat hyper-parameter names (``steps=1000``, ``noise_levels=[1,
        4]``, ``fps=60``...), each routed to the section holding it."""
        top, sections = {}, {name: {} for name in SECTIONS}
        for key, value in flat.items():
            key = FLAT_ALIASES.get(key, key)
            if key in _TOP:
                top[key] = value
                continue
            section = next((s for s, c in SECTIONS.items()
                            if key in {f.name for f in fields(c)}), None)
            if section is None:
                raise InputError(f"NeuralModel has no hyper-parameter {key!r}")
            sections[section][key] = value
        pipeline = sections["pipeline"]
        if pipeline.get("fps", "") is None:
            del pipeline["fps"]  # None meant the network's design rate
        if pipeline:
            pipeline.setdefault("fps", NETWORK_FPS.get(top.get("network", "default"), 30.0))
        return cls(**top, **{name: SECTIONS[name](**values) if values else None
                             for name, values in sections.items()})

    def flat_params(self) -> dict:
        """Every hyper-parameter under its flat name (``fps`` as ``model_fps``, None at
        the network's design rate), e.g. to compare stored results."""
        pipeline = self.resolved_pipeline
        flat = {"network": self.network, "network_params": self.network_config,
                "model_fps": None if pipeline.fps == NETWORK_FPS.get(self.network) else pipeline.fps}
        for config in (pipeline, self.resolved_augmentation, self.resolved_training):
            flat.update({k: v for k, v in asdict(config).items() if k != "fps"})
        flat.update(warm_start=self.warm_start, dataset=self.dataset,
                    random_state=self.random_state)
        return flat

    @property
    def supported_fps(self) -> tuple[float, float]:
        """From the lowest rate of the training data (or of the acquisition-rate
        augmentation) to the highest rate of the training data."""
        rates = [r for d in getattr(self, "training_data_", []) if isinstance(d, dict)
                 for r in d.get("fps", [])]
        if not rates:
            return super().supported_fps
        low = min(rates)
        if self.resolved_augmentation.acquisition_rates:
            low = min(low, self.resolved_augmentation.acquisition_rates[0])
        return (float(low), float(max(rates)))

    def _build(self, n_datasets: int) -> torch.nn.Module:
        net_cls, config_cls = NETWORKS[self.network]
        params = {k: tuple(v) if isinstance(v, list) else v
                  for k, v in (self.network_config or {}).items()}
        names = {f.name for f in fields(config_cls)}
        if "n_datasets" in names:
            params["n_datasets"] = n_datasets
        if self.resolved_pipeline.n_context:
            if "n_context" not in names:
                raise InputError(f"network {self.network!r} cannot read context channels")
            params["n_context"] = self.resolved_pipeline.n_context
        return net_cls(config_cls(**params))

    # -- training -----------------------------------------------------------------

    def fit(self, data: Sequence[TraceSet] | TraceSet, progress: bool = False) -> NeuralModel:
        """Train on ground-truth recordings (any frame rates); returns self."""
        self._validate()
        pipeline, augmentation, config = (self.resolved_pipeline, self.resolved_augmentation,
                                          self.resolved_training)
        data = [data] if isinstance(data, TraceSet) else list(data)
        torch.manual_seed(self.random_state)
        window = int(round(config.window_s * pipeline.fps))
        warm = self.warm_start and self._is_fitted()
        names = self.dataset_names_ if warm else sorted({ts.dataset for ts in data})
        full = make_training_set(data, pipeline, config.smoothing_s, window, names)
        if not full.traces:
            raise InputError(f"no ground-truth stretch of at least {config.window_s:g} s to train on")
        rng = np.random.default_rng(self.random_state)
        neurons = sorted(set(full.neuron))
        held = set(rng.choice(neurons, size=max(1, int(len(neurons) * config.validation_fraction)),
                              replace=False)) if len(neurons) > 1 else set()
        is_val = np.array([n in held for n in full.neuron])
        train = full.subset(np.flatnonzero(~is_val))
        validation = full.subset(np.flatnonzero(is_val)) if is_val.any() else None
        if augmentation.synthetic:
            train = train.join(self._synthetic_set(data, held, names, window),
                               augmentation.synthetic_fraction)
        if not warm:
            self.net_ = self._build(len(names))
            self.dataset_names_ = names

        def calibrate_output(trainer):
            self.output_scale_ = self._spikes_per_output(full, window)

        result = self._train(train, validation, window, progress, AtEnd(calibrate_output))
        self.training_ = {"best_step": result.best_step, "seconds": round(result.seconds, 1),
                          "validation_corr": result.best_score, "history": result.history}
        self.network_config_ = asdict(self.net_.config)
        if not warm:
            self.training_data_ = describe_training_data(data)
            self.training_range_ = describe_training_range(data, augmentation.noise_levels)
        return self

    def train_step(self, batch, optimizer, loss_fn, bin_frames: int) -> float:
        """One gradient step on a batch (x, y, dataset); returns the loss."""
        x, y, d = batch
        self.net_.train()
        loss = loss_fn(self.net_(x, d), y, bin_frames)
        return gradient_step(optimizer, loss, self.net_.parameters(), clip_norm=5.0)

    @torch.no_grad()
    def validation_score(self, batch, bin_frames: int) -> float:
        """Mean correlation of predictions and targets over validation windows."""
        x, y, d = batch
        self.net_.eval()
        return 1.0 - float(correlation_loss(self.net_(x, d), y, bin_frames))

    def _train(self, train, validation, window: int, progress: bool, *extra_callbacks):
        """Adam on random windows of ``train``; the weights of the best validation step
        are kept. Validation windows are drawn once (fixed seed) from held-out neurons
        with the same augmentation (the time stretch aside: they keep real time courses)."""
        pipeline, augmentation, config = (self.resolved_pipeline, self.resolved_augmentation,
                                          self.resolved_training)
        rng = np.random.default_rng(self.random_state)
        torch.manual_seed(self.random_state)
        loss_fn = get_loss(config.loss)
        optimizer = torch.optim.Adam(self.net_.parameters(), lr=config.learning_rate)
        scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.steps)
                     if config.lr_schedule == "cosine" else None)
        bin_frames = max(1, int(round(config.corr_bin_s * pipeline.fps)))
        val_batch = None
        if validation is not None and validation.traces:
            val_batch = _as_tensors(*validation.sample_windows(
                max(4 * config.batch_size, 256), window,
                np.random.default_rng(self.random_state + 1), augmentation, pipeline,
                stretch_time=False))

        def step(_):
            batch = _as_tensors(*train.sample_windows(config.batch_size, window, rng,
                                                      augmentation, pipeline))
            loss = self.train_step(batch, optimizer, loss_fn, bin_frames)
            if scheduler is not None:
                scheduler.step()
            return {"loss": loss}

        evaluate = (lambda: self.validation_score(val_batch, bin_frames)) if val_batch else None
        callbacks = [EarlyStopping(self.net_, evaluate, config.eval_every, config.patience),
                     TimeBudget(config.max_seconds, every=config.eval_every),
                     ProgressBar("training", progress), *extra_callbacks]
        return Trainer(step, config.steps, callbacks, flush_denormals=True).fit()

    def _synthetic_set(self, data: list[TraceSet], held: set, names: list[str], window: int):
        """Synthetic twins of the training neurons (none of ``held``); their dataset
        index is -1, the unseen-dataset fallback of conditioned networks."""
        keep = [ts.subset([neuron_name(ts.dataset, nid) not in held for nid in ts.neuron_ids])
                for ts in data]
        keep = [ts for ts in keep if ts.n_neurons]
        make = simulate_twins if self.resolved_augmentation.synthetic == "simulator" \
            else generate_twins
        return make_training_set(make(keep, self.random_state), self.resolved_pipeline,
                                 self.resolved_training.smoothing_s, window, names)

    @torch.no_grad()
    def _spikes_per_output(self, data, window: int) -> float:
        """The factor that makes the output sum to spike counts (a correlation loss
        leaves the scale free): the geometric mean over training datasets of true over
        predicted spikes on training windows, so that the datasets that fire most do not
        set the scale for all."""
        x, y, d = data.sample_windows(1024, window, np.random.default_rng(self.random_state + 2),
                                      self.resolved_augmentation, self.resolved_pipeline,
                                      stretch_time=False)
        self.net_.eval()
        with flush_denormals():
            rate = np.concatenate([self.net_(torch.from_numpy(x[i:i + 256]),
                                             torch.from_numpy(d[i:i + 256])).numpy()
                                   for i in range(0, len(x), 256)])
        _, group = np.unique(d, return_inverse=True)
        true = np.bincount(group, y.sum(axis=1))
        predicted = np.bincount(group, self.resolved_pipeline.subtract_floor(rate).sum(axis=1))
        keep = (true > 0) & (predicted > 0)
        return float(np.exp(np.mean(np.log(true[keep] / predicted[keep])))) if keep.any() else 1.0

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
        over all cores (1.4-1.8x on 2 cores), and a stretch's output does not depend on
        how many cores the machine has."""
        threads = torch.get_num_threads()
        self.net_.eval()
        torch.set_num_threads(1)
        try:
            with flush_denormals():
                if threads == 1 or len(runs) < 2:
                    yield from map(predict_run, runs)
                    return
                with ThreadPoolExecutor(min(threads, len(runs))) as pool:
                    yield from pool.map(predict_run, runs)
        finally:
            torch.set_num_threads(threads)

    def _prepare_recording(self, traces: np.ndarray, fps: float):
        return self.resolved_pipeline.calibrate(traces, fps)

    @torch.no_grad()
    def _predict_run(self, trace: np.ndarray, fps: float, context=(None, 0)) -> np.ndarray:
        calibration, row = context
        pipeline = self.resolved_pipeline
        x, rate_fps = pipeline.network_input(trace, fps, calibration, row)
        rate = self._apply_network(x)
        return pipeline.to_spikes(rate, rate_fps, fps, len(trace), self.output_scale_)

    def _apply_network(self, x: np.ndarray) -> np.ndarray:
        """The network's rate for input ``x`` (channels, time): in one pass, or for a long
        trace in segments that overlap by the receptive field, which gives the same rate
        (the stack sees the same samples around each output)."""
        dataset = self._dataset_index()
        reach = self.net_.receptive_field
        n = x.shape[-1]
        if reach is None or n <= SEGMENT + 2 * reach:  # the LSTM's reach is the whole trace
            return self.net_(torch.from_numpy(x)[None], dataset).numpy()[0]
        whole = getattr(self.net_, "trace_statistics", lambda x: {})(torch.from_numpy(x)[None])
        margin = reach + reach % 2  # even, to keep a strided layer's phase
        rate = np.empty(n, dtype=np.float32)
        for start in range(0, n, SEGMENT):
            stop = min(start + SEGMENT, n)
            lo, hi = max(0, start - margin), min(n, stop + margin)
            part = self.net_(torch.from_numpy(np.ascontiguousarray(x[:, lo:hi]))[None], dataset,
                             **whole)
            rate[start:stop] = part.numpy()[0, start - lo:stop - lo]
        return rate

    # -- saving -------------------------------------------------------------------

    def params_document(self) -> dict:
        return {"network": self.network, "network_config": self.network_config,
                "pipeline": asdict(self.resolved_pipeline),
                "augmentation": asdict(self.resolved_augmentation),
                "training": asdict(self.resolved_training), "warm_start": self.warm_start,
                "dataset": self.dataset, "random_state": self.random_state}

    def _tensors(self) -> dict:
        return self.net_.state_dict()

    def make_card(self, name: str, **fields):
        pipeline = self.resolved_pipeline
        return super().make_card(name, fps=pipeline.fps, pipeline=asdict(pipeline),
                                 noise_range=self.resolved_augmentation.noise_levels, **fields)

    @classmethod
    def from_document(cls, document: dict, weights: dict | None) -> NeuralModel:
        params = dict(document["params"])
        if any(name in params for name in ("steps", "loss", "model_fps")):  # flat, as before
            model = cls.from_flat(**params)
        else:
            model = cls(**{k: v for k, v in params.items() if k not in SECTIONS},
                        **{name: SECTIONS[name](**params[name]) if params.get(name) else None
                           for name in SECTIONS})
        model._validate()
        state = document["state"]
        model.dataset_names_ = list(state["dataset_names_"])
        model.training_ = state.get("training_", {})
        model.output_scale_ = float(state["output_scale_"])
        if not (np.isfinite(model.output_scale_) and model.output_scale_ > 0):
            raise InputError(f"output_scale_ = {model.output_scale_!r} is not a positive number")
        model.network_config_ = state.get("network_config_", {})
        model.read_card(document.get("card", {}))
        if weights is None:
            raise InputError("a network needs its weights.safetensors")
        model.net_ = model._build(len(model.dataset_names_))
        model.net_.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
        model.net_.eval()
        return model


def _as_tensors(x, y, d):
    return torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(d)


def with_settings(model: NeuralModel, **flat) -> NeuralModel:
    """``model`` with some settings changed by flat name (e.g. ``steps=300``), the rest kept
    (used to fine-tune a fitted model)."""
    sections = {}
    for key, value in flat.items():
        key = FLAT_ALIASES.get(key, key)
        section = next((s for s, c in SECTIONS.items() if key in {f.name for f in fields(c)}),
                       None)
        if section is None:
            raise InputError(f"NeuralModel has no setting {key!r}")
        sections.setdefault(section, {})[key] = value
    resolved = {"pipeline": model.resolved_pipeline, "augmentation": model.resolved_augmentation,
                "training": model.resolved_training}
    return model.set_params(**{name: replace(resolved[name], **values)
                               for name, values in sections.items()})
