"""The one path of a trace through a network, shared by training, prediction, the embedding,
the generative models and the simulator fit:

resample to the network's rate -> subtract the running baseline -> normalise (noise
units, and with self-calibration the recording's own spike amplitude and decay) ->
network -> back to the input's frames -> floor and scale (spikes per input frame).

Everything here is NumPy: the network itself is applied by the caller between
:meth:`Pipeline.network_input` and :meth:`Pipeline.to_spikes`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .calibration import Calibration, calibrate
from .exceptions import InputError
from .preprocess import compute_baseline
from .signals import resample_trace

#: How the input is normalised with the recording's own estimates
#: (:mod:`spikeinfer.calibration`): not at all, divided by each neuron's spike
#: amplitude, that and its time rescaled so that the recording's decay is the
#: reference one, or the estimates given as constant input channels.
NORMALISATIONS = (None, "amplitude", "amplitude+time", "context")
#: Amplitude (dF/F) assumed where a recording has no event to estimate it from.
FALLBACK_AMPLITUDE = 0.1
#: The time normalisation stretches a recording by at most this factor either way.
MAX_TIME_FACTOR = 2.0


@dataclass(frozen=True)
class Pipeline:
    """What is done to a trace around a network (saved in ``model.json``).

    Parameters
    ----------
    fps : float, default=30.0
        Rate (Hz) at which the network runs.
    baseline_window_s : float or None, default=60.0
        Window of the running baseline (8th percentile) subtracted; None for none.
    floor_percentile : float or None, default=10.0
        The network's output minus this percentile of itself over each stretch, clipped
        at zero, before scaling; None for none.
    normalise : {None, "amplitude", "amplitude+time", "context"}, default=None
        Use of the recording's own estimates (see :data:`NORMALISATIONS`).
    reference_decay_s : float, default=1.0
        The decay a recording is rescaled to with ``"amplitude+time"``.
    """

    fps: float = 30.0
    baseline_window_s: float | None = 60.0
    floor_percentile: float | None = 10.0
    normalise: str | None = None
    reference_decay_s: float = 1.0

    def __post_init__(self):
        if not (isinstance(self.fps, int | float) and 1 <= self.fps <= 1000):
            raise InputError(f"pipeline fps must be 1-1000 Hz, got {self.fps!r}")
        if self.baseline_window_s is not None and not (
                isinstance(self.baseline_window_s, int | float) and self.baseline_window_s > 0):
            raise InputError(f"baseline_window_s must be a positive number of seconds or "
                             f"None, got {self.baseline_window_s!r}")
        if self.floor_percentile is not None and not (
                isinstance(self.floor_percentile, int | float) and 0 <= self.floor_percentile < 100):
            raise InputError(f"floor_percentile must be in [0, 100) or None, "
                             f"got {self.floor_percentile!r}")
        if self.normalise not in NORMALISATIONS:
            raise InputError(f"normalise must be one of {NORMALISATIONS}, got {self.normalise!r}")
        if not (isinstance(self.reference_decay_s, int | float) and self.reference_decay_s > 0):
            raise InputError(f"reference_decay_s must be positive, got {self.reference_decay_s!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    # -- the recording's own estimates --------------------------------------------

    @property
    def uses_calibration(self) -> bool:
        return self.normalise is not None

    @property
    def n_context(self) -> int:
        """Constant input channels the network reads besides the trace."""
        return 2 if self.normalise == "context" else 0

    def calibrate(self, traces: np.ndarray, fps: float) -> Calibration | None:
        """The estimates this pipeline uses (None if it uses none)."""
        if not self.uses_calibration:
            return None
        return calibrate(traces, fps, baseline_window_s=self.baseline_window_s)

    def time_factor(self, tau_decay_s: float) -> float:
        """How many times faster than real time a recording with this decay is shown to
        the network (1 without time normalisation)."""
        if self.normalise != "amplitude+time" or not np.isfinite(tau_decay_s):
            return 1.0
        return float(np.clip(tau_decay_s / self.reference_decay_s, 1 / MAX_TIME_FACTOR,
                             MAX_TIME_FACTOR))

    def network_rate(self, calibration: Calibration | None = None) -> float:
        """The rate (Hz of real time) at which a recording is resampled for the network:
        :attr:`fps`, divided by the time factor of the recording's decay."""
        if calibration is None:
            return float(self.fps)
        return float(self.fps) / self.time_factor(calibration.tau_decay_s)

    # -- input ----------------------------------------------------------------------

    def prepare(self, trace: np.ndarray, fps: float, rate: float | None = None) -> np.ndarray:
        """One finite trace at ``rate`` (default :attr:`fps`) minus its running baseline,
        the window measured in real seconds."""
        rate = float(self.fps if rate is None else rate)
        x = resample_trace(trace, fps, rate)
        if self.baseline_window_s:
            x = x - compute_baseline(x, rate, self.baseline_window_s)[0]
        return x

    def normalise_window(self, x: np.ndarray, amplitude: float, tau_decay_s: float) -> np.ndarray:
        """``x`` (..., time) of prepared trace as the network reads it, (..., channels,
        time) float32: divided by the spike amplitude, or with the estimates as
        constant channels."""
        x = np.asarray(x, dtype=np.float32)
        if self.normalise in ("amplitude", "amplitude+time"):
            return (x / np.float32(usable_amplitude(amplitude)))[..., None, :]
        if self.normalise == "context":
            context = np.array([np.log(usable_amplitude(amplitude) / FALLBACK_AMPLITUDE),
                                np.log(tau_decay_s) if np.isfinite(tau_decay_s) else 0.0],
                               dtype=np.float32)
            constant = np.broadcast_to(context[:, None], (*x.shape[:-1], 2, x.shape[-1]))
            return np.concatenate([x[..., None, :], constant], axis=-2)
        return x[..., None, :]

    def network_input(self, trace: np.ndarray, fps: float, calibration: Calibration | None = None,
                      row: int = 0) -> tuple[np.ndarray, float]:
        """(channels, frames) float32 input of one finite trace (row ``row`` of the
        recording that ``calibration`` describes), and the rate it is at."""
        rate = self.network_rate(calibration)
        x = self.prepare(trace, fps, rate)
        if calibration is None:
            return x.astype(np.float32)[None], rate
        return self.normalise_window(x, calibration.amplitude[row], calibration.tau_decay_s), rate

    # -- output ---------------------------------------------------------------------

    def subtract_floor(self, rate: np.ndarray) -> np.ndarray:
        """``rate`` (..., time) minus its ``floor_percentile`` along time, clipped at zero."""
        if self.floor_percentile is None:
            return rate
        floor = np.percentile(rate, self.floor_percentile, axis=-1, keepdims=True)
        return np.maximum(rate - floor, 0.0)

    def to_spikes(self, rate: np.ndarray, rate_fps: float, fps: float, n_frames: int,
                  scale: float) -> np.ndarray:
        """The network's output (spikes per frame at ``rate_fps``) as expected spikes per
        input frame at ``fps``, ``n_frames`` long: floor, resampled back, times ``scale``."""
        rate = self.subtract_floor(rate)
        out = resample_trace(rate, rate_fps, fps) * (scale * rate_fps / fps)
        out = np.maximum(out, 0.0)
        if len(out) < n_frames:
            out = np.pad(out, (0, n_frames - len(out)), mode="edge")
        return out[:n_frames]


def usable_amplitude(amplitude: float) -> float:
    """``amplitude``, or :data:`FALLBACK_AMPLITUDE` where it is missing or not positive."""
    return float(amplitude) if np.isfinite(amplitude) and amplitude > 0 else FALLBACK_AMPLITUDE
