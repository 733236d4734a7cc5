"""The forward simulator: spikes, kernel, saturation, noise level, presets, kernel fit."""

from dataclasses import replace

import numpy as np
import pytest

from spikeinfer.exceptions import InputError
from spikeinfer.io import (
    INDICATORS,
    load_counts,
    load_spikefinder,
    load_traces,
    normalise_indicator_name,
)
from spikeinfer.signals import compute_noise_level
from spikeinfer.simulate import (
    compute_calcium,
    double_exponential_kernel,
    fit_indicator_table,
    fit_kernel,
    get_indicator_preset,
    load_indicator_table,
    save_simulation,
    simulate_fluorescence,
    simulate_recording,
    simulate_spike_times,
)

REALISTIC = {"indicator": "GCaMP6s", "amplitude_cv": 0.4, "drift_dff": 0.05, "neuropil": 0.5,
             "shot_noise": 0.5, "spike_pattern": "bursty", "noise_level": 3.0}


def test_same_seed_same_recording_other_seed_differs(seed):
    a = simulate_recording(3, 60.0, 30.0, random_state=seed, **REALISTIC)
    b = simulate_recording(3, 60.0, 30.0, random_state=seed, **REALISTIC)
    c = simulate_recording(3, 60.0, 30.0, random_state=seed + 1, **REALISTIC)
    assert np.array_equal(a.traces, b.traces)
    assert all(np.array_equal(x, y) for x, y in zip(a.spike_times, b.spike_times))
    assert not np.allclose(a.traces, c.traces)
    assert sum(s.size for s in a.spike_times) != sum(s.size for s in c.spike_times)


def test_poisson_count_matches_rate_and_bursts_cluster(seed):
    n_neurons, duration_s, rate_hz = 20, 500.0, 2.0
    poisson = simulate_spike_times(n_neurons, duration_s, rate_hz, random_state=seed)
    bursty = simulate_spike_times(n_neurons, duration_s, rate_hz, pattern="bursty",
                                  random_state=seed)
    expected = n_neurons * duration_s * rate_hz
    assert sum(s.size for s in poisson) == pytest.approx(expected, rel=0.03)
    assert sum(s.size for s in bursty) == pytest.approx(expected, rel=0.05)
    assert all(s.min() >= 0 and s.max() < duration_s for s in poisson + bursty)

    def isi_cv(trains):
        isi = np.concatenate([np.diff(s) for s in trains])
        return isi.std() / isi.mean()

    assert isi_cv(poisson) == pytest.approx(1.0, abs=0.05)  # exponential intervals
    assert isi_cv(bursty) > 1.5


def test_kernel_peak_time_and_decay_follow_the_time_constants():
    fps, tau_rise_s, tau_decay_s, spike_s = 1000.0, 0.05, 0.8, 0.0123
    calcium = compute_calcium(np.array([spike_s]), fps, 5000, tau_rise_s, tau_decay_s)
    t = np.arange(5000) / fps
    expected_peak_s = spike_s + np.log(tau_decay_s / tau_rise_s) * tau_rise_s * tau_decay_s / (
        tau_decay_s - tau_rise_s)
    assert t[np.argmax(calcium)] == pytest.approx(expected_peak_s, abs=1.5 / fps)
    assert calcium.max() == pytest.approx(1.0, abs=1e-4)
    assert np.all(calcium[t <= spike_s] == 0)
    # Long after the rise, each tau_decay divides the transient by e.
    late = int(1.0 * fps)
    assert calcium[late + int(tau_decay_s * fps)] / calcium[late] == pytest.approx(
        np.exp(-1), rel=1e-3)
    # The sampled kernel is the same curve for a spike exactly at frame 0.
    kernel = double_exponential_kernel(fps, tau_rise_s, tau_decay_s, length_s=2.0)
    assert np.allclose(kernel, compute_calcium(np.array([0.0]), fps, kernel.size, tau_rise_s,
                                               tau_decay_s))


def test_given_spike_times_sum_their_transients():
    spikes = (np.array([1.0, 1.02, 3.5]), np.array([]))
    traces = simulate_fluorescence(spikes, 30.0, 300, amplitude=0.3, noise_level=0.0)
    single = compute_calcium(np.array([1.0]), 30.0, 300, 0.05, 0.8)
    assert np.allclose(traces[0], 0.3 * (single + compute_calcium(np.array([1.02]), 30.0, 300,
                                                                  0.05, 0.8)
                                         + compute_calcium(np.array([3.5]), 30.0, 300,
                                                           0.05, 0.8)))
    assert np.all(traces[1] == 0)


