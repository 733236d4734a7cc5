"""Scale and reliability: Dask clusters, big or hostile files, full disks, bad targets."""

import os
import shutil

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from spikeinfer.cli import main
from spikeinfer.inference import predict_dask, predict_recording
from spikeinfer.io import TraceSource, read_prediction
from spikeinfer.models import load_model
from spikeinfer.simulate import simulate_recording


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line_error(result, *fragments):
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


@pytest.fixture(scope="module")
def recording():
    return simulate_recording(n_neurons=8, duration_s=90.0, fps=30.0, indicator="GCaMP6s",
                              random_state=5)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local, \
            distributed.Client(local) as client:
        yield client


@pytest.mark.slow
def test_a_local_cluster_gives_the_single_process_output(recording, cluster):
    import dask.array as da

    model, source = load_model("default"), TraceSource.from_traceset(recording)
    alone = predict_recording(source, model, chunk_neurons=3, spike_times=True)
    spread = predict_recording(source, model, chunk_neurons=3, spike_times=True, client=cluster)
    np.testing.assert_array_equal(spread.spikes, alone.spikes)
    for a, b in zip(spread.spike_times, alone.spike_times):
        np.testing.assert_array_equal(a, b)
    lazy = predict_dask(da.from_array(recording.traces, chunks=(3, 1000)), recording.fps, model)
    assert lazy.shape == recording.traces.shape
    np.testing.assert_array_equal(lazy.compute(), alone.spikes)


@pytest.mark.slow
def test_a_worker_killed_mid_run_does_not_change_the_result(recording, cluster, tmp_path):
    from spikeinfer import inference

    model, source = load_model("default"), TraceSource.from_traceset(recording)
    alone = predict_recording(source, model, chunk_neurons=2)
    marker = tmp_path / "killed"
    original = inference.predict_chunk

    def kill_once(*args, **kwargs):
        try:  # the first worker to take a chunk claims the marker and dies while predicting it
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return original(*args, **kwargs)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        os.kill(os.getpid(), 9)

    cluster.run(lambda: setattr(inference, "predict_chunk", kill_once))
    result = predict_recording(source, model, chunk_neurons=2, client=cluster)
    with pytest.raises(ProcessLookupError):  # it did die
        os.kill(int(marker.read_text()), 0)
    np.testing.assert_array_equal(result.spikes, alone.spikes)


def test_a_npy_header_claiming_more_than_the_file_is_refused(tmp_path):
    from numpy.lib import format as npy_format

    path = tmp_path / "huge.npy"
    with open(path, "wb") as fh:  # 4 TB claimed, 16 bytes held
        npy_format.write_array_header_1_0(fh, {"descr": "<f4", "fortran_order": False,
                                               "shape": (100_000, 10_000_000)})
        fh.write(b"\0" * 16)
    one_line_error(run("predict", path, "--fps", 30), "huge.npy", "not a readable",
                   "truncated")


def test_a_huge_hdf5_dataset_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    path = tmp_path / "huge.h5"
    with h5py.File(path, "w") as fh:  # chunked and empty: a small file, a huge shape
        fh.create_dataset("F", shape=(50_000, 1_000_000), dtype="f4", chunks=(16, 65536))
        fh.attrs["fps"] = 30.0
    one_line_error(run("predict", path, "-o", tmp_path / "out.h5"), "out.h5", "GB")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.h5"]


def test_a_full_disk_gives_one_line_and_no_partial_file(tmp_path, recording, monkeypatch):
    np.save(tmp_path / "rec.npy", recording.traces)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage",
                        lambda p: usage._replace(free=1000))  # a full disk
    for suffix in (".h5", ".npy", ".zarr"):
        one_line_error(run("predict", tmp_path / "rec.npy", "--fps", 30, "-o",
                           tmp_path / f"out{suffix}"), f"out{suffix}", "free")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.npy"]


def test_a_read_only_or_folder_target_gives_one_line_naming_it(tmp_path, recording):
    np.save(tmp_path / "rec.npy", recording.traces)
    (tmp_path / "out.h5").mkdir()
    one_line_error(run("predict", tmp_path / "rec.npy", "--fps", 30, "-o", tmp_path / "out.h5"),
                   str(tmp_path / "out.h5"), "folder")
    one_line_error(run("predict", tmp_path / "rec.npy", "--fps", 30, "-o", "/proc/out.h5"),
                   "/proc/out.h5", "not writable")


@pytest.mark.parametrize("fps", [10000, 0.5])
def test_a_rate_outside_the_models_range_is_warned_of(tmp_path, recording, fps):
    np.save(tmp_path / "rec.npy", recording.traces)
    result = run("predict", tmp_path / "rec.npy", "--fps", fps, "-o", tmp_path / "out.h5")
    assert result.exit_code == 0, result.output
    assert "outside the" in result.stderr and "trained and tested" in result.stderr


def test_an_interrupted_run_is_not_overwritten_without_resume(tmp_path, recording):
    np.save(tmp_path / "rec.npy", recording.traces)
    (tmp_path / ".out.h5.parts").mkdir()
    one_line_error(run("predict", tmp_path / "rec.npy", "--fps", 30, "-o", tmp_path / "out.h5"),
                   "--resume")
    result = run("predict", tmp_path / "rec.npy", "--fps", 30, "-o", tmp_path / "out.h5",
                 "--resume")
    assert result.exit_code == 0, result.output
    assert read_prediction(tmp_path / "out.h5")["spikes"].shape == recording.traces.shape
    assert not (tmp_path / ".out.h5.parts").exists()


def test_a_folder_of_planes_is_one_command(tmp_path, recording):
    for plane in ("plane0", "plane1"):
        folder = tmp_path / "suite2p" / plane
        folder.mkdir(parents=True)
        raw = 500.0 * (1 + recording.traces)
        np.save(folder / "F.npy", raw.astype(np.float32))
        np.save(folder / "Fneu.npy", np.zeros_like(raw, dtype=np.float32))
        np.save(folder / "iscell.npy", np.ones((raw.shape[0], 2)))
        np.save(folder / "ops.npy", np.array({"fs": 30.0}, dtype=object), allow_pickle=True)
    result = run("predict", tmp_path / "suite2p", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "suite2p-plane0.spikes.h5", "suite2p-plane1.spikes.h5"]


@pytest.mark.slow
def test_a_process_killed_mid_run_resumes_to_the_clean_output(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    rec = simulate_recording(n_neurons=40, duration_s=300.0, fps=30.0, random_state=9)
    np.save(tmp_path / "rec.npy", rec.traces.astype(np.float32))
    command = [sys.executable, "-m", "spikeinfer", "predict", str(tmp_path / "rec.npy"),
               "--fps", "30", "--chunk-neurons", "4", "--uncertainty"]
    assert run(*command[3:], "-o", tmp_path / "clean.h5").exit_code == 0
    target, parts = tmp_path / "killed.h5", tmp_path / ".killed.h5.parts"
    process = subprocess.Popen(command + ["-o", str(target)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(list(parts.glob("rows-*.npz"))) < 2 and process.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)  # no handler runs: what a power cut leaves
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not target.exists() and parts.is_dir()
    result = run(*command[3:], "-o", target, "--resume")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.h5", "killed.h5", "rec.npy"]
    clean, resumed = read_prediction(tmp_path / "clean.h5"), read_prediction(target)
    for key in ("spikes", "lower", "upper", "quality"):
        np.testing.assert_array_equal(np.asarray(clean[key]), np.asarray(resumed[key]))
