"""What ``spikeinfer predict`` writes: provenance, estimates and flags, NWB write-back,
figures, what the input held, and suite2p's NWB layout."""

import json
from datetime import datetime, timezone

import numpy as np
import pytest
from click.testing import CliRunner
from test_io_formats import N_FRAMES, _nwb_file, _raw

from spikeinfer.cli import main
from spikeinfer.inference import CountError
from spikeinfer.io import load_traces, read_prediction, sha256_of
from spikeinfer.io._nwb import read_nwb
from spikeinfer.io._suite2p import read_suite2p
from spikeinfer.models import load_model
from spikeinfer.simulate import simulate_recording

quiet_pynwb = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning",
                                         "ignore::FutureWarning")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_every_output_records_its_provenance_and_estimates(tmp_path, traces_npy):
    for suffix in (".npy", ".h5", ".zarr"):
        out = tmp_path / f"out{suffix}"
        result = run("predict", traces_npy, "--fps", 30, "-o", out, "--spike-times",
                     "--uncertainty")
        assert result.exit_code == 0, result.output
        prediction = read_prediction(out)
        p = prediction["provenance"]
        card = load_model("default").card_
        assert p["model"] == "default" and p["model_version"] == card["version"]
        assert p["count_error_log_sd"] == (card.get("count_error_log_sd") or CountError().log_sd)
        assert p["package_version"] and p["model_params"]["network"] == "default"
        assert p["input"] == str(traces_npy) and p["input_sha256"] == sha256_of(traces_npy)
        assert datetime.fromisoformat(p["run_at"]).tzinfo == timezone.utc
        assert prediction["spikes"].shape == (4, 1800)
        assert np.all(prediction["lower"] <= prediction["upper"])
        assert len(prediction["spike_times"]) == 4 and len(prediction["quality"]) == 4
    side = json.loads((tmp_path / "out.json").read_text())
    assert len(side["estimates"]["noise_level"]) == 4 and "tau_decay_s" in side[
        "recording_estimates"]


@quiet_pynwb
def test_nwb_input_gives_a_new_nwb_file_linked_to_its_rois(tmp_path):
    from nwbinspector import Importance, inspect_nwbfile
    from pynwb import NWBHDF5IO

    source = tmp_path / "session.nwb"
    active = simulate_recording(n_neurons=4, duration_s=N_FRAMES / 30.0, fps=30.0,
                                random_state=1).traces.astype(np.float32)
    _nwb_file(source, containers=(("DfOverF", "dff"),), roi_ids=(10, 11, 12, 13), complete=True,
              traces=active)
    assert not [m for m in inspect_nwbfile(nwbfile_path=str(source))
                if m.importance in (Importance.ERROR, Importance.CRITICAL)]
    before = source.read_bytes()
    result = run("predict", source, "--spike-times", "--uncertainty")
    assert result.exit_code == 0, result.output
    assert source.read_bytes() == before  # the input is never touched
    out = tmp_path / "session.spikes.nwb"
    with NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        module = nwb.processing["spikeinfer"]
        series = module["expected_spikes"]
        assert series.data.shape == (N_FRAMES, 4) and series.rate == 30.0
        assert series.rois.table is nwb.processing["ophys"]["ImageSegmentation"][
            "PlaneSegmentation"]
        assert list(series.rois.data[:]) == [0, 1, 2, 3]
        assert "expected_spikes_lower" in module.data_interfaces
        table = module["spike_times"]
        assert len(table) == 4 and list(table["roi"].data[:]) == [0, 1, 2, 3]
        np.testing.assert_array_equal(nwb.processing["ophys"]["DfOverF"]["dff"].data[:],
                                      read_nwb(source).traces.T)  # the input's data kept
        assert "input_sha256" in module.description
    problems = [m for m in inspect_nwbfile(nwbfile_path=str(out))
                if m.importance in (Importance.ERROR, Importance.CRITICAL)]
    assert not problems, problems


def test_plot_draws_the_chosen_neurons_in_png_and_svg(tmp_path, data_dir):
    from matplotlib import image

    calcium = data_dir / "spikefinder" / "train" / "6.train.calcium.csv"
    truth_input = tmp_path / "6.train.calcium.csv"
    truth_input.write_text(calcium.read_text())
    (tmp_path / "6.train.spikes.csv").write_text(
        (data_dir / "spikefinder" / "train" / "6.train.spikes.csv").read_text())
    out = tmp_path / "p.h5"
    result = run("predict", truth_input, "-o", out, "--spike-times", "--uncertainty")
    assert result.exit_code == 0, result.output
    for suffix in (".png", ".svg"):
        figure = tmp_path / f"fig{suffix}"
        result = run("plot", out, "--input", truth_input, "--neurons", "0,3,7", "--start", 10,
                     "--duration", 30, "-o", figure)
        assert result.exit_code == 0, result.output
        assert figure.stat().st_size > 10_000
    assert image.imread(tmp_path / "fig.png").shape[0] > 1000  # 3 neurons + raster + rate
    svg = (tmp_path / "fig.svg").read_text()
    assert svg.count("neuron ") >= 3