@pytest.mark.parametrize("fps", [7.5, 30.0, 100.0])
@pytest.mark.parametrize("noise_level, options", [
    (2.0, {}),
    (4.0, {}),
    (2.0, REALISTIC | {"noise_level": 2.0}),
    (6.0, {"shot_noise": 1.0, "rate_hz": 2.0}),
])
def test_measured_noise_level_is_the_requested_one(seed, fps, noise_level, options):
    options = {"noise_level": noise_level} | options
    rec = simulate_recording(4, 120.0, fps, random_state=seed, **options)
    measured = compute_noise_level(rec.traces, fps)
    assert np.allclose(measured, noise_level, rtol=0.1)


def test_unreachable_noise_level_warns(seed):
    # At 7.5 Hz the decay of the transients alone changes dF/F by more per frame.
    with pytest.warns(UserWarning, match="noise level 0.5 not reached"):
        rec = simulate_recording(4, 120.0, 7.5, noise_level=0.5, random_state=seed)
    assert np.all(compute_noise_level(rec.traces, 7.5) > 0.5)


def test_same_physical_kernel_at_any_frame_rate():
    spike_s, amplitude = 1.0037, 0.6
    curve = amplitude * compute_calcium(np.array([spike_s]), 10_000.0, 40_000, 0.05, 0.8)
    fine_t = np.arange(40_000) / 10_000.0
    peaks = {}
    for fps in (7.5, 30.0, 100.0):
        n_frames = int(4.0 * fps)
        trace = simulate_fluorescence([np.array([spike_s])], fps, n_frames, amplitude=amplitude,
                                      noise_level=0.0)[0]
        t = np.arange(n_frames) / fps
        assert np.allclose(trace, np.interp(t, fine_t, curve), atol=1e-3)
        peaks[fps] = trace.max()
    assert peaks[100.0] == pytest.approx(amplitude, rel=0.01)
    assert peaks[30.0] == pytest.approx(amplitude, rel=0.05)
    assert peaks[7.5] == pytest.approx(amplitude, rel=0.25)  # frames 133 ms apart


def test_saturation_lowers_bursts_more_than_single_spikes():
    burst = [np.array([1.0]), 1.0 + np.arange(10) * 0.005]
    options = {"amplitude": 0.5, "noise_level": 0.0}
    linear = simulate_fluorescence(burst, 100.0, 400, **options)
    saturated = simulate_fluorescence(burst, 100.0, 400, saturation=1.0, **options)
    assert np.all(saturated <= linear + 1e-12)
    assert np.allclose(saturated, linear / (1 + linear / 1.0))
    single_ratio, burst_ratio = saturated.max(axis=1) / linear.max(axis=1)
    assert burst_ratio < 0.4
    assert single_ratio > 0.6
    assert saturated[1].max() < 1.0  # never above the saturation


@pytest.mark.parametrize("saturation", [None, 1.0])
def test_kernel_fit_recovers_known_parameters(seed, saturation):
    rec = simulate_recording(8, 300.0, 30.0, rate_hz=1.0, tau_rise_s=0.08, tau_decay_s=1.2,
                             amplitude=0.4, saturation=saturation, noise_level=1.0,
                             drift_dff=0.05, spike_pattern="bursty", random_state=seed)
    fit = fit_kernel([rec])
    assert fit["tau_rise_s"] == pytest.approx(0.08, rel=0.15)  # grid steps of 26%
    assert fit["tau_decay_s"] == pytest.approx(1.2, rel=0.1)
    assert fit["amplitude"] == pytest.approx(0.4, rel=0.1)
    if saturation is None:
        assert fit["saturation"] is None
        assert fit["variance_explained"] > 0.95
    else:
        assert fit["saturation"] == pytest.approx(saturation, rel=0.15)
        assert fit["variance_explained"] > fit["variance_explained_linear"] + 0.05


