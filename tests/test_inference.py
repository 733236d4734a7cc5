"""Inference on whole recordings: spike times, intervals, quality flags, chunks, resuming."""

import numpy as np
import pytest

from spikeinfer.counts import gate_silence
from spikeinfer.inference import (
    CountError,
    count_interval,
    count_reasons,
    place_spikes,
    predict_recording,
    quality_flags,
)
from spikeinfer.io import PredictionWriter, TraceSource, read_prediction
from spikeinfer.models import load_model
from spikeinfer.simulate import simulate_recording


def test_spikes_are_placed_where_the_expected_count_accumulates():
    expected = np.zeros(100)
    expected[10] = 1.0
    expected[50:54] = 0.5  # two spikes spread over four frames
    expected[80] = 3.2
    times = place_spikes(expected, 10.0)
    assert len(times) == 1 + 2 + 3
    frames = np.floor(times * 10 + 0.5).astype(int)
    assert frames[0] == 10 and set(frames[1:3]) <= {50, 51, 52, 53} and list(frames[3:]) == [80] * 3
    assert len(place_spikes(np.full(100, 0.003), 10.0)) == 0  # 0.3 spikes: none
    assert len(place_spikes(np.full(100, np.nan), 10.0)) == 0


def test_placed_spikes_recover_simulated_spike_times():
    rec = simulate_recording(n_neurons=3, duration_s=120, fps=30.0, rate_hz=0.5, random_state=4)
    from scipy import ndimage

    for truth, counts in zip(rec.spike_times, rec.spike_counts()):
        smooth = ndimage.gaussian_filter1d(counts, 1.0)  # an imperfect, smeared estimate
        times = place_spikes(smooth, rec.fps)
        assert abs(len(times) - len(truth)) <= 0.05 * len(truth) + 1
        hits = sum(np.min(np.abs(times - t)) <= 0.1 for t in truth)
        assert hits >= 0.85 * len(truth)


@pytest.mark.parametrize("log_sd", [0.05, 0.5, 1.0])
def test_intervals_cover_counts_drawn_from_their_model(log_sd):
    rng = np.random.default_rng(0)
    mu = np.exp(rng.uniform(np.log(0.05), np.log(30), 20_000))
    e = rng.normal(-log_sd ** 2 / 2, log_sd, mu.size)
    counts = rng.poisson(mu * np.exp(e))
    low, high = count_interval(mu, CountError(log_sd))
    covered = ((counts >= low) & (counts <= high)).mean()
    assert 0.9 <= covered <= 0.97  # discrete counts: at least the level, a little more
    assert np.all(low <= high)


def test_wider_error_gives_wider_intervals_and_nan_stays_nan():
    mu = np.array([0.0, 0.5, 5.0, 50.0, np.nan])
    narrow, wide = count_interval(mu, CountError(0.1)), count_interval(mu, CountError(1.0))
    assert np.all((wide[1] - wide[0])[:4] >= (narrow[1] - narrow[0])[:4])
    assert (wide[1] - wide[0])[3] > 2 * (narrow[1] - narrow[0])[3]
    assert np.isnan(narrow[0][4]) and narrow[0][0] == narrow[1][0] == 0


def test_quality_flags_name_the_reason():
    rng = np.random.default_rng(1)
    traces = rng.normal(0, 0.05, (4, 3000))
    traces[1, 1500:] = np.nan  # 50% NaN
    traces[2, 1200:] = np.nan  # 40 s long only (and 60% NaN)
    flags = quality_flags(traces, 30.0, None)
    assert flags[0] == "" and "NaN" in flags[1] and "shorter than 60 s" in flags[2]
    assert count_reasons(flags) == {"too short": 2, "many NaN frames": 2}  # row 1: 50 s


def _recording(n=5, seconds=120.0):
    return simulate_recording(n_neurons=n, duration_s=seconds, fps=30.0, indicator="GCaMP6s",
                              random_state=2)