def test_the_drawn_rate_is_the_binned_spikes_and_lies_in_its_interval():
    from spikeinfer.plotting.predictions import binned_rate

    spikes = np.tile([0.0, 0.2, 0.1, 0.0, 0.5], 60)  # 300 frames at 50 Hz: 5 per 100 ms bin
    edges, rate, low, high = binned_rate(spikes, 50.0, 10, 260, log_sd=0.5)
    np.testing.assert_allclose(edges, np.arange(10, 261, 5) / 50.0)
    np.testing.assert_allclose(rate, 0.8 / 0.1)  # 0.8 expected spikes per 0.1 s
    assert np.all(low <= rate) and np.all(rate <= high) and np.all(high > low)
    assert binned_rate(spikes, 50.0, 10, 260)[2] is None  # no interval without the error


def test_plot_refuses_rows_not_in_the_prediction(tmp_path, traces_npy):
    run("predict", traces_npy, "--fps", 30, "-o", tmp_path / "p.h5")
    result = run("plot", tmp_path / "p.h5", "--neurons", "0,9", "-o", tmp_path / "f.png")
    assert result.exit_code == 2 and "neurons [9]" in result.stderr


@pytest.mark.parametrize("kind, transform", [
    ("raw", lambda x: 800.0 * (1 + x)), ("percent", lambda x: 100.0 * x)])
def test_raw_and_percent_inputs_are_recognised_and_converted(tmp_path, simulated, kind,
                                                             transform):
    np.save(tmp_path / "x.npy", transform(simulated.traces))
    with pytest.warns(UserWarning, match="converted to dF/F"):
        ts = load_traces(tmp_path / "x.npy", fps=30.0)
    assert ts.meta["input_kind"] == kind
    scale = np.std(ts.traces) / np.std(simulated.traces)
    assert 0.7 < scale < 1.4  # back in units of dF/F
    as_is = load_traces(tmp_path / "x.npy", fps=30.0, input_kind="dff")
    np.testing.assert_allclose(as_is.traces, transform(simulated.traces))


def test_dff_input_is_read_as_it_is(traces_npy, simulated):
    ts = load_traces(traces_npy, fps=30.0)
    assert ts.meta["input_kind"] == "dff"
    np.testing.assert_array_equal(ts.traces, simulated.traces)


@quiet_pynwb
def test_suite2p_layout_nwb_reads_as_its_suite2p_folder(tmp_path):
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.ophys import Fluorescence, ImageSegmentation, OpticalChannel

    f, fneu = _raw(5, 1), 0.3 * _raw(5, 2)
    iscell = np.array([[1, 0.9], [0, 0.2], [1, 0.8], [1, 0.7], [0, 0.1]])
    folder = tmp_path / "plane0"
    folder.mkdir()
    np.save(folder / "F.npy", f)
    np.save(folder / "Fneu.npy", fneu)
    np.save(folder / "iscell.npy", iscell)
    nwb = NWBFile(session_description="s2p", identifier="s2p",
                  session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc))
    device = nwb.create_device(name="Microscope")
    plane = nwb.create_imaging_plane(
        name="ImagingPlane", optical_channel=OpticalChannel(name="c", description="green",
                                                            emission_lambda=510.0),
        imaging_rate=30.0, description="plane", device=device, excitation_lambda=920.0,
        indicator="GCaMP6s", location="V1")
    ophys = nwb.create_processing_module(name="ophys", description="suite2p")
    segmentation = ImageSegmentation()
    ophys.add(segmentation)
    table = segmentation.create_plane_segmentation(name="PlaneSegmentation",
                                                   description="suite2p", imaging_plane=plane)
    table.add_column(name="iscell", description="two columns: iscell, probcell")
    for row in iscell:
        table.add_roi(image_mask=np.ones((4, 4)), iscell=row)
    fluorescence = Fluorescence()
    ophys.add(fluorescence)
    for name, values in (("Fluorescence", f), ("Neuropil", fneu)):
        region = table.create_roi_table_region(region=list(range(5)), description="all")
        fluorescence.create_roi_response_series(name=name, data=values.T, rois=region,
                                                unit="lumens", rate=30.0)
    with NWBHDF5IO(str(tmp_path / "s2p.nwb"), "w") as io:
        io.write(nwb)
    from_nwb, from_folder = read_nwb(tmp_path / "s2p.nwb"), read_suite2p(folder, fps=30.0)
    assert from_nwb.meta["suite2p_layout"] and from_nwb.neuron_ids == ("0", "2", "3")
    assert from_folder.neuron_ids == ("0", "2", "3")  # ROI identity: suite2p's indices
    np.testing.assert_allclose(from_nwb.traces, from_folder.traces, rtol=1e-5, atol=1e-7)


def test_the_progress_bar_reaches_its_end(tmp_path, simulated, monkeypatch):
    import spikeinfer.cli.predict

    monkeypatch.setattr(spikeinfer.cli.predict, "show_progress", lambda: True)  # a terminal
    np.save(tmp_path / "many.npy", np.tile(simulated.traces, (9, 1)))  # 36 traces
    result = run("predict", tmp_path / "many.npy", "--fps", 30, "--chunk-neurons", 5,
                 "-o", tmp_path / "p.h5")
    assert result.exit_code == 0, result.output
    assert "8/8" in result.stderr and "100%" in result.stderr
