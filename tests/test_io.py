import json
import shutil
import warnings

import numpy as np
import pytest

from spikeinfer import DataWarning, InputError, TraceSet
from spikeinfer.io import (
    load_cascade_collection,
    load_cascade_dataset,
    load_counts,
    load_spikefinder,
    load_traces,
    save_predictions,
)

# -- Spikefinder ----------------------------------------------------------------

def test_spikefinder_set6_keeps_nan_padding(data_dir):
    ts = load_spikefinder(data_dir / "spikefinder" / "train" / "6.train.calcium.csv")
    assert ts.fps == 100.0
    assert ts.traces.shape == (9, 23998)
    # Columns 3, 5, 7, 8 (0-based 2, 4, 6, 7) are padded with blanks in the file.
    assert ts.lengths[2] == 23998 - 18000
    assert np.isnan(ts.traces[2, ts.lengths[2]:]).all()
    assert np.isfinite(ts.traces[0]).all()
    counts = ts.spike_counts()
    raw, _ = load_counts(data_dir / "spikefinder" / "train" / "6.train.spikes.csv")
    np.testing.assert_array_equal(np.nan_to_num(counts), np.nan_to_num(raw))


def test_spikefinder_prediction_round_trip(data_dir, tmp_path):
    ts = load_spikefinder(data_dir / "spikefinder" / "train" / "6.train.calcium.csv")
    rng = np.random.default_rng(0)
    pred = np.where(np.isnan(ts.traces), np.nan, rng.random(ts.traces.shape))
    out = save_predictions(tmp_path / "6.train.predicted.spikes.csv", pred, ts)
    header = out.read_text().splitlines()[0]
    assert header == ",".join(str(i) for i in range(9))
    back, names = load_counts(out)
    assert names == ts.neuron_ids
    np.testing.assert_allclose(back, pred, rtol=1e-5, equal_nan=True)
    # Blank fields in exactly the padded places of the input.
    assert (np.isnan(back) == np.isnan(ts.traces)).all()


def test_spikefinder_header_is_not_data(tmp_path):
    path = tmp_path / "1.train.calcium.csv"
    path.write_text("0,1\n0.5,0.25\n0.75,\n")
    ts = load_traces(path)
    np.testing.assert_array_equal(ts.traces[0], [0.5, 0.75])
    assert ts.lengths.tolist() == [2, 1]


# -- CASCADE ----------------------------------------------------------------------

def test_cascade_original_files_load_with_reported_repairs(data_dir, tmp_path):
    for f in (data_dir / "cascade_gt_original").glob("*.mat"):
        shutil.copy(f, tmp_path / f.name)
    with pytest.warns(DataWarning) as record:
        sets = load_cascade_dataset(tmp_path)
    messages = [str(w.message) for w in record]
    # Cal520 pDp: fluo_time has 340 entries for 900 frames -> extended on its grid.
    assert any("Fish1_cell2" in m and "340 entries for 900 frames" in m for m in messages)
    # S1 cell5: three recordings without fluorescence -> skipped.
    assert sum("cell5" in m and "skipped" in m for m in messages) == 3
    ids = [i for ts in sets for i in ts.neuron_ids]
    assert len(ids) == 3
    fish = next(ts for ts in sets if any("Fish1_cell2" in i for i in ts.neuron_ids))
    assert fish.fps == pytest.approx(1 / 0.128)
    assert fish.lengths[0] == 900
    # Spikes up to 114.7 s exist; after extension they fall inside the recording.
    counts = fish.spike_counts()
    assert np.nansum(counts) == pytest.approx(len(fish.spike_times[0]), abs=2)


def test_cascade_spike_times_line_up_with_frames(data_dir):
    (ts,) = load_cascade_dataset(data_dir / "cascade_gt" / "DS09-GCaMP6f-m-V1")
    assert ts.fps == pytest.approx(60.06, abs=0.01)
    counts = ts.spike_counts()
    # Fluorescence rises after spikes: the spike-triggered mean at +5 frames beats -5 frames.
    after, before = [], []
    for row, c in zip(ts.traces, counts):
        frames = np.flatnonzero(c[10:-10] > 0) + 10
        after.append(np.nanmean(row[frames + 5]))
        before.append(np.nanmean(row[frames - 5]))
    assert np.mean(after) > np.mean(before) + 0.1


