"""The one interface of every model: ``predict(traces, fps) -> expected spikes per frame``."""

from __future__ import annotations

import datetime
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator
from tqdm.auto import tqdm

from .. import __version__
from ..calibration import calibrate
from ..data import TraceSet
from ..exceptions import DataWarning, InputError, NotFittedError
from ..io import write_artifact
from ..signals import check_fps, finite_runs
from ..validation import check_params


def check_traces(traces, fps, min_frames: int = 1):
    """Validate traces and frame rate for prediction; returns (2-D float array, fps).

    float32 input stays float32 (half the memory of a large recording); anything
    else becomes float64.

    Raises InputError naming the first bad row: infinite values, all NaN,
    constant, or fewer valid frames than ``min_frames``.
    """
    fps = check_fps(fps)
    x = np.asarray(traces)
    x = x.astype(np.float32 if x.dtype == np.float32 else np.float64, copy=False)
    if x.ndim != 2:
        raise InputError(f"traces must be 2-D (n_neurons, n_frames), got shape {x.shape}")
    if x.shape[0] == 0:
        raise InputError("no traces")
    for i, row in enumerate(x):
        finite = np.isfinite(row)
        if np.isinf(row).any():
            raise InputError(f"neuron {i}: infinite values at frame {np.flatnonzero(np.isinf(row))[0]}")
        if not finite.any():
            raise InputError(f"neuron {i}: all values are NaN")
        values = row[finite]
        if values.max() == values.min():
            raise InputError(f"neuron {i}: constant trace")
        if finite.sum() < min_frames:
            raise InputError(f"neuron {i}: {finite.sum()} valid frames, "
                             f"this model needs at least {min_frames}")
    return x, fps


def describe_training_range(data: Sequence[TraceSet],
                            noise_levels: tuple[float, float] | None = None) -> dict:
    """The range (1st-99th percentile over neurons; of recordings for the decay) of the
    recording estimates of ``data`` (:func:`spikeinfer.calibration.calibrate`), the noise
    range widened to ``noise_levels`` (added in training)."""
    nu, amplitude, decay = [], [], []
    for ts in data:
        estimates = calibrate(ts.traces, ts.fps)
        nu.extend(estimates.noise_level[np.isfinite(estimates.noise_level)])
        amplitude.extend(estimates.amplitude[np.isfinite(estimates.amplitude)])
        if np.isfinite(estimates.tau_decay_s):
            decay.append(estimates.tau_decay_s)
    out = {}
    for key, values in (("noise_level", nu), ("amplitude", amplitude), ("tau_decay_s", decay)):
        if values:
            low, high = np.percentile(values, [1, 99])
            out[key] = [float(low), float(high)]
    if noise_levels and "noise_level" in out:
        out["noise_level"] = [min(out["noise_level"][0], noise_levels[0]),
                              max(out["noise_level"][1], noise_levels[1])]
    return out


def describe_training_data(data: Sequence[TraceSet]) -> list[dict]:
    """Per dataset: recordings, hours and frame rates (Hz), for a model card."""
    by_name: dict[str, dict] = {}
    for ts in data:
        entry = by_name.setdefault(ts.dataset, {"dataset": ts.dataset, "recordings": 0,
                                                "hours": 0.0, "fps": [np.inf, 0.0]})
        entry["recordings"] += ts.n_neurons
        entry["hours"] += float(ts.lengths.sum() / ts.fps / 3600)
        entry["fps"] = [min(entry["fps"][0], ts.fps), max(entry["fps"][1], ts.fps)]
    return [{**e, "hours": round(e["hours"], 3),
             "fps": [np.floor(e["fps"][0] * 100) / 100, np.ceil(e["fps"][1] * 100) / 100]}
            for _, e in sorted(by_name.items())]


