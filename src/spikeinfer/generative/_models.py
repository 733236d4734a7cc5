"""The three generative models: fit on ground truth, save, load, use.

Each model is a scikit-learn estimator: the constructor stores hyper-parameters,
``fit`` returns self and sets attributes ending in ``_``, ``save`` writes the artifact
``model.json`` (kind ``generative``, the model, hyper-parameters, learned values,
training history) and ``weights.safetensors`` into a folder, :func:`load_generative`
reads any of them back. Training runs through the one
:class:`~spikeinfer.training.Trainer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval
from torch.nn import functional as F

from .. import __version__
from ..data import TraceSet
from ..exceptions import InputError, NotFittedError
from ..io import normalise_indicator_name, read_artifact, write_artifact
from ..nn.generative import (
    AutoencoderConfig,
    ClassifierConfig,
    Discriminator,
    DiscriminatorConfig,
    Generator,
    GeneratorConfig,
    SpikeClassifierNet,
    WindowAutoencoderNet,
)
from ..preprocess import resample_traceset
from ..training import History, ProgressBar, TimeBudget, Trainer, gradient_step, make_twin
from ..validation import POSITIVE, check_params
from ._windows import (
    FPS,
    Stretches,
    Windows,
    dataset_noise_scales,
    make_stretches,
    make_windows,
    split_neurons,
)

KINDS = ("classifier", "autoencoder", "gan")


def _balanced_sampler(dataset: np.ndarray, batch_size: int, rng: np.random.Generator):
    """A function drawing indices of ``batch_size`` items, every dataset equally likely."""
    members = [np.flatnonzero(dataset == g) for g in np.unique(dataset)]

    def draw() -> np.ndarray:
        return np.array([m[rng.integers(len(m))]
                         for m in (members[k] for k in rng.integers(len(members), size=batch_size))])
    return draw


class _WindowModel(BaseEstimator):
    """What the three models share: data preparation, the neuron split, training, saving."""

    kind = ""
    _parameter_constraints = {
        "steps": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [POSITIVE], "window": [Interval(Integral, 1, None, closed="left")],
        "per_dataset": [Interval(Integral, 1, None, closed="left")],
        "held_out_fraction": [Interval(Real, 0, 1, closed="left")],
        "max_seconds": [POSITIVE, None],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, steps: int, batch_size: int, learning_rate: float, window: int,
                 per_dataset: int, held_out_fraction: float, max_seconds: float | None,
                 random_state: int):
        self.steps = steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.window = window
        self.per_dataset = per_dataset
        self.held_out_fraction = held_out_fraction
        self.max_seconds = max_seconds
        self.random_state = random_state

    def _validate(self) -> None:
        check_params(self.get_params(deep=False), self._parameter_constraints,
                     type(self).__name__)

    def _check_fitted(self) -> None:
        if not hasattr(self, "net_"):
            raise NotFittedError(f"this {self.kind} is not fitted; call fit() or load it")

    def prepare(self, data: Sequence[TraceSet] | Stretches) -> tuple[Stretches, set[str]]:
        """Ground truth at the model's rate, and the held-out neurons (seeded split)."""
        stretches = data if isinstance(data, Stretches) else make_stretches(
            list(data), FPS, max(self.window, 64))
        if not stretches.traces:
            raise InputError(f"no ground-truth stretch of at least {self.window} frames "
                             f"at {FPS:g} Hz")
        held = getattr(self, "held_out_neurons_", None)
        if held is None:
            held = split_neurons(stretches.neuron, self.held_out_fraction, self.random_state)
        return stretches, set(held)

    def _start_fit(self, data):
        """Checks, a fresh network, the training neurons' windows, a sampler drawing
        every dataset equally often, and Adam: what a window model's ``fit`` starts with."""
        self._validate()
        torch.manual_seed(self.random_state)
        stretches, held = self.prepare(data)
        windows = make_windows(stretches, held, self.window, self.per_dataset, self.random_state)
        train = windows.subset(~windows.held_out)
        if not len(train.x):
            raise InputError("no training windows: every neuron is held out")
        self.net_ = self._build()
        self.dataset_names_ = list(stretches.dataset_names)
        self.held_out_neurons_ = held
        draw = _balanced_sampler(train.dataset, self.batch_size,
                                 np.random.default_rng(self.random_state))
        return train, draw, torch.optim.Adam(self.net_.parameters(), lr=self.learning_rate)

    def windows(self, data: Sequence[TraceSet] | Stretches) -> Windows:
        """The model's windows of ``data`` (training and held-out neurons)."""
        stretches, held = self.prepare(data)
        return make_windows(stretches, held, self.window, self.per_dataset, self.random_state)

    # -- saving ---------------------------------------------------------------------

    def _state(self) -> dict:
        return {"dataset_names_": self.dataset_names_,
                "held_out_neurons_": sorted(self.held_out_neurons_),
                "config_": _config_dict(self.net_.config), "training_": self.training_}

    def _train(self, step_fn, progress: bool) -> dict:
        """Run ``step_fn(step) -> dict of losses`` up to :attr:`steps` or
        :attr:`max_seconds`; the history holds the losses averaged over each 100 steps."""
        trainer = Trainer(step_fn, self.steps, [TimeBudget(self.max_seconds), History(100),
                                                ProgressBar(self.kind, progress)])
        result = trainer.fit()
        self.net_.eval()
        return {"steps": result.steps, "seconds": round(result.seconds, 1),
                "history": result.history}

    def save(self, folder, force: bool = False) -> Path:
        """Write ``model.json`` and ``weights.safetensors`` into ``folder`` atomically."""
        self._check_fitted()
        folder = Path(folder)
        if (folder / "model.json").exists() and not force:
            raise InputError(f"{folder}: holds a model already; pass --force to overwrite")
        document = {"kind": "generative", "model": self.kind, "package_version": __version__,
                    "fps": FPS, "params": self.get_params(), "state": self._state()}
        return write_artifact(folder, document, self.net_.state_dict())

    @classmethod
    def from_document(cls, document: dict, weights: dict):
        model = cls(**document["params"])
        model._validate()
        state = document["state"]
        model.dataset_names_ = list(state["dataset_names_"])
        model.held_out_neurons_ = set(state["held_out_neurons_"])
        model.training_ = state.get("training_", {})
        model._restore(state)
        model.net_ = model._build(state["config_"])
        model.net_.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
        model.net_.eval()
        return model

    def _restore(self, state: dict) -> None:
        """Learned values beyond the common ones (the GAN's scales and indicators)."""


