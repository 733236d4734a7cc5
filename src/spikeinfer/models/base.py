"""The one interface of every model: ``predict(traces, fps) -> expected spikes per frame``."""

from __future__ import annotations

import inspect
import json
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..data import TraceSet
from ..exceptions import DataWarning, InputError, NotFittedError
from ..signals import check_fps, finite_runs


def check_traces(traces, fps, min_frames: int = 1, fps_range=(0.5, 10_000.0)):
    """Validate traces and frame rate for prediction; returns (2-D float array, fps).

    float32 input stays float32 (half the memory of a large recording); anything
    else becomes float64.

    Raises InputError naming the first bad row: infinite values, all NaN,
    constant, or fewer valid frames than ``min_frames``.
    """
    fps = check_fps(fps)
    if not fps_range[0] <= fps <= fps_range[1]:
        raise InputError(f"frame rate {fps:g} Hz is outside this model's range "
                         f"{fps_range[0]:g}-{fps_range[1]:g} Hz")
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


@dataclass
class ModelCard:
    """What a saved model says about itself."""

    name: str
    architecture: str
    fps: float | None = None
    training_data: list[str] = field(default_factory=list)
    noise_range: tuple[float, float] | None = None
    scores: dict = field(default_factory=dict)
    command: str = ""
    package_version: str = ""
    notes: str = ""
    #: For a model adapted to a recording (``spikeinfer adapt``): the model it started
    #: from, the recording, and the ground-truth datasets it was fine-tuned on.
    adaptation: dict = field(default_factory=dict)


class SpikeModel(ABC):
    """Base class of all spike-inference models (scikit-learn style).

    The constructor stores hyper-parameters only; :meth:`fit` learns from
    ground truth and sets attributes ending in ``_``; :meth:`predict` maps
    traces ``(n_neurons, n_frames)`` at ``fps`` to expected spikes per frame,
    same shape, NaN where the input is NaN.
    """

    #: Registered name of the architecture, used to rebuild a saved model.
    architecture: str = ""
    #: Fewest valid frames of a trace the model can use.
    min_frames: int = 1
    #: Frame rates (Hz) the model accepts.
    fps_range: tuple[float, float] = (0.5, 10_000.0)

    @abstractmethod
    def fit(self, data: Sequence[TraceSet] | TraceSet, **kwargs) -> SpikeModel:
        """Learn from ground truth; returns self."""

    @abstractmethod
    def _predict_run(self, trace: np.ndarray, fps: float) -> np.ndarray:
        """Expected spikes per frame for one finite 1-D trace."""

    @abstractmethod
    def _is_fitted(self) -> bool:
        ...

    def predict(self, traces: np.ndarray, fps: float, progress: bool = False) -> np.ndarray:
        """Expected spikes per frame, same shape as ``traces``.

        Stretches of NaN give NaN; a finite stretch shorter than
        :attr:`min_frames` inside a trace gives NaN too (with a warning).

        Parameters
        ----------
        traces : ndarray of shape (n_neurons, n_frames) or (n_frames,)
            Fluorescence (dF/F). The output has the same dtype if float32, else float64.
        fps : float
            Frame rate in Hz.
        progress : bool, default=False
            Show a progress bar over neurons.
        """
        if not self._is_fitted():
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() or load one")
        self._check_params()
        one_d = np.ndim(traces) == 1
        x, fps = check_traces(np.atleast_2d(traces) if one_d else traces, fps,
                              self.min_frames, self.fps_range)
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
        results = self._map_runs(lambda run: self._predict_run(x[run[0], run[1]:run[2]], fps),
                                 runs)
        if progress:
            from tqdm.auto import tqdm

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

    def get_params(self) -> dict:
        """Constructor arguments (hyper-parameters), read from the constructor's signature."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self"}

    def set_params(self, **params) -> SpikeModel:
        """Change hyper-parameters (e.g. for fine-tuning a loaded model); returns self."""
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise InputError(f"{type(self).__name__} has no parameter {name!r}; "
                                 f"choose from {', '.join(valid)}")
            setattr(self, name, value)
        self._check_params()
        return self

    def fitted_state(self) -> dict:
        """Learned attributes (JSON-serialisable) other than tensors."""
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def save(self, folder, card: ModelCard | None = None) -> Path:
        """Write ``model.json`` (card, hyper-parameters, learned values) into ``folder``."""
        from .. import __version__
        from ..io import write_atomically

        if not self._is_fitted():
            raise NotFittedError(f"{type(self).__name__} is not fitted; nothing to save")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        card = card or ModelCard(name=folder.name, architecture=self.architecture)
        card.package_version = card.package_version or __version__
        doc = {"card": asdict(card), "params": self.get_params(), "state": self.fitted_state()}
        text = json.dumps(doc, indent=2, default=_to_json)
        write_atomically(folder / "model.json", lambda tmp: tmp.write_text(text), force=True)
        return folder

    @classmethod
    def _from_document(cls, doc: dict, folder: Path) -> SpikeModel:
        model = cls(**doc["params"])
        model._check_params()
        expected = set(cls._fitted_attributes)
        if set(doc["state"]) != expected:
            raise InputError(f"learned values {sorted(doc['state'])} are not the expected "
                             f"{sorted(expected)}")
        for key, value in doc["state"].items():
            if not isinstance(value, int | float) or not np.isfinite(value):
                raise InputError(f"learned value {key} = {value!r} is not a finite number")
            setattr(model, key, value)
        return model

    #: Names of the learned numbers saved in model.json (neural models add weights).
    _fitted_attributes: tuple[str, ...] = ()

    def _check_params(self) -> None:
        """Raise InputError for hyper-parameters of the wrong type or range."""


def _to_json(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in model.json")