@dataclass
class ModelCard:
    """What a saved model says about itself (``card`` in ``model.json``)."""

    name: str
    architecture: str
    version: str = "0"
    fps: float | None = None
    supported_fps: tuple[float, float] | None = None
    training_data: list[dict] = field(default_factory=list)
    noise_range: tuple[float, float] | None = None
    #: The recording estimates of the training data (``noise_level``, ``tau_decay_s``,
    #: ``amplitude``: 1st-99th percentile), outside which outputs are flagged.
    training_range: dict = field(default_factory=dict)
    #: The model's measured error on counts (log standard deviation), which sets the
    #: width of its intervals (:class:`spikeinfer.inference.CountError`).
    count_error_log_sd: float | None = None
    #: The model's answer to pure noise (:func:`spikeinfer.counts.measure_silence`), by
    #: which ``predict`` removes what noise alone makes.
    silence: dict = field(default_factory=dict)
    pipeline: dict | None = None
    scores: dict = field(default_factory=dict)
    command: str = ""
    package_version: str = ""
    created: str = ""
    notes: str = ""
    #: For a model adapted to a recording: the model it started from, the recording,
    #: and the ground-truth datasets it was fine-tuned on.
    adaptation: dict = field(default_factory=dict)

    @property
    def dataset_names(self) -> list[str]:
        return [d["dataset"] if isinstance(d, dict) else str(d) for d in self.training_data]


