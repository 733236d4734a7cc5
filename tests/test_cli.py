"""The command line: outputs, and one-line errors with exit code 2 on bad input."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from spikeinfer.cli import main


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


def assert_one_line_error(result, *fragments):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def test_predict_npy_writes_same_shape(traces_npy, simulated):
    result = run("predict", traces_npy, "--fps", 30)
    assert result.exit_code == 0, result.output
    out = np.load(traces_npy.with_name("rec.spikes.npy"))
    assert out.shape == simulated.traces.shape
    assert np.isfinite(out).all()


def test_predict_ragged_rows_keep_nan_padding(tmp_path, simulated):
    x = simulated.traces.copy()
    x[1, 1200:] = np.nan
    np.save(tmp_path / "ragged.npy", x)
    result = run("predict", tmp_path / "ragged.npy", "--fps", 30, "-o", tmp_path / "p.h5")
    assert result.exit_code == 0, result.output
    import h5py

    with h5py.File(tmp_path / "p.h5") as fh:
        out = fh["spikes"][()]
        assert fh.attrs["fps"] == 30.0
    assert np.isnan(out[1, 1200:]).all() and np.isfinite(out[1, :1200]).all()


def test_predict_spikefinder_gives_spikefinder_csv(tmp_path, data_dir):
    src = data_dir / "spikefinder" / "train" / "6.train.calcium.csv"
    out = tmp_path / "6.train.predicted.spikes.csv"
    result = run("predict", src, "-o", out)
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0] == src.read_text().splitlines()[0]
    assert len(lines) == len(src.read_text().splitlines())
    # The padded column 2 stays blank where the input is blank.
    assert lines[-1].split(",")[2] == ""
    scored = run("evaluate", out, data_dir / "spikefinder" / "train" / "6.train.spikes.csv",
                 "--json")
    assert scored.exit_code == 0, scored.output
    doc = json.loads(scored.stdout)
    assert len(doc["cells"]) == 9
    assert 0.2 < doc["mean"]["corr"] < 1


def test_existing_output_is_refused_and_kept(traces_npy):
    out = traces_npy.with_name("rec.spikes.npy")
    out.write_bytes(b"precious")
    assert_one_line_error(run("predict", traces_npy, "--fps", 30), "rec.spikes.npy",
                          "--force")
    assert out.read_bytes() == b"precious"
    assert run("predict", traces_npy, "--fps", 30, "--force").exit_code == 0
    assert np.load(out).shape[0] == 4


def test_input_is_never_the_output(traces_npy):
    before = traces_npy.read_bytes()
    assert_one_line_error(run("predict", traces_npy, "--fps", 30, "-o", traces_npy, "--force"),
                          "is the input")
    assert traces_npy.read_bytes() == before


@pytest.mark.parametrize("case, fragments", [
    ("missing_fps", ["rec.npy", "--fps"]),
    ("absurd_fps", ["rec.npy", "frame rate"]),
    ("inf_run", ["bad.npy", "infinite"]),
    ("all_nan", ["bad.npy", "all values are NaN"]),
    ("constant", ["bad.npy", "constant"]),
    ("too_short", ["bad.npy", "valid frames"]),
    ("wrong_orientation", ["bad.npy", "--orientation"]),
    ("truncated", ["bad.npy", "not a readable"]),
    ("unknown_format", ["bad.xyz", "unknown format"]),
    ("missing_file", ["nothere.npy", "no such file"]),
    ("corrupt_h5", ["bad.h5"]),
    ("corrupt_nwb", ["bad.nwb"]),
    ("unknown_model", ["nonsense-model"]),
])
def test_bad_input_gives_one_line_and_no_output(tmp_path, traces_npy, simulated, case,
                                                fragments):
    x = simulated.traces
    bad = tmp_path / "bad.npy"
    args = [bad, "--fps", 30]
    if case == "missing_fps":
        args = [traces_npy]
    elif case == "absurd_fps":
        args = [traces_npy, "--fps", -3]
    elif case == "inf_run":
        y = x.copy()
        y[2, 10:20] = np.inf
        np.save(bad, y)
    elif case == "all_nan":
        y = x.copy()
        y[0] = np.nan
        np.save(bad, y)
    elif case == "constant":
        y = x.copy()
        y[3] = 1.0
        np.save(bad, y)
    elif case == "too_short":
        np.save(bad, x[:, :5])
    elif case == "wrong_orientation":
        np.save(bad, x.T)
    elif case == "truncated":
        np.save(bad, x)
        bad.write_bytes(bad.read_bytes()[:200])
    elif case == "unknown_format":
        args = [tmp_path / "bad.xyz", "--fps", 30]
        (tmp_path / "bad.xyz").write_text("hello")
    elif case == "missing_file":
        args = [tmp_path / "nothere.npy", "--fps", 30]
    elif case == "corrupt_h5":
        args = [tmp_path / "bad.h5", "--fps", 30]
        (tmp_path / "bad.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 20)
    elif case == "corrupt_nwb":
        args = [tmp_path / "bad.nwb"]
        (tmp_path / "bad.nwb").write_bytes(b"not an nwb file")
    elif case == "unknown_model":
        args = [traces_npy, "--fps", 30, "--model", "nonsense-model"]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_one_line_error(run("predict", *args), *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no partial output


def test_nan_run_inside_a_trace_is_predicted_around(tmp_path, simulated):
    y = simulated.traces.copy()
    y[2, 500:560] = np.nan
    np.save(tmp_path / "gaps.npy", y)
    assert run("predict", tmp_path / "gaps.npy", "--fps", 30).exit_code == 0
    out = np.load(tmp_path / "gaps.spikes.npy")
    assert np.isnan(out[2, 500:560]).all()
    assert np.isfinite(np.delete(out[2], np.s_[500:560])).all()


def test_models_lists_every_shipped_model_with_its_scores():
    result = run("models")
    assert result.exit_code == 0
    lines = {line.split(":")[0]: line for line in result.stdout.splitlines()}
    assert set(lines) == {"default", "elephant", "attended", "conv16", "oasis"}
    assert "runs at 30 Hz" in lines["default"] and "grouped-CV corr" in lines["default"]
    assert "runs at any rate" in lines["oasis"]


def test_benchmark_spikefinder_json_with_peers(data_dir):
    result = run("benchmark", "spikefinder", data_dir / "spikefinder" / "train", "--sets", "4,5",
                 "--peers", data_dir / "spikefinder" / "peers", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc["model"]["sets"]) == {"4", "5"}
    assert doc["model"]["all"]["n_cells"] == 15
    # Peers are scored by the same code as the published scores (test_metrics).
    assert doc["peers"]["stm"]["sets"]["4"]["n_cells"] == 6
    assert 0 < doc["peers"]["stm"]["all"]["corr"] < 1


def test_demo_prints_score_and_writes_png(tmp_path):
    result = run("demo", "-o", tmp_path / "demo.png")
    assert result.exit_code == 0, result.output
    assert "correlation" in result.stdout
    assert (tmp_path / "demo.png").read_bytes()[:4] == b"\x89PNG"


def test_python_dash_m_entry_point():
    out = subprocess.run([sys.executable, "-m", "spikeinfer", "--help"], capture_output=True,
                         text=True, check=True)
    assert "predict" in out.stdout


def test_evaluate_refuses_mismatched_lengths(tmp_path):
    np.save(tmp_path / "pred.npy", np.random.default_rng(0).random((2, 200)))
    np.save(tmp_path / "truth.npy", np.zeros((2, 300)))
    assert_one_line_error(run("evaluate", tmp_path / "pred.npy", tmp_path / "truth.npy",
                              "--fps", 30), "pred.npy", "200 frames", "300")


def test_demo_keeps_an_existing_figure(tmp_path):
    (tmp_path / "demo.png").write_bytes(b"mine")
    assert_one_line_error(run("demo", "-o", tmp_path / "demo.png"), "demo.png", "--force")
    assert (tmp_path / "demo.png").read_bytes() == b"mine"


def test_output_has_the_usual_file_mode(traces_npy):
    import os
    import stat

    assert run("predict", traces_npy, "--fps", 30).exit_code == 0
    umask = os.umask(0)
    os.umask(umask)
    mode = stat.S_IMODE(traces_npy.with_name("rec.spikes.npy").stat().st_mode)
    assert mode == 0o666 & ~umask


@pytest.mark.parametrize("model, param, message", [
    ("oasis", "smoothing_s=null", "smoothing_s"),
    ("oasis", "smoothing_s=\"a\"", "smoothing_s"),
    ("oasis", "ar_order=3", "ar_order"),
    ("oasis", "no_such=1", "no_such"),
    ("default", "smoothing_s=-1", "smoothing_s"),
    ("default", "steps=0", "steps"),
    ("default", "loss=\"l1\"", "loss"),
    ("conv16", "noise_levels=[4]", "noise_levels"),
    ("elephant", "ar_order=1", "ar_order"),
])
def test_train_refuses_bad_hyper_parameters(tmp_path, data_dir, model, param, message):
    result = run("train", "--model", model, "--data", data_dir / "cascade_gt", "--exclude",
                 ",".join(f"DS{i:02d}" for i in range(1, 41) if i != 9), "--param", param,
                 "-o", tmp_path / "m")
    assert_one_line_error(result, message)
    assert not (tmp_path / "m" / "model.json").exists()


@pytest.mark.parametrize("content, message", [
    ("[1, 2]", "expected a JSON object"),
    ('{"card": {"architecture": "oasis"}, "params": {}, "state": []}', "expected an object"),
    ('{"card": {"architecture": "oasis"}, "params": {}, "state": {"spike_amplitude_dff_": "x",'
     ' "delay_s_": 0, "n_training_neurons_": 1}}', "not a finite number"),
    ('{"card": {"architecture": "oasis"}, "params": {}, "state": {"predict": 1}}', "expected"),
    ('{"card": {"architecture": "pickle"}, "params": {}, "state": {}}', "unknown architecture"),
    ("not json", "not a readable model file"),
])
def test_malformed_model_files_give_one_line(tmp_path, traces_npy, content, message):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.json").write_text(content)
    assert_one_line_error(run("predict", traces_npy, "--fps", 30, "--model", tmp_path / "m",
                              "-o", tmp_path / "out.npy"), "model.json", message)
    assert not (tmp_path / "out.npy").exists()


def test_constant_stretch_between_nans_is_left_nan(tmp_path, simulated):
    y = simulated.traces.copy()
    y[1, 600:700] = np.nan
    y[1, 700:900] = 0.25
    y[1, 900:910] = np.nan
    np.save(tmp_path / "flat.npy", y)
    result = run("predict", tmp_path / "flat.npy", "--fps", 30)
    assert result.exit_code == 0, result.output
    assert "constant stretches" in result.stderr
    out = np.load(tmp_path / "flat.spikes.npy")
    assert np.isnan(out[1, 600:910]).all() and np.isfinite(out[1, :600]).all()


def test_benchmark_gt_scores_each_dataset_with_and_without_degradation(data_dir):
    folder = data_dir / "cascade_gt" / "DS12-GCaMP6s-m-V1-neuropil-corrected"
    native = run("benchmark", "gt", folder, "--model", "oasis", "--json")
    assert native.exit_code == 0, native.output
    doc = json.loads(native.stdout)["datasets"]
    assert list(doc) == ["DS12-GCaMP6s-m-V1-neuropil-corrected"]
    assert doc[list(doc)[0]]["n"] == 6
    degraded = run("benchmark", "gt", folder, "--model", "oasis", "--fps", 30, "--noise", 8,
                   "--seed", 1, "--json")
    noisy = json.loads(degraded.stdout)["datasets"]
    assert noisy[list(noisy)[0]]["corr"] < doc[list(doc)[0]]["corr"]
    again = run("benchmark", "gt", folder, "--model", "oasis", "--fps", 30, "--noise", 8,
                "--seed", 1, "--json")
    assert json.loads(again.stdout) == json.loads(degraded.stdout)
    (native_scores,), (noisy_scores,) = doc.values(), noisy.values()
    assert "lag" not in native_scores
    assert abs(noisy_scores["lag"]) <= 1  # frames at 30 Hz (searched over +-3)


@pytest.mark.parametrize("args, message", [
    (["--models", "oasis,nope"], "nope"),
    (["--models", "default", "--param", "default:steps=0"], "steps"),
    (["--models", "default", "--param", "oasis:ar_order=1"], "MODEL:NAME=VALUE"),
    (["--models", "oasis", "--folds", "99"], "folds"),
])
def test_benchmark_cv_refuses_bad_arguments(data_dir, args, message):
    assert_one_line_error(run("benchmark", "cv", "--data", data_dir, *args), message)


def test_benchmark_speed_reports_time_memory_and_ratio():
    result = run("benchmark", "speed", "--models", "default,default+estimates,oasis",
                 "--neurons", 3, "--hours", 0.02, "--repeats", 1, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    default = doc["models"]["default"]
    assert doc["baseline"] == "oasis" and doc["models"]["oasis"]["median_ratio_to_oasis"] == 1
    assert default["median_ratio_to_oasis"] == pytest.approx(
        default["median_s"] / doc["models"]["oasis"]["median_s"])
    assert default["peak_mb"] >= default["data_mb"] > 0
    assert default["runs"][0]["spikes"] > 0
    # the whole-recording path predicts the network's spikes less what noise alone makes
    whole = doc["models"]["default+estimates"]["runs"][0]["spikes"]
    assert 0.5 * default["runs"][0]["spikes"] < whole < default["runs"][0]["spikes"]


def test_benchmark_speed_refuses_an_unknown_suffix():
    assert_one_line_error(run("benchmark", "speed", "--models", "default+everything"),
                          "suffix")


@pytest.mark.parametrize("name, extra", [("sim.npy", []), ("sim.h5", []),
                                         ("1.train.calcium.csv", ["--fps", 100])])
def test_simulate_writes_traces_with_their_spikes(tmp_path, name, extra):
    from spikeinfer.io import load_counts, load_traces
    from spikeinfer.signals import compute_noise_level

    out = tmp_path / name
    result = run("simulate", "-o", out, "--indicator", "GCaMP6s", "--neurons", 3,
                 "--duration", 20, "--noise", 3, "--seed", 1, *extra)
    assert result.exit_code == 0, result.output
    truth = {".npy": tmp_path / "sim.truth.npy", ".h5": tmp_path / "sim.truth.h5",
             ".csv": tmp_path / "1.train.spikes.csv"}[out.suffix]
    fps = 100.0 if extra else 30.0
    ts = load_traces(out, fps=fps if out.suffix == ".npy" else None)
    counts, _ = load_counts(truth)
    assert ts.traces.shape == counts.shape == (3, int(20 * fps))
    assert 0 < counts.sum() < 3 * 20 * 2  # rate 0.5 Hz
    assert np.allclose(compute_noise_level(ts.traces, fps), 3.0, rtol=0.01)
    again = tmp_path / ("again" + name)
    assert run("simulate", "-o", again, "--indicator", "GCaMP6s", "--neurons", 3,
               "--duration", 20, "--noise", 3, "--seed", 1, *extra).exit_code == 0
    assert again.read_bytes() == out.read_bytes()


@pytest.mark.parametrize("args, fragments", [
    (["--neurons", 0], ["--neurons", "at least 1"]),
    (["--noise", -1], ["--noise"]),
    (["--shot-noise", 2], ["--shot-noise"]),
    (["--duration", 0.01], ["--duration"]),
    (["--fps", 0], ["--fps", "frame rate"]),
    (["--indicator", "GCaMP99"], ["GCaMP99", "GCaMP6s"]),
    (["-o", "sim.calcium.csv"], ["sim.calcium.csv", "100 Hz"]),
    (["-o", "sim.txt"], ["sim.txt", ".npy"]),
    (["-o", "sim.csv"], ["sim.csv", ".calcium.csv"]),
])
def test_simulate_bad_options_give_one_line_and_no_output(tmp_path, monkeypatch, args,
                                                          fragments):
    monkeypatch.chdir(tmp_path)
    result = run("simulate", "-o", "sim.npy", "--duration", 10, *args)
    assert_one_line_error(result, *fragments)
    assert list(tmp_path.iterdir()) == []


def test_simulate_keeps_existing_files(tmp_path):
    (tmp_path / "sim.truth.npy").write_bytes(b"mine")
    assert_one_line_error(run("simulate", "-o", tmp_path / "sim.npy"), "sim.truth.npy",
                          "--force")
    assert (tmp_path / "sim.truth.npy").read_bytes() == b"mine"
    assert not (tmp_path / "sim.npy").exists()


def test_simulate_indicators_list_shows_every_preset():
    from spikeinfer.io import INDICATORS

    result = run("indicators", "list")
    assert result.exit_code == 0, result.output
    rows = [line.split("|")[1].strip() for line in result.stdout.splitlines()[2:]]
    assert rows == list(INDICATORS)
    table = json.loads(run("indicators", "list", "--json").stdout)
    assert table["indicators"]["GCaMP6s"]["tau_decay_s"] > 0


def test_adapt_fine_tunes_on_the_nearest_ground_truth_and_gives_a_loadable_model(
        tmp_path, data_dir):
    from spikeinfer.embedding import Embedding
    from spikeinfer.io import load_cascade_collection
    from spikeinfer.models import load_model, read_card

    gt = tmp_path / "gt"
    gt.mkdir()
    for name in ("DS05-Cal520-zf-pDp", "DS23-OGB1-m-PV-V1"):
        (gt / name).symlink_to(data_dir / "cascade_gt" / name)
    data = load_cascade_collection(gt, quiet=True)
    embedding = Embedding(predictive=False).fit(data)
    embedding.save(tmp_path / "embedding")
    recording = next(ts for ts in data if ts.dataset.startswith("DS23")).subset([0, 1])
    traces = recording.traces[:, :recording.lengths.min()]
    np.save(tmp_path / "rec.npy", traces)
    out = tmp_path / "adapted"
    result = run("adapt", tmp_path / "rec.npy", "--fps", recording.fps, "--data", gt,
                 "--embedding", tmp_path / "embedding", "-k", 1, "--steps", 4, "-o", out)
    assert result.exit_code == 0, result.output
    card = read_card(out)["card"]
    assert card["adaptation"]["datasets"] == embedding.nearest_datasets(traces, recording.fps, 1)
    assert card["adaptation"]["base_model"] == "default"
    model = load_model(out)
    assert model.get_params()["warm_start"] is True
    spikes = model.predict(recording.traces[:, :600], recording.fps)
    assert spikes.shape == (2, 600) and np.all(spikes[np.isfinite(spikes)] >= 0)
    # Not twice into the same folder without --force.
    assert_one_line_error(run("adapt", tmp_path / "rec.npy", "--fps", recording.fps, "-o", out),
                          str(out), "--force")


# --- folders, progress, Ctrl-C, worker counts, messages that name their files ----------

def _suite2p_planes(root, traces, planes):
    for plane in planes:
        folder = root / "suite2p" / plane
        folder.mkdir(parents=True)
        raw = 500.0 * (1 + traces)
        np.save(folder / "F.npy", raw.astype(np.float32))
        np.save(folder / "Fneu.npy", np.zeros_like(raw, dtype=np.float32))
        np.save(folder / "iscell.npy", np.ones((raw.shape[0], 2)))
        np.save(folder / "ops.npy", np.array({"fs": 30.0}, dtype=object), allow_pickle=True)
    return root / "suite2p"


@pytest.mark.parametrize("existing", [False, True])
def test_a_single_plane_suite2p_folder_goes_into_an_output_folder(tmp_path, simulated,
                                                                  existing):
    suite2p = _suite2p_planes(tmp_path, simulated.traces[:4], ["plane0"])
    if existing:
        (tmp_path / "out").mkdir()
    result = run("predict", suite2p, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["suite2p-plane0.spikes.h5"]
    from spikeinfer.io import read_prediction

    spikes = read_prediction(tmp_path / "out" / "suite2p-plane0.spikes.h5")["spikes"]
    assert spikes.shape == (4, simulated.n_frames)


def test_progress_bars_only_on_a_terminal_and_the_summary_on_its_own_line(
        traces_npy, monkeypatch):
    import spikeinfer.cli.predict

    result = run("predict", traces_npy, "--fps", 30, "-o", traces_npy.with_name("a.h5"))
    assert result.exit_code == 0, result.output
    assert "predicting" not in result.stderr  # CliRunner's stderr is no terminal
    monkeypatch.setattr(spikeinfer.cli.predict, "show_progress", lambda: True)
    result = run("predict", traces_npy, "--fps", 30, "-o", traces_npy.with_name("b.h5"))
    assert result.exit_code == 0, result.output
    assert "predicting" in result.stderr
    summary = re.search(r"\d+ neurons x \d+ frames", result.output).start()
    assert result.output[summary - 1] in "\r\n", repr(result.output[summary - 40:summary + 5])


def test_ctrl_c_mid_run_stops_with_130_and_keeps_the_parts_for_resume(tmp_path, simulated,
                                                                        monkeypatch):
    import spikeinfer.inference
    from spikeinfer.io import read_prediction

    np.save(tmp_path / "rec.npy", simulated.traces)
    args = ("predict", tmp_path / "rec.npy", "--fps", 30, "--chunk-neurons", 1)
    assert run(*args, "-o", tmp_path / "clean.h5").exit_code == 0
    predict_chunk, calls = spikeinfer.inference.predict_chunk, []

    def interrupted_at_the_third_chunk(*a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return predict_chunk(*a, **k)

    monkeypatch.setattr(spikeinfer.inference, "predict_chunk", interrupted_at_the_third_chunk)
    target, parts = tmp_path / "out.h5", tmp_path / ".out.h5.parts"
    result = run(*args, "-o", target)
    assert result.exit_code == 130, result.output
    assert result.stderr.strip().splitlines() == ["spikeinfer: interrupted"]
    assert not target.exists()
    assert len(list(parts.glob("rows-*.npz"))) == 2
    calls.clear()
    result = run(*args, "-o", target, "--resume")
    assert result.exit_code == 0, result.output
    assert len(calls) == simulated.n_neurons - 2  # only the chunks not kept
    np.testing.assert_array_equal(read_prediction(target)["spikes"],
                                  read_prediction(tmp_path / "clean.h5")["spikes"])
    assert not parts.exists()


def test_ctrl_c_while_the_libraries_load_gives_one_line_and_130(tmp_path):
    # Ctrl-C in the first seconds lands in an import: here, that of scipy.
    code = ("import sys\n"
            "class Interrupt:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'scipy':\n"
            "            raise KeyboardInterrupt\n"
            "sys.meta_path.insert(0, Interrupt())\n"
            "sys.argv = ['spikeinfer', '--help']\n"
            "from spikeinfer.cli import main\n"
            "main()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 130, done.stderr
    assert done.stderr == "spikeinfer: interrupted\n"


@pytest.mark.slow
def test_sigint_to_a_running_predict_stops_it_for_resume(tmp_path):
    import signal
    import time

    from spikeinfer.io import read_prediction
    from spikeinfer.simulate import simulate_recording

    rec = simulate_recording(n_neurons=40, duration_s=300.0, fps=30.0, random_state=9)
    np.save(tmp_path / "rec.npy", rec.traces.astype(np.float32))
    command = [sys.executable, "-m", "spikeinfer", "predict", str(tmp_path / "rec.npy"),
               "--fps", "30", "--chunk-neurons", "4"]
    target, parts = tmp_path / "out.h5", tmp_path / ".out.h5.parts"
    process = subprocess.Popen(command + ["-o", str(target)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not list(parts.glob("rows-*.npz")) and process.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate()
    assert process.returncode == 130, err
    assert err.strip().splitlines() == ["spikeinfer: interrupted"] and out == ""
    assert not target.exists() and list(parts.glob("rows-*.npz"))
    result = run(*command[3:], "-o", target, "--resume")
    assert result.exit_code == 0, result.output
    assert not parts.exists()
    assert read_prediction(target)["spikes"].shape == rec.traces.shape


@pytest.mark.parametrize("workers", [0, -2])
def test_workers_below_one_give_one_line_before_dask_is_needed(traces_npy, monkeypatch,
                                                                workers):
    monkeypatch.setitem(sys.modules, "dask", None)  # as if dask were not installed
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    result = run("predict", traces_npy, "--fps", 30, "--workers", workers)
    assert_one_line_error(result, f"--workers {workers}", "1 or more")
    assert not traces_npy.with_name("rec.spikes.npy").exists()


def test_train_messages_name_their_files_and_options(tmp_path, data_dir):
    gt = tmp_path / "gt"
    gt.mkdir()
    (gt / "DS23-OGB1-m-PV-V1").symlink_to(data_dir / "cascade_gt" / "DS23-OGB1-m-PV-V1")
    result = run("train", "--data", gt, "--exclude", "DS23", "-o", tmp_path / "m")
    assert_one_line_error(result, str(gt), "--exclude DS23")
    # a bad hyper-parameter fails before the ground truth is read, and says which option
    result = run("train", "--data", tmp_path / "missing", "--param", "no_such=1",
                 "-o", tmp_path / "m")
    assert_one_line_error(result, "--param", "no_such")
    assert not (tmp_path / "m").exists()


def test_adapt_messages_name_the_recording_model_and_ground_truth(tmp_path, simulated,
                                                                  data_dir):
    gt = tmp_path / "gt"
    gt.mkdir()
    (gt / "DS23-OGB1-m-PV-V1").symlink_to(data_dir / "cascade_gt" / "DS23-OGB1-m-PV-V1")
    np.save(tmp_path / "rec.npy", simulated.traces)
    result = run("adapt", tmp_path / "rec.npy", "--fps", 30, "--model", "oasis", "--data", gt,
                 "-o", tmp_path / "m")
    assert_one_line_error(result, str(tmp_path / "rec.npy"), "oasis", str(gt),
                          "only networks")
    assert not (tmp_path / "m").exists()