def test_preset_table_has_every_indicator_with_positive_parameters():
    table = load_indicator_table()
    assert set(table["indicators"]) == set(INDICATORS)
    fitted = {row["dataset"] for row in table["datasets"]}
    assert len(fitted) == 35  # 34 CASCADE datasets and Spikefinder set 4
    for name, preset in table["indicators"].items():
        assert 0 < preset["tau_rise_s"] < preset["tau_decay_s"], name
        assert preset["amplitude"] > 0 and preset["noise_level"] > 0, name
        assert preset["saturation"] is None or preset["saturation"] > 0, name
        assert 0 < preset["variance_explained"] <= 1, name
        assert set(preset["datasets"]) <= fitted, name


def test_indicator_presets_drive_the_simulation():
    preset = get_indicator_preset("gcamp6s")
    rec = simulate_recording(1, 10.0, indicator="GCaMP6s", random_state=0)
    assert rec.indicator == "GCaMP6s"
    assert {k: rec.meta["simulation"][k] for k in preset} == preset
    mine = simulate_recording(1, 10.0, indicator="GCaMP6s", tau_decay_s=3.0, random_state=0)
    assert mine.meta["simulation"]["tau_decay_s"] == 3.0
    assert mine.meta["simulation"]["amplitude"] == preset["amplitude"]
    assert normalise_indicator_name("OGB1") == "OGB-1"
    assert normalise_indicator_name("jGECO1a") == "jRGECO1a"
    assert normalise_indicator_name("Cal520") == "Cal-520"
    with pytest.raises(InputError, match="GCaMP99.*GCaMP6f"):
        simulate_recording(1, 10.0, indicator="GCaMP99")


@pytest.mark.parametrize("options, message", [
    ({"tau_rise_s": 1.0, "tau_decay_s": 0.5}, "tau_rise_s"),
    ({"amplitude": -0.1}, "amplitude"),
    ({"noise_level": np.nan}, "noise_level"),
    ({"shot_noise": 1.5}, "shot_noise"),
    ({"saturation": 0.0}, "saturation"),
    ({"spike_pattern": "regular"}, "regular"),
    ({"rate_hz": -1.0}, "rate"),
    ({"n_neurons": 0}, "n_neurons"),
    ({"duration_s": 0.01}, "duration_s"),
    ({"fps": 0.0}, "frame rate"),
])
def test_bad_parameters_are_refused(options, message):
    kwargs = {"n_neurons": 2, "duration_s": 10.0} | options
    with pytest.raises(InputError, match=message):
        simulate_recording(**kwargs)


@pytest.mark.parametrize("name, fps", [("sim.npy", 30.0), ("sim.h5", 30.0),
                                       ("1.train.calcium.csv", 100.0)])
def test_saved_simulation_reads_back(tmp_path, seed, name, fps):
    rec = simulate_recording(3, 20.0, fps, random_state=seed)
    traces_path, truth_path = save_simulation(tmp_path / name, rec)
    counts, _ = load_counts(truth_path)
    assert np.array_equal(counts, rec.spike_counts())
    if name.endswith(".calcium.csv"):
        back = load_spikefinder(traces_path)
        assert all(np.array_equal(a, b) for a, b in zip(back.spike_counts(), rec.spike_counts()))
        assert np.allclose(back.traces, rec.traces, rtol=1e-5, atol=1e-6)  # %.6g text
    else:
        back = load_traces(traces_path, fps=None if name.endswith(".h5") else fps)
        assert back.fps == fps and np.array_equal(back.traces, rec.traces)
    with pytest.raises(InputError, match="already exists"):
        save_simulation(tmp_path / name, rec)


def test_packaged_table_is_reproduced_by_the_fit(data_dir):
    from spikeinfer.io import load_cascade_dataset

    data = load_cascade_dataset(data_dir / "cascade_gt" / "DS17-GCaMP5k-m-V1", quiet=True)
    row = fit_indicator_table(data, 30.0)["datasets"][0]
    shipped = {r["dataset"]: r for r in load_indicator_table()["datasets"]}[row["dataset"]]
    for key in ("tau_rise_s", "tau_decay_s", "amplitude", "noise_level", "variance_explained"):
        assert row[key] == pytest.approx(shipped[key], rel=1e-6), key
    # The fitted kernel explains the real trace far better than a shuffled spike train.
    rng = np.random.default_rng(0)
    shuffled = [replace(ts, spike_times=tuple(np.sort(rng.uniform(0, n / ts.fps, s.size))
                                              for s, n in zip(ts.spike_times, ts.lengths)))
                for ts in data]
    assert fit_kernel(shuffled, half_saturation_grid=None)["variance_explained"] < 0.2
    assert row["variance_explained"] > 0.5