def test_all_cascade_datasets_load(data_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        sets = load_cascade_collection(data_dir / "cascade_gt")
    assert len({ts.dataset for ts in sets}) == 34
    hours = sum(ts.duration_s.sum() for ts in sets) / 3600
    spikes = sum(sum(len(s) for s in ts.spike_times) for ts in sets)
    assert 55 < hours < 80
    assert 500_000 < spikes < 900_000
    fps = sorted({round(ts.fps, 1) for ts in sets})
    assert fps[0] < 3 and fps[-1] > 400  # 2.55 Hz spinal cord to 500 Hz S1


def test_cascade_folder_without_mat_files(tmp_path):
    with pytest.raises(InputError, match="no .mat files"):
        load_cascade_dataset(tmp_path)


def test_cascade_corrupt_file_is_reported_and_skipped(data_dir, tmp_path):
    good = next((data_dir / "cascade_gt" / "DS09-GCaMP6f-m-V1").glob("*.mat"))
    shutil.copy(good, tmp_path / good.name)
    (tmp_path / "broken.mat").write_bytes(good.read_bytes()[:500])
    with pytest.warns(DataWarning, match="broken.mat"):
        sets = load_cascade_dataset(tmp_path)
    assert sum(ts.n_neurons for ts in sets) >= 1


# -- user matrices ----------------------------------------------------------------

def test_npy_requires_fps(tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((3, 100)))
    with pytest.raises(InputError, match="pass --fps"):
        load_traces(tmp_path / "x.npy")
    assert load_traces(tmp_path / "x.npy", fps=30).traces.shape == (3, 100)


def test_ambiguous_orientation_asks_for_a_flag(tmp_path):
    x = np.random.default_rng(0).random((100, 3))
    np.save(tmp_path / "x.npy", x)
    with pytest.raises(InputError, match="--orientation"):
        load_traces(tmp_path / "x.npy", fps=30)
    ts = load_traces(tmp_path / "x.npy", fps=30, orientation="frames-by-neurons")
    np.testing.assert_array_equal(ts.traces, x.T)


def test_pickled_npy_is_refused(tmp_path):
    np.save(tmp_path / "x.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="pickled"):
        load_traces(tmp_path / "x.npy", fps=30)


def test_csv_matrix_with_and_without_header(tmp_path):
    (tmp_path / "a.csv").write_text("1,2,3,4\n5,6,7,8\n")
    (tmp_path / "b.csv").write_text("f0,f1,f2,f3\n1,2,3,4\n5,6,nan,8\n")
    a = load_traces(tmp_path / "a.csv", fps=10)
    b = load_traces(tmp_path / "b.csv", fps=10)
    np.testing.assert_array_equal(a.traces, [[1, 2, 3, 4], [5, 6, 7, 8]])
    assert np.isnan(b.traces[1, 2]) and b.traces[1, 3] == 8


def test_csv_with_words_is_refused(tmp_path):
    (tmp_path / "a.csv").write_text("1,2,3,4\n5,x,7,8\n")
    with pytest.raises(InputError, match="a.csv.*non-numeric"):
        load_traces(tmp_path / "a.csv", fps=10)


def test_npy_and_h5_predictions(tmp_path):
    ts = TraceSet(np.random.default_rng(0).random((2, 50)), 30.0, neuron_ids=("a", "b"))
    save_predictions(tmp_path / "p.npy", ts.traces, ts)
    save_predictions(tmp_path / "p.h5", ts.traces, ts)
    # expected spikes are stored as float32: seven digits
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), ts.traces, rtol=1e-6)
    values, names = load_counts(tmp_path / "p.h5")
    np.testing.assert_allclose(values, ts.traces, rtol=1e-6)
    assert names == ("a", "b")
    assert json.loads((tmp_path / "p.json").read_text())["neuron_ids"] == ["a", "b"]


def test_existing_output_is_kept_without_force(tmp_path):
    ts = TraceSet(np.ones((1, 5)) * np.arange(5), 30.0)
    (tmp_path / "p.npy").write_bytes(b"keep")
    with pytest.raises(InputError, match="already exists"):
        save_predictions(tmp_path / "p.npy", ts.traces, ts)
    assert (tmp_path / "p.npy").read_bytes() == b"keep"
    save_predictions(tmp_path / "p.npy", ts.traces, ts, force=True)
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), ts.traces)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json", "p.npy"]  # no temporary


def test_unknown_format(tmp_path):
    (tmp_path / "x.tif").write_bytes(b"II*\x00")
    with pytest.raises(InputError, match="x.tif: unknown format"):
        load_traces(tmp_path / "x.tif")


def test_h5_keeps_non_ascii_neuron_ids(tmp_path):
    ts = TraceSet(np.random.default_rng(0).random((2, 50)), 30.0, neuron_ids=("cellule_é", "b"))
    save_predictions(tmp_path / "p.h5", ts.traces, ts)
    assert load_counts(tmp_path / "p.h5")[1] == ("cellule_é", "b")


