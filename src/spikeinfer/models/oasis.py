"""OASIS deconvolution (Friedrich et al. 2017, package ``oasis-deconv``) as a baseline model."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from numbers import Real

import numpy as np
from oasis.functions import deconvolve
from scipy import ndimage
from sklearn.utils._param_validation import Options

from ..data import TraceSet
from ..exceptions import DataWarning, InputError
from ..signals import binned_correlation, finite_runs
from ..validation import NON_NEGATIVE, POSITIVE
from .base import SpikeModel, describe_training_data, describe_training_range


class OasisModel(SpikeModel):
    """Non-negative sparse deconvolution with an AR(1) or AR(2) calcium model.

    OASIS returns the spike signal in the units of the input (dF/F). :meth:`fit`
    learns from ground truth the deconvolved dF/F of one spike, which turns the
    output into spikes, and the delay of the deconvolved signal.

    Parameters
    ----------
    ar_order : {1, 2}, default=1
        Order of the autoregressive calcium model (2 models the rise).
    tau_decay_s : float, default=None
        Decay time constant in seconds; estimated per trace if None.
    tau_rise_s : float, default=None
        Rise time constant for ``ar_order=2``; estimated per trace if None.
    smoothing_s : float, default=0.05
        Standard deviation (s) of a Gaussian applied to the output; 0 for none.
    """

    architecture = "oasis"
    min_frames = 10

    def __init__(self, ar_order: int = 1, tau_decay_s: float | None = None,
                 tau_rise_s: float | None = None, smoothing_s: float = 0.05):
        self.ar_order = ar_order
        self.tau_decay_s = tau_decay_s
        self.tau_rise_s = tau_rise_s
        self.smoothing_s = smoothing_s

    _fitted_attributes = ("spike_amplitude_dff_", "delay_s_", "n_training_neurons_")
    _parameter_constraints = {
        "ar_order": [Options(Real, {1, 2})], "tau_decay_s": [POSITIVE, None],
        "tau_rise_s": [POSITIVE, None], "smoothing_s": [NON_NEGATIVE],
    }

    def deconvolve(self, trace: np.ndarray, fps: float) -> np.ndarray:
        """OASIS spike signal of one finite trace, in the trace's units."""
        arguments = self._oasis_arguments(fps)
        trace = np.asarray(trace, dtype=np.float64)
        scaled = np.ascontiguousarray(trace / np.std(trace))  # unit scale suits OASIS
        with warnings.catch_warnings():
            # scipy's note on short traces in OASIS's noise estimate
            warnings.filterwarnings("ignore", message="nperseg", category=UserWarning)
            try:
                result = deconvolve(scaled, **arguments)
            except ValueError:
                if self.ar_order == 1:
                    raise
                # OASIS's AR(2) solver fails on some short stretches (seen at 51-99 frames).
                warnings.warn(f"AR(2) deconvolution failed on a stretch of {len(trace)} frames; "
                              "used AR(1) there", DataWarning, stacklevel=4)
                result = deconvolve(scaled, g=(None,), penalty=1)
        return np.asarray(result[1], dtype=np.float64) * np.std(trace)

    def _oasis_arguments(self, fps: float) -> dict:
        self._validate()
        if self.tau_decay_s is None:
            if self.ar_order == 1:
                return {"g": (None,), "penalty": 1}
            return {"tau_d": None, "tau_r": None, "penalty": 1}  # both estimated
        if self.ar_order == 2 and self.tau_rise_s is None:
            raise InputError("ar_order=2 with a fixed tau_decay_s needs tau_rise_s too")
        tau_r = self.tau_rise_s if self.ar_order == 2 else 0
        return {"tau_d": self.tau_decay_s, "tau_r": tau_r, "framerate": fps, "penalty": 1}

    def _raw_output(self, trace: np.ndarray, fps: float) -> np.ndarray:
        out = self.deconvolve(trace, fps)
        if self.smoothing_s > 0:
            out = ndimage.gaussian_filter1d(out, self.smoothing_s * fps, mode="constant")
        return np.maximum(out, 0.0)  # the filter leaves round-off below zero

    def _predict_run(self, trace: np.ndarray, fps: float, context=None) -> np.ndarray:
        out = self._raw_output(trace, fps) / self.spike_amplitude_dff_
        return _advance(out, int(round(self.delay_s_ * fps)))

    def fit(self, data: Sequence[TraceSet] | TraceSet, progress: bool = False) -> OasisModel:
        """Learn two numbers from ground truth.

        ``spike_amplitude_dff_``: median over neurons of the deconvolved signal
        (dF/F) per true spike, which turns the output into spikes.
        ``delay_s_``: how late the deconvolved signal is relative to the spikes
        (the indicator's rise; an AR(1) model places spikes at the steepest
        rise), chosen as the advance that maximises the correlation, averaged
        over the datasets; :meth:`predict` shifts its output back by it.
        """
        self._validate()
        data = [data] if isinstance(data, TraceSet) else list(data)
        ratios, corr_by_dataset = [], {}
        for ts in data:
            counts = ts.spike_counts()
            delays = np.arange(int(round(-0.1 * ts.fps)), int(round(0.3 * ts.fps)) + 1)
            for row, truth in zip(ts.traces, counts):
                total, n_spikes = 0.0, 0.0
                for start, stop in finite_runs(row):
                    if stop - start < self.min_frames or np.ptp(row[start:stop]) == 0:
                        continue
                    out = self._raw_output(row[start:stop], ts.fps)
                    true = np.nan_to_num(truth[start:stop])
                    total += out.sum()
                    n_spikes += true.sum()
                    if true.sum() > 0 and stop - start > 4 * delays.max():
                        corr = [binned_correlation(_advance(out, d), true, ts.fps) for d in delays]
                        corr_by_dataset.setdefault(ts.dataset, []).append(
                            (delays / ts.fps, np.nan_to_num(corr)))
                if n_spikes > 0:
                    ratios.append(total / n_spikes)
        if not ratios:
            raise InputError("no ground-truth spikes to fit the OASIS calibration")
        self.spike_amplitude_dff_ = float(np.median(ratios))
        self.delay_s_ = _best_delay(corr_by_dataset)
        self.n_training_neurons_ = len(ratios)
        self.training_data_ = describe_training_data(data)
        self.training_range_ = describe_training_range(data)
        return self


def _advance(x: np.ndarray, frames: int) -> np.ndarray:
    """``x`` moved ``frames`` earlier (later if negative), zero-filled."""
    if frames == 0:
        return x
    out = np.zeros_like(x)
    if frames > 0:
        out[:-frames] = x[frames:]
    else:
        out[-frames:] = x[:frames]
    return out


def _best_delay(corr_by_dataset: dict) -> float:
    """The delay (s, on a 10 ms grid) with the best correlation averaged over datasets."""
    if not corr_by_dataset:
        return 0.0
    grid = np.round(np.arange(-0.1, 0.3001, 0.01), 2)
    mean_per_dataset = []
    for curves in corr_by_dataset.values():
        # Each neuron's curve is on its own frame grid: interpolate onto the common one.
        mean_per_dataset.append(np.mean([np.interp(grid, d, c) for d, c in curves], axis=0))
    return float(grid[np.argmax(np.mean(mean_per_dataset, axis=0))])
