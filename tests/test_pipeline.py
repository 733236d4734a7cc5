"""The pipeline around every network: its steps, and what the shipped default does with
the same recording at other rates, split in time, or in float32."""

import numpy as np
import pytest

from spikeinfer.calibration import calibrate
from spikeinfer.models import load_model
from spikeinfer.pipeline import FALLBACK_AMPLITUDE, Pipeline
from spikeinfer.simulate import get_indicator_preset, simulate_fluorescence, simulate_spike_times


def test_prepare_resamples_and_removes_the_baseline():
    t = np.arange(3000) / 100.0
    trace = 0.5 + 0.1 * np.sin(2 * np.pi * t / 5.0)  # offset and slow wave at 100 Hz
    x = Pipeline(fps=30.0, baseline_window_s=10.0).prepare(trace, 100.0)
    assert len(x) == 900
    assert abs(np.median(x)) < 0.1 < abs(np.median(trace))
    raw = Pipeline(fps=30.0, baseline_window_s=None).prepare(trace, 100.0)
    assert np.median(raw) == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("fps", [10.0, 30.0, 100.0])
def test_output_is_in_spikes_per_input_frame(fps):
    pipeline = Pipeline(fps=30.0, floor_percentile=None)
    rate = np.full(3000, 0.02)  # spikes per network frame, 100 s
    out = pipeline.to_spikes(rate, 30.0, fps, int(100 * fps), scale=1.0)
    assert out.shape == (int(100 * fps),)
    assert out.sum() == pytest.approx(rate.sum(), rel=1e-3)
    assert pipeline.to_spikes(rate, 30.0, fps, int(100 * fps), scale=2.5).sum() == \
        pytest.approx(2.5 * rate.sum(), rel=1e-3)


def test_the_floor_removes_the_silent_level():
    rate = np.r_[np.full(900, 0.01), np.full(100, 1.0)]
    floored = Pipeline(floor_percentile=10.0).subtract_floor(rate)
    assert floored[:900].max() == 0 and floored[900:].min() == pytest.approx(0.99)


def test_normalisations_and_the_time_factor():
    x = np.ones(50)
    assert Pipeline().normalise_window(x, 0.2, 1.0).shape == (1, 50)
    np.testing.assert_allclose(Pipeline(normalise="amplitude").normalise_window(x, 0.2, 1.0), 5.0)
    np.testing.assert_allclose(Pipeline(normalise="amplitude").normalise_window(x, np.nan, 1.0),
                               1 / FALLBACK_AMPLITUDE)
    context = Pipeline(normalise="context").normalise_window(np.zeros((3, 50)), 0.2, 2.0)
    assert context.shape == (3, 3, 50)
    np.testing.assert_allclose(context[:, 1], np.log(2.0)) and np.testing.assert_allclose(
        context[:, 2], np.log(2.0))
    timed = Pipeline(normalise="amplitude+time", reference_decay_s=1.0)
    assert timed.time_factor(0.5) == 0.5 and timed.time_factor(8.0) == 2.0
    assert timed.time_factor(np.nan) == 1.0 and Pipeline().time_factor(0.5) == 1.0


def _recording(fps: float, n_neurons: int = 4, duration_s: float = 300.0, seed: int = 3):
    """The same spike trains (GCaMP6s) recorded at ``fps``."""
    rng = np.random.default_rng(seed)
    spikes = simulate_spike_times(n_neurons, duration_s, 0.5, random_state=rng)
    traces = simulate_fluorescence(spikes, fps, int(duration_s * fps), noise_level=1.0,
                                   random_state=seed, **get_indicator_preset("GCaMP6s"))
    return traces, spikes


def test_the_same_recording_at_two_rates_gives_the_same_spikes_per_second():
    model = load_model("default")
    counts = {}
    for fps in (30.0, 60.0):
        traces, spikes = _recording(fps)
        out = model.predict(traces, fps)
        counts[fps] = out.reshape(out.shape[0], -1, int(fps)).sum(axis=2)  # per second
    totals = {fps: c.sum(axis=1) for fps, c in counts.items()}
    np.testing.assert_allclose(totals[60.0], totals[30.0], rtol=0.2)
    for a, b in zip(counts[30.0], counts[60.0]):
        assert np.corrcoef(a, b)[0, 1] > 0.9


def test_a_trace_split_in_two_with_overlap_gives_the_same_output():
    # Within 6% of the peak, not exactly: the noise scale the network reads and the output
    # floor are each measured over the whole stretch it is given.
    model = load_model("default")
    traces, _ = _recording(30.0, n_neurons=2, duration_s=600.0)
    whole = model.predict(traces, 30.0)
    cut, overlap = 9000, 3000  # 100 s of overlap: the baseline window and the network's reach
    first = model.predict(traces[:, :cut + overlap], 30.0)
    second = model.predict(traces[:, cut - overlap:], 30.0)
    joined = np.concatenate([first[:, :cut], second[:, overlap:]], axis=1)
    inner = slice(600, -600)  # the ends of the recording have no overlap
    assert np.abs(joined - whole)[:, inner].max() < 0.06 * whole.max()
    np.testing.assert_allclose(joined.sum(axis=1), whole.sum(axis=1), rtol=0.02)


def test_float32_input_gives_float32_output_equal_to_float64():
    model = load_model("default")
    traces, _ = _recording(30.0, n_neurons=2, duration_s=120.0)
    out32 = model.predict(traces.astype(np.float32), 30.0)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, model.predict(traces, 30.0), rtol=1e-4, atol=1e-6)


def test_calibration_is_only_made_for_a_normalising_pipeline():
    traces, _ = _recording(30.0, n_neurons=2, duration_s=120.0)
    assert Pipeline().calibrate(traces, 30.0) is None
    estimates = Pipeline(normalise="amplitude").calibrate(traces, 30.0)
    assert estimates.n_neurons == 2
    assert Pipeline(normalise="amplitude+time").network_rate(estimates) == pytest.approx(
        30.0 / np.clip(estimates.tau_decay_s, 0.5, 2.0))
    assert calibrate(traces, 30.0).tau_decay_s == estimates.tau_decay_s


@pytest.mark.parametrize("name", ["default", "elephant", "attended"])
def test_a_long_trace_passed_in_segments_gives_the_one_pass_output(name, monkeypatch):
    import spikeinfer.models.neural as neural

    model = load_model(name)
    traces, _ = _recording(30.0, n_neurons=2, duration_s=300.0)
    whole = model.predict(traces, 30.0)
    monkeypatch.setattr(neural, "SEGMENT", 2048)  # 300 s at 100 Hz: 15 segments
    segmented = model.predict(traces, 30.0)
    np.testing.assert_allclose(segmented, whole, rtol=1e-4, atol=1e-6 * whole.max())
