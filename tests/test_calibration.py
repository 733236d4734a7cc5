"""The recording's own estimates from fluorescence alone, on simulated recordings whose
kinetics and spike amplitude are known.

The tolerances are those the estimators reach where spikes stand clear of the noise
(nu = 1): decay within 35%, the dF/F of one spike within 30%. At higher noise, and on
real recordings, they are less accurate (``docs/calibration.md``).
"""

import numpy as np
import pytest

from spikeinfer.calibration import calibrate, fit_amplitude, pool_amplitudes, prepare_trace
from spikeinfer.signals import noise_std
from spikeinfer.simulate import get_indicator_preset, simulate_recording

CASES = [("GCaMP6s", 15.0), ("GCaMP8s", 30.0), ("GCaMP8s", 60.0), ("jRCaMP1a", 15.0)]


def _recording(indicator, fps, duration_s=600.0, n_neurons=10, noise_level=1.0, seed=1):
    return simulate_recording(n_neurons=n_neurons, duration_s=duration_s, fps=fps,
                              indicator=indicator, noise_level=noise_level, rate_hz=0.3,
                              amplitude_cv=0.2, random_state=seed)


@pytest.fixture(scope="module", params=CASES, ids=[f"{i}-{f:g}Hz" for i, f in CASES])
def case(request):
    indicator, fps = request.param
    rec = _recording(indicator, fps)
    return rec, calibrate(rec.traces, fps), get_indicator_preset(indicator)


def test_decay_is_recovered(case):
    _, estimates, truth = case
    assert estimates.tau_decay_s == pytest.approx(truth["tau_decay_s"], rel=0.35)


def test_spike_amplitude_is_recovered_with_a_confident_fit(case):
    _, estimates, truth = case
    assert estimates.recording_amplitude == pytest.approx(truth["amplitude"], rel=0.3)
    assert estimates.n_confident >= 7
    low, high = np.nanmedian(estimates.amplitude_interval, axis=0)
    assert low < np.nanmedian(estimates.amplitude_own) < high


def test_noise_and_baseline(case):
    rec, estimates, _ = case
    np.testing.assert_allclose(estimates.noise_level, rec.meta["simulation"]["noise_level"],
                               rtol=0.1)
    assert np.all(np.abs(estimates.baseline) < 0.05)  # dF/F sits on zero


def test_scaling_a_recording_scales_its_amplitude_and_keeps_its_decay():
    rec = _recording("GCaMP8s", 30.0, duration_s=300.0, n_neurons=4)
    one, three = calibrate(rec.traces, 30.0), calibrate(3 * rec.traces, 30.0)
    assert three.tau_decay_s == pytest.approx(one.tau_decay_s, rel=0.02)
    assert three.recording_amplitude == pytest.approx(3 * one.recording_amplitude, rel=0.1)


def test_a_recording_split_in_time_gives_the_same_estimates():
    rec = _recording("GCaMP8s", 30.0, duration_s=1200.0, n_neurons=6)
    half = rec.traces.shape[1] // 2
    first, second = calibrate(rec.traces[:, :half], 30.0), calibrate(rec.traces[:, half:], 30.0)
    assert first.tau_decay_s == pytest.approx(second.tau_decay_s, rel=0.2)
    assert first.recording_amplitude == pytest.approx(second.recording_amplitude, rel=0.2)


def test_noise_alone_gives_no_confident_amplitude():
    noise = np.random.default_rng(0).normal(0, 0.05, (4, 18_000))
    estimates = calibrate(noise, 30.0)
    assert estimates.n_confident == 0
    assert np.all(estimates.n_events < 30)  # the noise threshold keeps out what noise makes


def test_fit_amplitude_finds_the_quantum_of_clean_events():
    rng = np.random.default_rng(3)
    spikes = np.zeros(30 * 600)
    spikes[rng.choice(spikes.size, 150, replace=False)] = rng.choice([1, 1, 1, 2, 3], 150)
    trace = np.convolve(spikes, 0.4 * np.exp(-np.arange(90) / 15.0))[:spikes.size]
    y = prepare_trace(trace + rng.normal(0, 0.02, trace.size), 30.0)
    fit = fit_amplitude(y, noise_std(y), 0.5)
    assert fit.amplitude == pytest.approx(0.4, rel=0.15)
    assert fit.log_width < 1.0 and fit.n_events > 100


def test_pooling_shrinks_each_neuron_toward_the_recording():
    own = np.array([0.1, 0.12, 0.08, 0.4, np.nan])
    width = np.array([0.2, 0.2, 0.2, 3.0, np.nan])
    pooled, spread, shrunk = pool_amplitudes(own, width)
    assert 0.08 < pooled < 0.13  # the unsure outlier barely counts
    assert shrunk[4] == pytest.approx(pooled)  # no fit: the recording's value
    assert abs(np.log(shrunk[3] / pooled)) < abs(np.log(own[3] / pooled))
    assert pool_amplitudes(np.full(3, np.nan), np.full(3, np.nan))[0] != pool_amplitudes(
        np.full(3, np.nan), np.full(3, np.nan))[0]  # NaN when nothing is known
