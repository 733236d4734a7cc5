"""Array helpers: resampling, spike binning, noise measures, frame-rate checks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spikeinfer import InputError, TraceSet
from spikeinfer.signals import (
    bin_spike_times,
    binned_correlation,
    compute_noise_level,
    counts_to_spike_times,
    finite_runs,
    noise_std,
    noise_std_for_level,
    resample_trace,
)

rates = st.sampled_from([7.5, 15.0, 25.0, 30.0, 60.0, 100.0, 158.28])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-10, 10), min_size=1, max_size=400), rates)
def test_resampling_to_the_same_rate_is_identity(values, fps):
    x = np.array(values)
    np.testing.assert_array_equal(resample_trace(x, fps, fps), x)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 2000), rates, rates)
def test_resampled_length_follows_duration(n, fps_in, fps_out):
    out = resample_trace(np.sin(np.arange(n) / 7.0), fps_in, fps_out)
    assert len(out) == int(np.ceil(n * fps_out / fps_in - 1e-9))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 600), max_size=200), rates, st.integers(1, 60_000))
def test_binning_conserves_spikes_inside_the_recording(times, fps, n_frames):
    t = np.array(times)
    counts = bin_spike_times(t, fps, n_frames)
    inside = ((t * fps + 0.5) >= 0) & (np.floor(t * fps + 0.5) < n_frames)
    assert counts.sum() == inside.sum()
    assert len(counts) == n_frames


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=500), rates)
def test_counts_to_times_round_trip(counts, fps):
    c = np.array(counts, dtype=float)
    np.testing.assert_array_equal(bin_spike_times(counts_to_spike_times(c, fps), fps, len(c)), c)


def test_resampling_keeps_a_slow_signal_and_removes_aliasing():
    fps_in, fps_out = 100.0, 25.0
    t = np.arange(6000) / fps_in
    slow, fast = np.sin(2 * np.pi * 0.5 * t), np.sin(2 * np.pi * 20.0 * t)  # 20 Hz > Nyquist 12.5
    out_slow = resample_trace(slow, fps_in, fps_out)
    out_fast = resample_trace(fast, fps_in, fps_out)
    t_out = np.arange(len(out_slow)) / fps_out
    interior = slice(50, -50)
    np.testing.assert_allclose(out_slow[interior], np.sin(2 * np.pi * 0.5 * t_out)[interior],
                               atol=0.01)
    assert np.std(out_fast[interior]) < 0.02


def test_resampling_keeps_nan_stretches():
    x = np.sin(np.arange(1000) / 10.0)
    x[400:500] = np.nan
    out = resample_trace(x, 100.0, 50.0)
    assert np.isnan(out[210:240]).all()
    assert np.isfinite(out[:190]).all() and np.isfinite(out[260:]).all()


def test_noise_level_of_white_noise_matches_definition():
    rng = np.random.default_rng(0)
    fps = 30.0
    x = rng.normal(0, noise_std_for_level(4.0, fps), (5, 200_000))
    np.testing.assert_allclose(compute_noise_level(x, fps), 4.0, rtol=0.02)


def test_noise_level_ignores_nan():
    x = np.random.default_rng(1).normal(0, 0.01, 1000)
    y = x.copy()
    y[100:200] = np.nan
    assert compute_noise_level(y, 10) == pytest.approx(compute_noise_level(x, 10), rel=0.1)


@pytest.mark.parametrize("fps", [None, 0.0, -5.0, float("nan"), 1e9, "fast"])
def test_absurd_frame_rates_raise(fps):
    with pytest.raises(InputError, match="frame rate"):
        TraceSet(np.zeros((1, 10)), fps)


def test_finite_runs_are_the_stretches_between_nans():
    row = np.array([np.nan, 1, 2, np.nan, np.nan, 3, np.inf, 4, 5])
    assert finite_runs(row) == [(1, 3), (5, 6), (7, 9)]
    assert finite_runs(np.full(3, np.nan)) == []


def test_noise_std_of_white_noise_is_its_std():
    x = np.random.default_rng(0).normal(0, 0.3, 200_000)
    assert noise_std(x) == pytest.approx(0.3, rel=0.01)
    assert noise_std(np.vstack([x, 2 * x])) == pytest.approx([0.3, 0.6], rel=0.01)


def test_binned_correlation_is_the_spikefinder_corr():
    rng = np.random.default_rng(1)
    truth = rng.poisson(0.1, 4000).astype(float)
    assert binned_correlation(truth, truth, 100.0) == pytest.approx(1.0)
    noisy = truth + rng.normal(0, 0.3, truth.size)
    a, b = truth.reshape(-1, 4).sum(1), noisy.reshape(-1, 4).sum(1)
    assert binned_correlation(noisy, truth, 100.0) == pytest.approx(np.corrcoef(a, b)[0, 1])
    assert np.isnan(binned_correlation(np.ones(400), truth[:400], 100.0))