def test_chunks_give_the_same_prediction_as_one_call():
    rec = _recording()
    model = load_model("default")
    whole = model.predict(rec.traces, rec.fps)
    chunked = predict_recording(TraceSource.from_traceset(rec), model, chunk_neurons=2,
                                uncertainty=True, spike_times=True)
    # the whole path removes what noise alone makes (the default's card has its silent level)
    whole = gate_silence(whole, chunked.estimates["noise_level"], rec.fps, model.silence_)
    np.testing.assert_allclose(chunked.spikes, whole, rtol=1e-6, atol=1e-7)
    assert chunked.lower.shape == whole.shape and np.all(chunked.lower <= chunked.upper)
    assert len(chunked.spike_times) == rec.n_neurons
    assert chunked.estimates["noise_level"].shape == (rec.n_neurons,)
    assert len(chunked.quality) == rec.n_neurons


def test_estimates_and_flags_do_not_depend_on_the_chunking():
    rec = simulate_recording(n_neurons=9, duration_s=300.0, fps=30.0, indicator="GCaMP8s",
                             rate_hz=0.3, random_state=4)
    model, source = load_model("default"), TraceSource.from_traceset(rec)
    one = predict_recording(source, model, chunk_neurons=9)
    small = predict_recording(source, model, chunk_neurons=2)
    assert np.isfinite(one.estimates["amplitude"]).all()
    for key, value in one.estimates.items():
        np.testing.assert_array_equal(np.asarray(small.estimates[key]), np.asarray(value))
    assert small.quality == one.quality


class _Interrupted(KeyboardInterrupt):
    pass


def test_a_killed_run_resumes_to_the_same_output(tmp_path, monkeypatch):
    from spikeinfer import inference

    rec = _recording(n=7)
    source, model = TraceSource.from_traceset(rec), load_model("default")

    def run(path, parts):
        writer = PredictionWriter(path, rec.n_neurons, rec.n_frames, rec.fps, rec.neuron_ids,
                                  uncertainty=True, spike_times=True, force=True)
        return predict_recording(source, model, uncertainty=True, spike_times=True,
                                 chunk_neurons=2, writer=writer, parts=parts)

    run(tmp_path / "clean.h5", tmp_path / "clean.parts")
    original, calls = inference.predict_chunk, []

    def dies_on_the_third(*args, **kwargs):
        calls.append(args[3])
        if len(calls) == 3:
            raise _Interrupted
        return original(*args, **kwargs)

    monkeypatch.setattr(inference, "predict_chunk", dies_on_the_third)
    with pytest.raises(_Interrupted):
        run(tmp_path / "resumed.h5", tmp_path / "resumed.parts")
    assert not (tmp_path / "resumed.h5").exists()  # nothing partial at the target
    assert len(list((tmp_path / "resumed.parts").glob("rows-*.npz"))) == 2
    monkeypatch.setattr(inference, "predict_chunk", original)
    done = []
    monkeypatch.setattr(inference, "predict_chunk",
                        lambda *a, **k: done.append(a[3]) or original(*a, **k))
    run(tmp_path / "resumed.h5", tmp_path / "resumed.parts")
    assert done == [(4, 6), (6, 7)]  # only the chunks not finished before
    assert not (tmp_path / "resumed.parts").exists()
    a, b = read_prediction(tmp_path / "clean.h5"), read_prediction(tmp_path / "resumed.h5")
    for key in ("spikes", "lower", "upper"):
        np.testing.assert_array_equal(a[key], b[key])
    for x, y in zip(a["spike_times"], b["spike_times"]):
        np.testing.assert_array_equal(x, y)


def test_parts_of_another_run_are_refused(tmp_path):
    from spikeinfer import InputError

    rec = _recording(n=2, seconds=60.0)
    source, model = TraceSource.from_traceset(rec), load_model("default")
    predict_recording(source, model, parts=tmp_path / "p", spike_times=True)  # kept: no writer
    with pytest.raises(InputError, match="another run"):
        predict_recording(source, model, parts=tmp_path / "p")
