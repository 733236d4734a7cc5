"""The silence gate: noise alone makes no spikes, real events keep theirs."""

import numpy as np
import pytest

from spikeinfer.counts import gate_silence, measure_silence, silence_threshold, window_mass
from spikeinfer.inference import predict_recording
from spikeinfer.io import TraceSource
from spikeinfer.models import load_model
from spikeinfer.signals import noise_std_for_level
from spikeinfer.simulate import simulate_recording

SILENCE = {"window_s": 0.3, "false_alarm": 1e-3, "noise_levels": [1.0, 4.0],
           "mass_thresholds": [0.2, 0.8]}


@pytest.fixture(scope="module")
def default():
    return load_model("default")


def test_window_mass_counts_the_spikes_of_a_window():
    spikes = np.zeros((1, 90))
    spikes[0, 40:43] = [0.2, 0.5, 0.3]
    mass = window_mass(spikes, 30.0, 0.3)  # 9 frames
    assert mass[0, 41] == pytest.approx(1.0)
    assert mass[0, 10] == 0.0


def test_threshold_is_interpolated_in_log_noise():
    assert silence_threshold(np.array([1.0, 4.0]), SILENCE) == pytest.approx([0.2, 0.8])
    assert silence_threshold(np.array([2.0]), SILENCE)[0] == pytest.approx(0.5)
    # beyond the measured levels: the nearest; NaN noise: the lowest
    assert silence_threshold(np.array([16.0, np.nan]), SILENCE) == pytest.approx([0.8, 0.2])


def test_gate_keeps_events_whole_and_removes_the_carpet():
    fps = 30.0
    spikes = np.full((2, 300), 0.004)
    spikes[:, 100:104] = [0.1, 0.4, 0.4, 0.1]  # one spike's worth
    spikes[1, 200] = np.nan
    gated = gate_silence(spikes, np.array([1.0, 4.0]), fps, SILENCE)
    # row 0 (threshold 0.2): the event is kept with its flanks, the carpet elsewhere goes
    assert gated[0, 100:104].sum() == pytest.approx(1.0)
    assert gated[0, :80].sum() == 0.0 and gated[0, 130:].sum() == 0.0
    # row 1 (threshold 0.8 at nu 4): the same event passes, NaN stays NaN
    assert gated[1, 100:104].sum() == pytest.approx(1.0)
    assert np.isnan(gated[1, 200]) and np.nansum(gated[1, 150:]) == 0.0


def test_gate_treats_each_row_alone():
    rng = np.random.default_rng(0)
    spikes = rng.gamma(0.3, 0.05, (5, 600))
    levels = np.array([1.0, 2.0, 4.0, 0.5, 8.0])
    together = gate_silence(spikes, levels, 30.0, SILENCE)
    alone = np.vstack([gate_silence(spikes[i:i + 1], levels[i:i + 1], 30.0, SILENCE)
                       for i in range(5)])
    np.testing.assert_array_equal(together, alone)
    reordered = gate_silence(spikes[::-1], levels[::-1], 30.0, SILENCE)
    np.testing.assert_array_equal(reordered[::-1], together)


def test_measured_silence_grows_with_noise(default):
    silence = measure_silence(default.predict, noise_levels=(1.0, 4.0), n_traces=4,
                              duration_s=120.0)
    low, high = silence["mass_thresholds"]
    assert 0 < low < high


@pytest.mark.parametrize("level", [1.0, 4.0])
def test_pure_noise_makes_no_spikes(default, level):
    fps, n, seconds = 30.0, 8, 180.0
    noise = np.random.default_rng(3).normal(0, noise_std_for_level(level, fps),
                                            (n, int(seconds * fps)))
    raw = default.predict(noise, fps)
    assert raw.sum() / n / seconds > 0.05  # the network alone answers noise with spikes
    result = predict_recording(TraceSource(noise, fps), default)
    assert np.nansum(result.spikes) / n / seconds < 0.02
    assert result.estimates["silent_level"].shape == (n,)


def test_clear_spikes_keep_their_counts(default):
    rec = simulate_recording(n_neurons=6, duration_s=180.0, fps=30.0, noise_level=1.0,
                             rate_hz=0.3, random_state=4)
    raw = default.predict(rec.traces, rec.fps)
    gated = predict_recording(TraceSource(rec.traces, rec.fps), default).spikes
    assert np.nansum(gated) > 0.9 * np.nansum(raw)


def test_card_keeps_the_silent_level(default, tmp_path):
    assert default.silence_["window_s"] > 0  # the shipped default has one
    default.save(tmp_path / "m", name="m")
    again = load_model(tmp_path / "m")
    assert again.silence_ == default.silence_
