import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spikeinfer import InputError, TraceSet
from spikeinfer.preprocess import compute_dff, resample_traceset
from spikeinfer.signals import (
    bin_spike_times,
    compute_noise_level,
    counts_to_spike_times,
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


def test_resample_traceset_keeps_spikes_and_lengths():
    traces = np.full((2, 300), np.nan)
    traces[0] = np.arange(300.0)
    traces[1, :150] = np.arange(150.0)
    ts = TraceSet(traces, 100.0, spike_times=([0.5, 1.0], [0.2]))
    out = resample_traceset(ts, 30.0)
    assert out.lengths.tolist() == [90, 45]
    assert out.spike_counts()[0].sum() == 2


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


@pytest.mark.parametrize("fps", [None, 0.0, -5.0, float("nan"), 1e9, "fast"])
def test_absurd_frame_rates_raise(fps):
    with pytest.raises(InputError, match="frame rate"):
        TraceSet(np.zeros((1, 10)), fps)