def test_one_trace_is_one_neuron_whatever_the_orientation(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(100.0))
    ts = load_traces(tmp_path / "x.npy", fps=10, orientation="frames-by-neurons")
    assert ts.traces.shape == (1, 100)


def test_suite2p_folder_with_several_planes_asks_for_one(tmp_path):
    for plane in ("plane0", "plane1"):
        (tmp_path / plane).mkdir()
        np.save(tmp_path / plane / "F.npy", np.ones((2, 10)))
    with pytest.raises(InputError, match="2 planes.*pass one plane folder"):
        load_traces(tmp_path)


def test_cascade_times_out_of_order_are_reported(tmp_path):
    import scipy.io

    record = {"fluo_time": np.array([0.1, 0.0, 0.2, 0.3, 0.4]),
              "fluo_mean": np.arange(5.0), "events_AP": np.array([1000.0])}
    scipy.io.savemat(tmp_path / "cell.mat", {"CAttached": record})
    with pytest.warns(DataWarning, match="go back"):
        (ts,) = load_cascade_dataset(tmp_path)
    np.testing.assert_array_equal(ts.traces[0], np.arange(5.0))  # file order, nothing lost
    assert ts.fps == pytest.approx(1 / 0.075)  # (0.4 - 0.1) s over 4 frames


def test_cascade_jittery_clock_keeps_every_frame(tmp_path):
    import scipy.io

    rng = np.random.default_rng(0)
    time = np.arange(5000) / 120.0 + rng.normal(0, 0.002 / 120.0, 5000).cumsum()
    record = {"fluo_time": time, "fluo_mean": rng.random(5000),
              "events_AP": np.array([10.0, 20.0]) * 1e4}
    scipy.io.savemat(tmp_path / "cell.mat", {"CAttached": record})
    (ts,) = load_cascade_dataset(tmp_path)
    np.testing.assert_array_equal(ts.traces[0], record["fluo_mean"])
    # Spikes land on the frames whose recorded times are nearest.
    frames = np.flatnonzero(ts.spike_counts()[0])
    np.testing.assert_array_equal(frames, [np.argmin(np.abs(time - 10)),
                                           np.argmin(np.abs(time - 20))])


@pytest.mark.parametrize("name, indicator", [
    ("DS09-GCaMP6f-m-V1", "GCaMP6f"), ("DS18-R-CaMP-m-CA3", "R-CaMP"),
    ("DS02-OGB1-2-m-V1", "OGB-1"), ("DS04-OGB1-zf-pDp", "OGB-1"),
    ("DS21-jGECO1a-m-V1", "jRGECO1a"), ("spikefinder-4", "OGB-1"),
    ("DS33-Interneurons2023-m-V1", None),
    ("DS40-GCaMP6s-spinal-cord-excitatory", "GCaMP6s"), ("DS99-Cal520-m-V1", "Cal-520")])
def test_catalogue_names_every_datasets_indicator(name, indicator):
    from spikeinfer.io import dataset_indicator

    assert dataset_indicator(name) == indicator


def test_catalogue_groups_datasets_of_the_same_neurons_and_keeps_the_folds_in_use():
    from spikeinfer.io import cv_folds, dataset_group, is_inhibitory, load_catalogue

    assert dataset_group("spikefinder-5") == dataset_group("DS16-GCaMP6s-m-V1") == "DS16"
    assert dataset_group("spikefinder-4") == "spikefinder-4"
    assert is_inhibitory("DS24-GCaMP6f-m-PV-V1") and not is_inhibitory("DS09-GCaMP6f-m-V1")
    folds = cv_folds()
    assert len(folds) == 5 and sum(map(len, folds)) == 35
    assert folds[0][:2] == ["DS02-OGB1-2-m-V1", "DS03-Cal520-m-S1"]
    assert all(any(is_inhibitory(d) for d in fold) for fold in folds)
    assert len(load_catalogue()) == 37


def test_ground_truth_is_chosen_before_loading(data_dir):
    from spikeinfer.io import load_ground_truth

    data = load_ground_truth(data_dir, ["DS09-GCaMP6f-m-V1", "spikefinder-4"])
    assert {ts.dataset for ts in data} == {"DS09-GCaMP6f-m-V1", "spikefinder-4"}
    assert {ts.indicator for ts in data} == {"GCaMP6f", "OGB-1"}
    with pytest.raises(InputError, match="not in the ground-truth catalogue"):
        load_ground_truth(data_dir, ["DS99-nothing"])