class SpikeModel(BaseEstimator, ABC):
    """Base class of all spike-inference models (a scikit-learn estimator).

    The constructor stores hyper-parameters only (``get_params``, ``set_params`` and
    ``sklearn.base.clone`` work as for any scikit-learn estimator, and
    ``_parameter_constraints`` declares what each may be); :meth:`fit` learns from
    ground truth and sets attributes ending in ``_``; :meth:`predict` maps traces
    ``(n_neurons, n_frames)`` at ``fps`` to expected spikes per frame, same shape, NaN
    where the input is NaN; :meth:`save` writes the model with its whole card.
    """

    #: Registered name of the architecture, used to rebuild a saved model.
    architecture: str = ""
    #: Fewest valid frames of a trace the model can use.
    min_frames: int = 1
    #: Names of the learned values saved in model.json besides weights.
    _fitted_attributes: tuple[str, ...] = ()
    _parameter_constraints: dict = {}

    def _validate(self) -> None:
        """Raise InputError for hyper-parameters of the wrong type or range."""
        check_params(self.get_params(deep=False), self._parameter_constraints,
                     type(self).__name__)

    @abstractmethod
    def fit(self, data: Sequence[TraceSet] | TraceSet, progress: bool = False) -> SpikeModel:
        """Learn from ground truth; returns self."""

    @abstractmethod
    def _predict_run(self, trace: np.ndarray, fps: float, context) -> np.ndarray:
        """Expected spikes per frame for one finite 1-D trace; ``context`` is what
        :meth:`_prepare_recording` returned for the recording it belongs to."""

    def _prepare_recording(self, traces: np.ndarray, fps: float):
        """Work on the whole recording before its stretches are predicted (e.g. its own
        estimates); the result is passed to every :meth:`_predict_run` with the row."""
        return None

    def _is_fitted(self) -> bool:
        return all(hasattr(self, name) for name in self._fitted_attributes)

    @property
    def supported_fps(self) -> tuple[float, float]:
        """Frame rates (Hz) the model has been shown to work at; others are warned of."""
        return (0.5, 10_000.0)

    def predict(self, traces: np.ndarray, fps: float, progress: bool = False) -> np.ndarray:
        """Expected spikes per frame, same shape as ``traces``.

        Stretches of NaN give NaN; a finite stretch shorter than
        :attr:`min_frames` inside a trace gives NaN too (with a warning). This is the
        model's output as it is: :func:`spikeinfer.inference.predict_recording` (and
        ``spikeinfer predict``) also removes what noise alone makes (the card's
        ``silence``).

        Parameters
        ----------
        traces : ndarray of shape (n_neurons, n_frames) or (n_frames,)
            Fluorescence (dF/F). The output has the same dtype if float32, else float64.
        fps : float
            Frame rate in Hz.
        progress : bool, default=False
            Show a progress bar over the stretches predicted.
        """
        if not self._is_fitted():
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() or load one")
        self._validate()
        one_d = np.ndim(traces) == 1
        x, fps = check_traces(np.atleast_2d(traces) if one_d else traces, fps, self.min_frames)
        low, high = self.supported_fps
        if not low <= fps <= high:
            warnings.warn(f"frame rate {fps:g} Hz is outside the {low:g}-{high:g} Hz this "
                          "model was trained and tested at; its output may be wrong",
                          DataWarning, stacklevel=2)
        out = np.full(x.shape, np.nan, dtype=x.dtype)
        runs, skipped, flat = [], 0, 0
        for i in range(x.shape[0]):
            for start, stop in finite_runs(x[i]):
                if stop - start < self.min_frames:
                    skipped += stop - start
                elif np.ptp(x[i, start:stop]) == 0:
                    flat += stop - start
                else:
                    runs.append((i, start, stop))
        context = self._prepare_recording(x, fps)
        results = self._map_runs(
            lambda run: self._predict_run(x[run[0], run[1]:run[2]], fps, (context, run[0])),
            runs)
        if progress:
            results = tqdm(results, total=len(runs), desc=self.architecture, unit="trace")
        for (i, start, stop), prediction in zip(runs, results):
            out[i, start:stop] = prediction
        if skipped:
            warnings.warn(f"{skipped} frames in stretches shorter than {self.min_frames} "
                          "frames between NaNs were left NaN", DataWarning, stacklevel=2)
        if flat:
            warnings.warn(f"{flat} frames in constant stretches between NaNs were left NaN",
                          DataWarning, stacklevel=2)
        return out[0] if one_d else out

    def _map_runs(self, predict_run, runs: list) -> Iterator[np.ndarray]:
        """``predict_run`` over the finite stretches ``runs``, in order."""
        return map(predict_run, runs)

    def predict_traceset(self, ts: TraceSet, progress: bool = False) -> np.ndarray:
        """:meth:`predict` on a TraceSet; errors name its source file."""
        try:
            return self.predict(ts.traces, ts.fps, progress=progress)
        except InputError as err:
            where = f"{ts.source}: " if ts.source else ""
            raise InputError(f"{where}{err}") from None

    # -- saving ---------------------------------------------------------------

    def params_document(self) -> dict:
        """Hyper-parameters as stored in model.json (JSON values)."""
        return self.get_params(deep=False)

    def fitted_state(self) -> dict:
        """Learned values (JSON-serialisable) other than tensors."""
        return {name: getattr(self, name) for name in self._fitted_attributes}

    def _tensors(self) -> dict | None:
        """Weights to store beside model.json (None for models without)."""
        return None

    def make_card(self, name: str, **fields) -> ModelCard:
        """This fitted model's card; ``fields`` (version, command, scores, notes,
        adaptation) are what the model cannot know itself."""
        fields.setdefault("count_error_log_sd", getattr(self, "count_error_log_sd_", None))
        fields.setdefault("training_range", getattr(self, "training_range_", {}) or {})
        fields.setdefault("silence", getattr(self, "silence_", {}) or {})
        return ModelCard(name=name, architecture=self.architecture,
                         training_data=list(getattr(self, "training_data_", [])),
                         supported_fps=self.supported_fps, package_version=__version__,
                         created=datetime.datetime.now(datetime.timezone.utc).isoformat(
                             timespec="seconds"), **fields)

    def save(self, folder, *, name: str | None = None, **card_fields) -> Path:
        """Write the model into ``folder``: ``model.json`` (its whole card, its
        hyper-parameters and learned values) and, for networks, ``weights.safetensors``
        with its sha256 in the card, each written atomically.

        ``card_fields`` are :class:`ModelCard` fields the model cannot know itself:
        ``version``, ``command``, ``scores``, ``notes``, ``adaptation``.
        """
        if not self._is_fitted():
            raise NotFittedError(f"{type(self).__name__} is not fitted; nothing to save")
        folder = Path(folder)
        card = self.make_card(name or folder.name, **card_fields)
        document = {"kind": "spike-model", "card": asdict(card),
                    "params": self.params_document(), "state": self.fitted_state()}
        return write_artifact(folder, document, self._tensors())

    @classmethod
    def from_document(cls, document: dict, weights: dict | None) -> SpikeModel:
        """Rebuild a saved model (see :func:`spikeinfer.models.load_model`)."""
        model = cls(**document["params"])
        model._validate()
        state = document["state"]
        if set(state) != set(cls._fitted_attributes):
            raise InputError(f"learned values {sorted(state)} are not the expected "
                             f"{sorted(cls._fitted_attributes)}")
        for key in cls._fitted_attributes:
            value = state[key]
            if not isinstance(value, int | float) or not np.isfinite(value):
                raise InputError(f"learned value {key} = {value!r} is not a finite number")
            setattr(model, key, value)
        model.read_card(document.get("card", {}))
        return model

    def read_card(self, card: dict) -> None:
        """Keep what a loaded model's card tells about it (its training data and range,
        its count error) and the card itself as ``card_``."""
        self.card_ = card
        self.training_data_ = card.get("training_data", [])
        self.training_range_ = card.get("training_range") or {}
        self.count_error_log_sd_ = card.get("count_error_log_sd")
        self.silence_ = card.get("silence") or {}
