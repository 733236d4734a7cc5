"""Preprocessing of recordings: dF/F, resampling a TraceSet."""

import numpy as np
import pytest

from spikeinfer import TraceSet
from spikeinfer.preprocess import compute_dff, resample_traceset


def test_resample_traceset_keeps_spikes_and_lengths():
    traces = np.full((2, 300), np.nan)
    traces[0] = np.arange(300.0)
    traces[1, :150] = np.arange(150.0)
    ts = TraceSet(traces, 100.0, spike_times=([0.5, 1.0], [0.2]))
    out = resample_traceset(ts, 30.0)
    assert out.lengths.tolist() == [90, 45]
    assert out.spike_counts()[0].sum() == 2


def test_dff_of_a_flat_baseline_with_transients():
    fps = 30.0
    raw = np.full(30 * 300, 100.0)
    raw[3000:3030] = 150.0
    dff = compute_dff(raw[None], fps)[0]
    assert dff[3010] == pytest.approx(0.5, abs=0.01)
    assert np.median(np.abs(dff)) < 1e-9


def test_dff_follows_slow_drift():
    fps = 10.0
    t = np.arange(6000) / fps
    raw = 100 + 20 * t / t[-1]
    dff = compute_dff(raw[None], fps, window_s=30)[0]
    assert np.abs(dff[300:-300]).max() < 0.02