def _config_dict(config) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}


def _tuples(d: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}


# -- classifier -----------------------------------------------------------------------

class SpikeClassifier(_WindowModel):
    """Does a window hold a spike in its centre frame (that frame exactly, 33 ms at
    30 Hz)? A small dilated CNN (:class:`SpikeClassifierNet`) trained with binary
    cross-entropy on windows of training neurons, every dataset equally often.

    Parameters
    ----------
    steps : int, default=2000
    batch_size : int, default=64
    learning_rate : float, default=1e-3
    window : int, default=64
        Frames per window (2.1 s at 30 Hz).
    per_dataset : int, default=2000
        Training windows per dataset at most (a quarter as many held out).
    held_out_fraction : float, default=0.2
        Fraction of each dataset's neurons held out.
    max_seconds : float, default=None
        Wall-time budget of training.
    random_state : int, default=0
    """

    kind = "classifier"

    def __init__(self, steps: int = 2000, batch_size: int = 64, learning_rate: float = 1e-3,
                 window: int = 64, per_dataset: int = 2000, held_out_fraction: float = 0.2,
                 max_seconds: float | None = None, random_state: int = 0):
        super().__init__(steps, batch_size, learning_rate, window, per_dataset,
                         held_out_fraction, max_seconds, random_state)

    def _build(self, config: dict | None = None) -> SpikeClassifierNet:
        return SpikeClassifierNet(ClassifierConfig(**_tuples(config or {})))

    def fit(self, data: Sequence[TraceSet] | Stretches, progress: bool = False) -> SpikeClassifier:
        train, draw, optimizer = self._start_fit(data)
        x = torch.from_numpy(train.x).unsqueeze(1)
        y = torch.from_numpy(train.has_spike.astype(np.float32))

        def step_fn(step):
            idx = torch.from_numpy(draw())
            self.net_.train()
            loss = F.binary_cross_entropy_with_logits(self._centre_logit(x[idx]), y[idx])
            gradient_step(optimizer, loss)
            return {"bce": loss.item()}

        self.training_ = self._train(step_fn, progress)
        return self

    def _centre_logit(self, x: torch.Tensor) -> torch.Tensor:
        return self.net_(x)[:, x.shape[-1] // 2]

    @torch.no_grad()
    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(n, window) dF/F minus baseline -> (n,) probability of a spike at the centre."""
        self._check_fitted()
        self.net_.eval()
        x = torch.from_numpy(np.asarray(x, dtype=np.float32)).unsqueeze(1)
        return torch.sigmoid(self._centre_logit(x)).numpy()

    @torch.no_grad()
    def loss(self, windows: Windows) -> float:
        """Binary cross-entropy on ``windows``."""
        self._check_fitted()
        self.net_.eval()
        x = torch.from_numpy(windows.x).unsqueeze(1)
        y = torch.from_numpy(windows.has_spike.astype(np.float32))
        return float(F.binary_cross_entropy_with_logits(self._centre_logit(x), y))


# -- autoencoder ----------------------------------------------------------------------

class WindowAutoencoder(_WindowModel):
    """A convolutional autoencoder of windows to a ``latent``-dimensional code
    (:class:`WindowAutoencoderNet`), trained on mean squared error in units of each
    window's noise std. Parameters as :class:`SpikeClassifier`, and

    latent : int, default=8
    """

    kind = "autoencoder"

    def __init__(self, latent: int = 8, steps: int = 3000, batch_size: int = 64,
                 learning_rate: float = 1e-3, window: int = 64, per_dataset: int = 2000,
                 held_out_fraction: float = 0.2, max_seconds: float | None = None,
                 random_state: int = 0):
        self.latent = latent
        super().__init__(steps, batch_size, learning_rate, window, per_dataset,
                         held_out_fraction, max_seconds, random_state)

    def _build(self, config: dict | None = None) -> WindowAutoencoderNet:
        config = config or {"window": self.window, "latent": self.latent}
        return WindowAutoencoderNet(AutoencoderConfig(**_tuples(config)))

    def _validate(self) -> None:
        super()._validate()
        if self.window % 8:
            raise InputError(f"window must be a multiple of 8 frames, got {self.window}")
        if not isinstance(self.latent, int) or self.latent < 1:
            raise InputError(f"latent must be a positive whole number, got {self.latent!r}")

    def fit(self, data: Sequence[TraceSet] | Stretches,
            progress: bool = False) -> WindowAutoencoder:
        train, draw, optimizer = self._start_fit(data)
        x = torch.from_numpy(train.x).unsqueeze(1)

        def step_fn(step):
            idx = torch.from_numpy(draw())
            self.net_.train()
            reconstruction, z, _, _ = self.net_(x[idx])
            loss = F.mse_loss(reconstruction, z)
            gradient_step(optimizer, loss)
            return {"mse_noise_units": loss.item()}

        self.training_ = self._train(step_fn, progress)
        return self

    @torch.no_grad()
    def encode(self, x: np.ndarray) -> np.ndarray:
        """(n, window) dF/F -> (n, latent) codes."""
        self._check_fitted()
        self.net_.eval()
        return self.net_(torch.from_numpy(np.asarray(x, np.float32)).unsqueeze(1))[2].numpy()

    @torch.no_grad()
    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        """(n, window) dF/F -> (n, window) reconstruction in dF/F."""
        self._check_fitted()
        self.net_.eval()
        reconstruction, _, _, sigma = self.net_(
            torch.from_numpy(np.asarray(x, np.float32)).unsqueeze(1))
        return (reconstruction * sigma).squeeze(1).numpy()

    @torch.no_grad()
    def loss(self, windows: Windows) -> float:
        """Mean squared reconstruction error in noise units (1 = the noise's variance)."""
        self._check_fitted()
        self.net_.eval()
        reconstruction, z, _, _ = self.net_(torch.from_numpy(windows.x).unsqueeze(1))
        return float(F.mse_loss(reconstruction, z))


# -- conditional GAN ------------------------------------------------------------------

def _box_smooth(x: torch.Tensor, width: int) -> torch.Tensor:
    """(batch, time) moving average over ``width`` frames (edges replicated)."""
    pad = (width // 2, width - 1 - width // 2)
    return F.avg_pool1d(F.pad(x.unsqueeze(1), pad, mode="replicate"), width, 1).squeeze(1)


class ConditionalGAN(_WindowModel):
    """Fluorescence given spikes and a dataset label (conditional GAN).

    The generator (:class:`Generator`) is fully convolutional in time: trained on
    windows, it renders whole traces of any length. It works in units of each
    dataset's noise std (the median over its stretches), so that one network serves
    indicators whose dF/F differ a hundred-fold. The discriminator sees the trace,
    its frame difference and the spikes, with a projection on the label. Hinge loss,
    spectral norm in the discriminator, Adam with betas (0.5, 0.999); the generator
    also pays ``l1_weight`` times the L1 distance between its output and the real
    trace, both smoothed over ``smooth_frames`` frames (as in pix2pix), which pins the
    transients to the spikes while the noise is left to the adversary. The first
    ``warmup`` frames of every window, where earlier spikes are unknown, are not judged.

    Parameters
    ----------
    steps : int, default=4000
    batch_size : int, default=32
    learning_rate : float, default=5e-4
    window : int, default=96
        Frames per training window (3.2 s at 30 Hz).
    warmup : int, default=32
    l1_weight : float, default=0.5
    smooth_frames : int, default=9
    per_dataset : int, default=2000
        Windows per dataset of the evaluation (the two-sample test), as the classifier.
    held_out_fraction : float, default=0.2
        Fraction of each dataset's neurons held out; 0 trains on everything.
    max_seconds : float, default=None
    random_state : int, default=0
    """

    kind = "gan"
    fps = FPS  # the rate of every trace it reads and writes

    def __init__(self, steps: int = 4000, batch_size: int = 32, learning_rate: float = 5e-4,
                 window: int = 96, warmup: int = 32, l1_weight: float = 0.5,
                 smooth_frames: int = 9, per_dataset: int = 2000,
                 held_out_fraction: float = 0.2, max_seconds: float | None = None,
                 random_state: int = 0):
        self.warmup = warmup
        self.l1_weight = l1_weight
        self.smooth_frames = smooth_frames
        super().__init__(steps, batch_size, learning_rate, window, per_dataset,
                         held_out_fraction, max_seconds, random_state)

    def _build(self, config: dict | None = None) -> Generator:
        config = config or {"n_labels": len(self.dataset_names_)}
        return Generator(GeneratorConfig(**_tuples(config)))

    def _validate(self) -> None:
        super()._validate()
        if not 0 <= self.warmup < self.window - 16:
            raise InputError(f"warmup must be in [0, window - 16), got {self.warmup!r}")
        if not self.l1_weight >= 0:
            raise InputError(f"l1_weight must be at least 0, got {self.l1_weight!r}")

    def fit(self, data: Sequence[TraceSet] | Stretches, progress: bool = False) -> ConditionalGAN:
        self._validate()
        torch.manual_seed(self.random_state)
        stretches, held = self.prepare(data)
        train = stretches.subset(np.flatnonzero(~stretches.is_held_out(held)))
        if not any(len(t) >= self.window for t in train.traces):
            raise InputError(f"no training stretch of at least {self.window} frames")
        self.dataset_names_ = list(stretches.dataset_names)
        self.held_out_neurons_ = held
        self.indicators_ = {name: stretches.indicators.get(name, "unknown")
                            for name in self.dataset_names_}
        self.scales_ = dataset_noise_scales(train).tolist()
        self.net_ = self._build()
        self.discriminator_ = Discriminator(DiscriminatorConfig(n_labels=len(self.dataset_names_)))
        g, d = self.net_, self.discriminator_
        opt_g = torch.optim.Adam(g.parameters(), lr=self.learning_rate, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(d.parameters(), lr=self.learning_rate, betas=(0.5, 0.999))
        rng = np.random.default_rng(self.random_state)
        scales = torch.tensor(self.scales_, dtype=torch.float32)
        w, cfg = self.warmup, g.config

        def step_fn(step):
            x, c, label = train.sample(self.batch_size, self.window, rng)
            label = torch.from_numpy(label)
            real = torch.from_numpy(x) / scales[label].unsqueeze(1)  # (batch, time)
            counts = torch.from_numpy(c).unsqueeze(1)  # (batch, 1, time)
            g.train()
            fake = g(counts, g.embedding(label), torch.randn(len(label), cfg.z_trace),
                     torch.randn(len(label), cfg.z_frame, self.window))
            judged = counts[..., w:]
            loss_d = (F.relu(1 - d(real[:, None, w:], judged, label)).mean()
                      + F.relu(1 + d(fake.detach()[:, None, w:], judged, label)).mean())
            gradient_step(opt_d, loss_d)
            adversarial = -d(fake[:, None, w:], judged, label).mean()
            l1 = (_box_smooth(fake, self.smooth_frames)
                  - _box_smooth(real, self.smooth_frames))[:, w:].abs().mean()
            gradient_step(opt_g, adversarial + self.l1_weight * l1)
            return {"d_loss": loss_d.item(), "g_adversarial": adversarial.item(),
                    "l1_smoothed": l1.item()}

        self.training_ = self._train(step_fn, progress)
        return self

    def _state(self) -> dict:
        return {**super()._state(), "indicators_": self.indicators_, "scales_": self.scales_}

    def _restore(self, state: dict) -> None:
        self.indicators_ = dict(state["indicators_"])
        self.scales_ = [float(s) for s in state["scales_"]]

    # -- generation -------------------------------------------------------------------

    @property
    def labels(self) -> list[str]:
        """Dataset names and indicator names the generator can be conditioned on."""
        return self.dataset_names_ + sorted(set(self.indicators_.values()))

    def _condition(self, label: str | None) -> tuple[torch.Tensor, float]:
        """(embedding, noise scale) of a dataset, or the mean over an indicator's
        datasets (or over all datasets for ``None``)."""
        if label is None:
            rows = list(range(len(self.dataset_names_)))
        elif label in self.dataset_names_:
            rows = [self.dataset_names_.index(label)]
        else:
            name = normalise_indicator_name(str(label))
            rows = [i for i, d in enumerate(self.dataset_names_) if self.indicators_[d] == name]
            if not rows:
                raise InputError(f"label {label!r} is neither a training dataset nor the "
                                 f"indicator of one; choose from {', '.join(self.labels)}")
        with torch.no_grad():
            embedding = self.net_.embedding.weight[rows].mean(dim=0)
        scale = float(np.exp(np.mean(np.log(np.array(self.scales_)[rows]))))
        return embedding, scale

    @torch.no_grad()
    def generate(self, spike_counts: np.ndarray, label: str | None | Sequence = None,
                 random_state: int | np.random.Generator | None = None,
                 max_frames_per_batch: int = 1_000_000) -> np.ndarray:
        """dF/F (minus its baseline) of neurons firing ``spike_counts``; see
        :func:`generate_traces`."""
        self._check_fitted()
        counts = np.asarray(spike_counts, dtype=np.float64)
        one_row = counts.ndim == 1
        counts = np.atleast_2d(counts)
        if counts.ndim != 2:
            raise InputError(f"spike_counts must be (n_neurons, n_frames), got {counts.shape}")
        n, n_frames = counts.shape
        labels = [label] * n if label is None or isinstance(label, str) else list(label)
        if len(labels) != n:
            raise InputError(f"{len(labels)} labels for {n} spike trains")
        rng = np.random.default_rng(random_state)
        missing = ~np.isfinite(counts)
        cfg = self.net_.config
        out = np.empty((n, n_frames))
        self.net_.eval()
        rows_per_batch = max(1, max_frames_per_batch // max(n_frames, 1))
        for first in range(0, n, rows_per_batch):
            rows = range(first, min(first + rows_per_batch, n))
            conditions = [self._condition(labels[i]) for i in rows]
            embedding = torch.stack([c[0] for c in conditions])
            scale = np.array([c[1] for c in conditions])
            c = torch.from_numpy(np.nan_to_num(counts[rows.start:rows.stop]).astype(np.float32))
            z_trace = torch.from_numpy(rng.standard_normal((len(rows), cfg.z_trace),
                                                           dtype=np.float32))
            z_frame = torch.from_numpy(rng.standard_normal((len(rows), cfg.z_frame, n_frames),
                                                           dtype=np.float32))
            y = self.net_(c.unsqueeze(1), embedding, z_trace, z_frame).numpy()
            out[rows.start:rows.stop] = y * scale[:, None]
        out[missing] = np.nan
        return out[0] if one_row else out

    @torch.no_grad()
    def conditional_error(self, windows: Windows, random_state: int = 0) -> float:
        """Mean ``|smoothed generated - smoothed real|`` in noise-scale units over
        ``windows`` (after the warm-up frames), generated from the windows' own spikes
        and datasets: near the noise of a smoothed trace once the transients sit on the
        spikes, larger for an untrained generator."""
        names = [windows.dataset_names[d] for d in windows.dataset]
        fake = self.generate(windows.counts, names, random_state)
        scales = np.array([self._condition(n)[1] for n in names])[:, None]
        diff = _box_smooth(torch.from_numpy((fake - windows.x) / scales).float(),
                           self.smooth_frames)
        return float(diff[:, min(self.warmup, windows.x.shape[1] // 4):].abs().mean())


def generate_traces(gan: ConditionalGAN, spike_counts: np.ndarray,
                    label: str | None | Sequence = None,
                    random_state: int | np.random.Generator | None = None) -> np.ndarray:
    """Fluorescence of neurons firing ``spike_counts``, from a trained conditional GAN.

    Parameters
    ----------
    gan : ConditionalGAN
        From :func:`train_gan` or :func:`load_generative`.
    spike_counts : ndarray of shape (n_neurons, n_frames) or (n_frames,)
        Spikes per frame at ``gan.fps`` (30 Hz), any length; NaN frames give NaN.
    label : str, sequence of str, or None, default=None
        A training dataset's name, or an indicator name (the mean condition of the
        training datasets with that indicator), one for all rows or one per row;
        None takes the mean over all training datasets.
    random_state : int or numpy Generator, default=None

    Returns
    -------
    ndarray of the shape of ``spike_counts``
        dF/F with its running baseline removed (as the training windows), at ``gan.fps``.

    Examples
    --------
    >>> from spikeinfer.simulate import simulate_recording
    >>> rec = simulate_recording(n_neurons=3, duration_s=60, indicator="GCaMP6s",
    ...                          random_state=0)
    >>> gan = train_gan([rec], steps=5, held_out_fraction=0.0)
    >>> generate_traces(gan, rec.spike_counts(), "GCaMP6s", random_state=0).shape
    (3, 1800)
    """
    return gan.generate(spike_counts, label, random_state)


def train_gan(data: Sequence[TraceSet] | Stretches, *, steps: int = 4000,
              max_seconds: float | None = None, held_out_fraction: float = 0.0,
              random_state: int = 0, progress: bool = False, **params) -> ConditionalGAN:
    """A :class:`ConditionalGAN` trained on ground-truth recordings (any frame rates;
    resampled to 30 Hz), on all their neurons unless ``held_out_fraction`` > 0.

    Parameters
    ----------
    data : list of TraceSet
        With ground-truth spikes; each recording's ``dataset`` is its label.
    steps : int, default=4000
    max_seconds : float, default=None
        Wall-time budget; training stops at whichever of ``steps`` and this comes first.
    held_out_fraction : float, default=0.0
    random_state : int, default=0
    progress : bool, default=False
    **params
        Other hyper-parameters of :class:`ConditionalGAN`.
    """
    return ConditionalGAN(steps=steps, max_seconds=max_seconds,
                          held_out_fraction=held_out_fraction, random_state=random_state,
                          **params).fit(data, progress=progress)


MODELS = {"classifier": SpikeClassifier, "autoencoder": WindowAutoencoder, "gan": ConditionalGAN}


def load_generative(folder) -> SpikeClassifier | WindowAutoencoder | ConditionalGAN:
    """A model saved by ``save`` (or ``spikeinfer generative train``)."""
    folder = Path(folder)
    if not (folder / "model.json").is_file():
        raise InputError(f"{folder}: no model.json; train one with 'spikeinfer generative train'")
    document, weights = read_artifact(folder, "generative")
    if document.get("model") not in MODELS:
        raise InputError(f"{folder / 'model.json'}: unknown generative model "
                         f"{document.get('model')!r}")
    if weights is None:
        raise InputError(f"{folder}: weights.safetensors is missing")
    try:
        return MODELS[document["model"]].from_document(document, weights)
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise InputError(f"{folder / 'model.json'}: invalid model ({type(err).__name__}: {err})"
                         ) from None


def generate_twins(data: Sequence[TraceSet], random_state: int = 0, *,
                   max_seconds: float = 300.0) -> list[TraceSet]:
    """Each recording's spike trains with fluorescence from a conditional GAN trained
    on ``data`` (at most ``max_seconds``), conditioned on another training dataset
    drawn at random: synthetic training twins (see
    :func:`spikeinfer.training.simulate_twins` for the simulator's)."""
    gan = train_gan(list(data), max_seconds=max_seconds, random_state=random_state)
    rng = np.random.default_rng(random_state)
    labels = sorted({ts.dataset for ts in data})
    twins = []
    for ts in data:
        ts30 = resample_traceset(ts, gan.fps)
        counts = np.nan_to_num(ts30.spike_counts())
        label = labels[rng.integers(len(labels))]
        traces = generate_traces(gan, counts, label, random_state=rng)
        traces[np.isnan(ts30.traces)] = np.nan
        twins.append(make_twin(ts30, traces))
    return twins
