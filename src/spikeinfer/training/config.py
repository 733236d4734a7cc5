"""Settings of a network's training, split by role: how training windows are augmented, and
how the optimiser runs. Both are frozen dataclasses, checked on construction."""

from __future__ import annotations

from dataclasses import dataclass, fields
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ..validation import NON_NEGATIVE, POSITIVE, RANGE, check_params

#: Losses a network can be trained on (:mod:`spikeinfer.training.losses`).
LOSS_NAMES = ("mse", "corr", "mse+corr")
#: Sources of synthetic training twins.
SYNTHETIC_SOURCES = ("simulator", "gan")

_COUNT = Interval(Integral, 1, None, closed="left")
_FRACTION = Interval(Real, 0, 1, closed="left")


def _as_pair(value):
    return None if value is None else tuple(float(v) for v in value) if isinstance(
        value, list | tuple) else value


@dataclass(frozen=True)
class AugmentationConfig:
    """How training windows are varied, so that the network meets more than the
    recordings it is trained on.

    Parameters
    ----------
    noise_levels : (float, float) or None, default=(0.5, 5.0)
        Range of CASCADE noise levels nu that windows are brought to (noise added at
        the rate the window was recorded at); None adds none.
    acquisition_rates : (float, float) or None, default=None
        Range (Hz) of frame rates that windows are made as if recorded at
        (log-uniform); None keeps each recording's own rate.
    time_stretch : (float, float) or None, default=None
        Range of factors by which windows are sped up in time (log-uniform, spike
        counts kept); None keeps their time course.
    synthetic : {"simulator", "gan"} or None, default=None
        Also train on twins of the training neurons: their spike trains with
        fluorescence from the simulator or from a conditional GAN trained on the
        same data.
    synthetic_fraction : float, default=0.25
        Share of windows drawn from the twins.
    balance_datasets : bool, default=True
        Draw windows from every dataset equally often (else in proportion to length).
    """

    noise_levels: tuple[float, float] | None = (0.5, 5.0)
    acquisition_rates: tuple[float, float] | None = None
    time_stretch: tuple[float, float] | None = None
    synthetic: str | None = None
    synthetic_fraction: float = 0.25
    balance_datasets: bool = True

    _parameter_constraints = {
        "noise_levels": [RANGE, None], "acquisition_rates": [RANGE, None],
        "time_stretch": [RANGE, None], "synthetic": [StrOptions(set(SYNTHETIC_SOURCES)), None],
        "synthetic_fraction": [_FRACTION], "balance_datasets": ["boolean"],
    }

    def __post_init__(self):
        for name in ("noise_levels", "acquisition_rates", "time_stretch"):
            object.__setattr__(self, name, _as_pair(getattr(self, name)))
        check_params(vars(self), self._parameter_constraints, type(self).__name__)


@dataclass(frozen=True)
class TrainingConfig:
    """The optimiser's run: loss, targets, windows, steps and when to stop.

    Parameters
    ----------
    loss : {"mse", "corr", "mse+corr"}, default="mse"
    corr_bin_s : float, default=0.04
        Bin (s) of the correlation loss (conv16 maximises correlation at 25 Hz).
    smoothing_s : float, default=0.05
        Gaussian smoothing (s) of the target spike counts; 0 for none.
    window_s : float, default=20.0
        Length of training windows (s).
    batch_size, steps, learning_rate : the Adam optimiser's batches, steps and rate.
    lr_schedule : {"constant", "cosine"}, default="constant"
        Learning rate over the steps: constant, or decayed to zero along a cosine.
    eval_every, patience : int
        Validation every ``eval_every`` steps; training stops after ``patience``
        validations without improvement and keeps the best weights.
    validation_fraction : float, default=0.15
        Fraction of the training neurons held out for validation.
    max_seconds : float or None, default=None
        Wall-time budget of training.
    """

    loss: str = "mse"
    corr_bin_s: float = 0.04
    smoothing_s: float = 0.05
    window_s: float = 20.0
    batch_size: int = 32
    steps: int = 3000
    learning_rate: float = 1e-3
    lr_schedule: str = "constant"
    eval_every: int = 100
    patience: int = 16
    validation_fraction: float = 0.15
    max_seconds: float | None = None

    _parameter_constraints = {
        "loss": [StrOptions(set(LOSS_NAMES))], "corr_bin_s": [POSITIVE],
        "smoothing_s": [NON_NEGATIVE], "window_s": [POSITIVE], "batch_size": [_COUNT],
        "steps": [_COUNT], "learning_rate": [POSITIVE],
        "lr_schedule": [StrOptions({"constant", "cosine"})], "eval_every": [_COUNT],
        "patience": [_COUNT], "validation_fraction": [_FRACTION],
        "max_seconds": [POSITIVE, None],
    }

    def __post_init__(self):
        check_params(vars(self), self._parameter_constraints, type(self).__name__)


def field_names(config_class) -> tuple[str, ...]:
    """The settings a config dataclass holds."""
    return tuple(f.name for f in fields(config_class))
