"""OASIS deconvolution (Friedrich et al. 2017, package ``oasis-deconv``) as a baseline model."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from ..data import TraceSet
from ..exceptions import InputError
from .base import SpikeModel, finite_runs


class OasisModel(SpikeModel):
    """Non-negative sparse deconvolution with an AR(1) or AR(2) calcium model.

    OASIS returns the spike signal in fluorescence units. :meth:`fit` learns
    one calibration from ground truth: the deconvolved amplitude of a spike in
    units of the trace's noise level, so that the output is in spikes.

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

    def get_params(self) -> dict:
        return {"ar_order": self.ar_order, "tau_decay_s": self.tau_decay_s,
                "tau_rise_s": self.tau_rise_s, "smoothing_s": self.smoothing_s}

    def _is_fitted(self) -> bool:
        return hasattr(self, "spike_amplitude_snr_")

    def deconvolve(self, trace: np.ndarray, fps: float) -> tuple[np.ndarray, float]:
        """OASIS spike signal of one finite trace, and its noise level (same units)."""
        from oasis.functions import GetSn, deconvolve

        if self.ar_order not in (1, 2):
            raise InputError(f"ar_order must be 1 or 2, got {self.ar_order}")
        kwargs: dict = {"penalty": 1}
        if self.tau_decay_s is not None:
            kwargs.update(tau_d=self.tau_decay_s, framerate=fps,
                          tau_r=(self.tau_rise_s or 0.0) if self.ar_order == 2 else 0)
        else:
            kwargs["g"] = (None,) * self.ar_order
        scaled = np.ascontiguousarray(trace / np.std(trace))  # unit scale suits OASIS's tolerances
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's note on short traces in the noise estimate
            result = deconvolve(scaled, **kwargs)
            sn = float(GetSn(scaled))
        return np.asarray(result[1], dtype=np.float64), max(sn, 1e-12)

    def _raw_output(self, trace: np.ndarray, fps: float) -> np.ndarray:
        spikes, sn = self.deconvolve(trace, fps)
        out = spikes / sn
        if self.smoothing_s > 0:
            out = ndimage.gaussian_filter1d(out, self.smoothing_s * fps, mode="constant")
        return np.maximum(out, 0.0)  # the filter leaves round-off below zero

    def _predict_run(self, trace: np.ndarray, fps: float) -> np.ndarray:
        return self._raw_output(trace, fps) / self.spike_amplitude_snr_

    def fit(self, data: Sequence[TraceSet] | TraceSet, **kwargs) -> OasisModel:
        """Learn the spike amplitude (in noise units) as the median over neurons of
        deconvolved signal / true spike count."""
        data = [data] if isinstance(data, TraceSet) else list(data)
        ratios = []
        for ts in data:
            counts = ts.spike_counts()
            for row, truth in zip(ts.traces, counts):
                total, n_spikes = 0.0, 0.0
                for start, stop in finite_runs(row):
                    if stop - start >= self.min_frames and np.ptp(row[start:stop]) > 0:
                        total += self._raw_output(row[start:stop], ts.fps).sum()
                        n_spikes += np.nansum(truth[start:stop])
                if n_spikes > 0:
                    ratios.append(total / n_spikes)
        if not ratios:
            raise InputError("no ground-truth spikes to fit the OASIS calibration")
        self.spike_amplitude_snr_ = float(np.median(ratios))
        self.n_training_neurons_ = len(ratios)
        return self
