"""Readers for suite2p folders, NWB and HDF5 files, on files written by the real tools."""

from __future__ import annotations

import os
import pickle
from datetime import datetime, timezone

import h5py
import numpy as np
import pytest

from spikeinfer.exceptions import InputError
from spikeinfer.io._hdf5 import read_hdf5
from spikeinfer.io._nwb import read_nwb
from spikeinfer.io._suite2p import read_suite2p
from spikeinfer.preprocess import compute_dff

# pynwb/hdmf warn about cached namespace versions and the like, which varies
# between releases; the NWB tests check values, not those warnings
quiet_pynwb = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning",
                                         "ignore::FutureWarning")

N_FRAMES = 600


def _raw(n_rois: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (100 + 10 * rng.random((n_rois, N_FRAMES))).astype(np.float32)


# --- suite2p -----------------------------------------------------------------

def _suite2p_folder(tmp_path, n_rois=5, cells=(1, 0, 1, 1, 0), ops=None):
    """A plane folder written the way suite2p writes it: np.save of arrays and of the ops dict."""
    folder = tmp_path / "suite2p" / "plane0"
    folder.mkdir(parents=True)
    f, fneu = _raw(n_rois, 1), _raw(n_rois, 2) * 0.5
    iscell = np.column_stack([np.asarray(cells, float), np.linspace(0.1, 0.9, n_rois)])
    np.save(folder / "F.npy", f)
    np.save(folder / "Fneu.npy", fneu)
    np.save(folder / "iscell.npy", iscell)
    if ops is None:
        # like suite2p's ops: numpy scalars and arrays, lists, strings, a datetime
        ops = {"fs": 30.0, "nframes": np.int64(N_FRAMES), "tau": 1.0,
               "meanImg": np.zeros((8, 8), np.float32), "filelist": ["a.tif"],
               "date_proc": datetime.now(), "badframes": np.zeros(N_FRAMES, bool),
               "xrange": [0, 8], "neucoeff": np.float32(0.7), "save_path": str(folder)}
    if ops is not False:
        np.save(folder / "ops.npy", ops)
    return folder, f, fneu


def test_suite2p_values(tmp_path):
    folder, f, fneu = _suite2p_folder(tmp_path)
    ts = read_suite2p(folder)
    keep = [0, 2, 3]
    expected = compute_dff(f.astype(np.float64)[keep] - 0.7 * fneu[keep], 30.0)
    assert ts.traces.shape == (3, N_FRAMES)
    assert ts.neuron_ids == ("0", "2", "3")
    assert ts.fps == 30.0
    np.testing.assert_allclose(ts.traces, expected, rtol=1e-12)


def test_suite2p_all_rois_and_coefficient(tmp_path):
    folder, f, fneu = _suite2p_folder(tmp_path)
    ts = read_suite2p(folder, neuropil_coefficient=0.5, only_cells=False)
    assert ts.neuron_ids == tuple("01234")
    np.testing.assert_allclose(ts.traces, compute_dff(f.astype(np.float64) - 0.5 * fneu, 30.0))


def test_suite2p_fps_argument(tmp_path):
    folder, _, _ = _suite2p_folder(tmp_path)
    assert read_suite2p(folder, fps=30.1).fps == 30.1  # within 1%: the argument wins
    with pytest.raises(InputError, match="disagrees with ops.npy"):
        read_suite2p(folder, fps=15.0)


def test_suite2p_no_frame_rate(tmp_path):
    folder, _, _ = _suite2p_folder(tmp_path, ops=False)
    with pytest.raises(InputError, match=r"plane0: no frame rate in ops.npy; pass --fps"):
        read_suite2p(folder)
    assert read_suite2p(folder, fps=20.0).fps == 20.0


def test_suite2p_ops_without_fs(tmp_path):
    folder, _, _ = _suite2p_folder(tmp_path, ops={"tau": 1.0})
    with pytest.raises(InputError, match="no frame rate in ops.npy; pass --fps"):
        read_suite2p(folder)


def test_suite2p_ops_from_numpy_1(tmp_path):
    # numpy 1.x wrote numpy.core.* globals, and protocol 2 stores bytes via _codecs
    folder, _, _ = _suite2p_folder(tmp_path)
    arr = np.empty((), dtype=object)
    arr[()] = {"fs": np.float64(15.0), "meanImg": np.ones((2, 2))}
    payload = pickle.dumps(arr, protocol=2).replace(b"numpy._core.", b"numpy.core.")
    assert b"numpy.core.multiarray\n_reconstruct" in payload
    with open(folder / "ops.npy", "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, np.lib.format.header_data_from_array_1_0(arr))
        fh.write(payload)
    assert read_suite2p(folder).fps == 15.0


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_suite2p_malicious_ops_refused(tmp_path):
    folder, _, _ = _suite2p_folder(tmp_path)
    marker = tmp_path / "pwned"
    np.save(folder / "ops.npy", {"fs": 30.0, "x": _Exploit(marker)}, allow_pickle=True)
    with pytest.raises(InputError, match=r"ops.npy: refusing .*system"):
        read_suite2p(folder)
    with pytest.raises(InputError, match="refusing"):
        read_suite2p(folder, fps=30.0)  # a given fps does not skip the check
    assert not marker.exists()


def test_suite2p_pickled_traces_refused(tmp_path):
    folder, _, _ = _suite2p_folder(tmp_path)
    np.save(folder / "F.npy", np.array([_Exploit(tmp_path / "pwned")], dtype=object))
    with pytest.raises(InputError, match=r"F.npy: holds pickled objects"):
        read_suite2p(folder)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("name", ["F.npy", "Fneu.npy", "iscell.npy"])
def test_suite2p_missing_file(tmp_path, name):
    folder, _, _ = _suite2p_folder(tmp_path)
    (folder / name).unlink()
    with pytest.raises(InputError, match=f"{name}: file not found"):
        read_suite2p(folder)


@pytest.mark.parametrize("name", ["F.npy", "ops.npy"])
def test_suite2p_garbage_file(tmp_path, name):
    folder, _, _ = _suite2p_folder(tmp_path)
    (folder / name).write_bytes(b"\x93NUMPY garbage" + bytes(range(40)))
    with pytest.raises(InputError, match=name.replace(".", r"\.")):
        read_suite2p(folder)


def test_suite2p_truncated_ops(tmp_path):
    folder, _, _ = _suite2p_folder(tmp_path)
    data = (folder / "ops.npy").read_bytes()
    (folder / "ops.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"ops\.npy: not a readable ops\.npy"):
        read_suite2p(folder)


def test_suite2p_shape_mismatch(tmp_path):
    folder, _, _ = _suite2p_folder(tmp_path)
    np.save(folder / "Fneu.npy", _raw(4))
    with pytest.raises(InputError, match=r"Fneu.npy: shape \(4, 600\) does not match"):
        read_suite2p(folder)
    np.save(folder / "Fneu.npy", _raw(5))
    np.save(folder / "iscell.npy", np.ones((3, 2)))
    with pytest.raises(InputError, match="iscell.npy: 3 rows for 5 ROIs"):
        read_suite2p(folder)


def test_suite2p_no_cells(tmp_path):
    folder, _, _ = _suite2p_folder(tmp_path, cells=(0, 0, 0, 0, 0))
    with pytest.raises(InputError, match="no ROI is marked as a cell"):
        read_suite2p(folder)


# --- NWB ---------------------------------------------------------------------

def _nwb_file(path, containers=(("Fluorescence", "RoiResponseSeries"),), n_rois=4,
              rate=30.0, timestamps=None, roi_ids=(10, 11, 12, 13), complete=False,
              traces=None):
    """Write an NWB file with one ROI table and RoiResponseSeries of data (frames, ROIs):
    ``traces`` (ROIs, frames), else raw-like noise; ``complete`` adds the subject and
    metadata a shared file should have."""
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.file import Subject
    from pynwb.ophys import DfOverF, Fluorescence, ImageSegmentation, OpticalChannel

    extra = {"subject": Subject(subject_id="m1", species="Mus musculus", sex="F", age="P60D"),
             "experimenter": ["Doe, Jane"], "institution": "Lab",
             "experiment_description": "two-photon imaging"} if complete else {}
    nwb = NWBFile(session_description="test", identifier="test",
                  session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc), **extra)
    device = nwb.create_device(name="Microscope")
    channel = OpticalChannel(name="OpticalChannel", description="green", emission_lambda=510.0)
    plane = nwb.create_imaging_plane(
        name="ImagingPlane", optical_channel=channel, imaging_rate=30.0, description="plane",
        device=device, excitation_lambda=920.0, indicator="GCaMP6f", location="V1")
    ophys = nwb.create_processing_module(name="ophys", description="optical physiology")
    segmentation = ImageSegmentation()
    ophys.add(segmentation)
    table = segmentation.create_plane_segmentation(
        name="PlaneSegmentation", description="rois", imaging_plane=plane)
    for roi_id in roi_ids:
        table.add_roi(image_mask=np.ones((4, 4)), id=roi_id)
    data = {}
    kinds = {"Fluorescence": Fluorescence, "DfOverF": DfOverF}
    by_container = {}
    for i, (container, name) in enumerate(containers):
        values = _raw(n_rois, 10 + i) if traces is None else traces
        data[container, name] = values.T  # NWB is (frames, ROIs)
        by_container.setdefault(container, []).append((name, data[container, name]))
    for container, series in by_container.items():
        # added to ophys before the series, so the ROI region and its table share ancestors
        interface = kinds[container]()
        ophys.add(interface)
        for name, values in series:
            region = table.create_roi_table_region(
                region=list(range(n_rois)), description="all rois")
            timing = {"rate": rate} if timestamps is None else {"timestamps": timestamps}
            interface.create_roi_response_series(name=name, data=values, rois=region,
                                                 unit="lumens", **timing)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return data


@quiet_pynwb
def test_nwb_fluorescence_converted_to_dff(tmp_path):
    path = tmp_path / "rec.nwb"
    data = _nwb_file(path)
    ts = read_nwb(path)
    raw = data["Fluorescence", "RoiResponseSeries"]
    assert ts.traces.shape == (4, N_FRAMES)
    assert ts.fps == 30.0
    assert ts.neuron_ids == ("10", "11", "12", "13")
    assert ts.indicator == "GCaMP6f"
    assert ts.meta["converted_to_dff"] is True
    np.testing.assert_allclose(ts.traces, compute_dff(raw.T.astype(np.float64), 30.0))


@quiet_pynwb
def test_nwb_dff_used_as_is_and_preferred(tmp_path):
    path = tmp_path / "rec.nwb"
    data = _nwb_file(path, containers=(("Fluorescence", "raw"), ("DfOverF", "dff")))
    ts = read_nwb(path)
    assert ts.meta["converted_to_dff"] is False
    np.testing.assert_array_equal(ts.traces, data["DfOverF", "dff"].T)  # transposed, unchanged
    assert read_nwb(path, series="Fluorescence/raw").meta["converted_to_dff"] is True
    assert read_nwb(path, series="raw").meta["series"] == "Fluorescence/raw"


@quiet_pynwb
def test_nwb_ambiguous_series(tmp_path):
    path = tmp_path / "rec.nwb"
    data = _nwb_file(path, containers=(("DfOverF", "a"), ("DfOverF", "b")))
    with pytest.raises(InputError, match=r"several RoiResponseSeries \(DfOverF/a, DfOverF/b\)"):
        read_nwb(path)
    np.testing.assert_array_equal(read_nwb(path, series="b").traces, data["DfOverF", "b"].T)
    with pytest.raises(InputError, match=r"no RoiResponseSeries 'c'.*DfOverF/a"):
        read_nwb(path, series="c")


@quiet_pynwb
def test_nwb_frame_rate_from_timestamps(tmp_path):
    path = tmp_path / "rec.nwb"
    _nwb_file(path, containers=(("DfOverF", "dff"),), timestamps=np.arange(N_FRAMES) / 20.0)
    assert read_nwb(path).fps == pytest.approx(20.0)
    with pytest.raises(InputError, match="disagrees"):
        read_nwb(path, fps=40.0)


@quiet_pynwb
def test_nwb_garbage_file(tmp_path):
    path = tmp_path / "broken.nwb"
    path.write_bytes(b"not an hdf5 file at all" * 10)
    with pytest.raises(InputError, match=r"broken\.nwb: not a readable NWB file"):
        read_nwb(path)


@quiet_pynwb
def test_nwb_plain_hdf5_is_not_nwb(tmp_path):
    path = tmp_path / "plain.h5"
    with h5py.File(path, "w") as fh:
        fh["traces"] = np.zeros((2, 10))
    with pytest.raises(InputError, match=r"plain\.h5"):
        read_nwb(path)


@quiet_pynwb
def test_nwb_truncated_file(tmp_path):
    path = tmp_path / "cut.nwb"
    _nwb_file(path)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(InputError, match=r"cut\.nwb"):
        read_nwb(path)


# --- HDF5 --------------------------------------------------------------------

def test_hdf5_single_dataset_with_fps_attribute(tmp_path):
    path = tmp_path / "traces.h5"
    x = _raw(3)
    with h5py.File(path, "w") as fh:
        fh.create_dataset("group/dff", data=x).attrs["frame_rate"] = 25.0
        fh["group/mask"] = np.ones((3, 3), bool)  # not numeric traces: not a candidate
        fh["info"] = np.arange(5)  # 1-D: not a candidate
    ts = read_hdf5(path)
    assert ts.fps == 25.0
    assert ts.neuron_ids == ("0", "1", "2")
    assert ts.meta["dataset"] == "/group/dff"
    np.testing.assert_array_equal(ts.traces, x)


def test_hdf5_root_attribute_and_orientation(tmp_path):
    path = tmp_path / "traces.h5"
    x = _raw(3)
    with h5py.File(path, "w") as fh:
        fh.attrs["fs"] = np.array([7.5])
        fh["traces"] = x.T  # frames x neurons
    with pytest.raises(InputError, match="ambiguous orientation"):
        read_hdf5(path)
    ts = read_hdf5(path, orientation="frames-by-neurons")
    assert ts.fps == 7.5
    np.testing.assert_array_equal(ts.traces, x)


def test_hdf5_fps_argument_wins(tmp_path):
    path = tmp_path / "traces.h5"
    with h5py.File(path, "w") as fh:
        fh.create_dataset("traces", data=_raw(2)).attrs["fps"] = 30.0
    assert read_hdf5(path, fps=10.0).fps == 10.0


def test_hdf5_no_frame_rate(tmp_path):
    path = tmp_path / "traces.h5"
    with h5py.File(path, "w") as fh:
        fh["traces"] = _raw(2)
    with pytest.raises(InputError, match=r"traces\.h5: no frame rate; pass --fps"):
        read_hdf5(path)


def test_hdf5_several_datasets(tmp_path):
    path = tmp_path / "traces.h5"
    x = _raw(2)
    with h5py.File(path, "w") as fh:
        fh.attrs["fps"] = 30.0
        fh["a"] = x
        fh["b/c"] = x * 2
    with pytest.raises(InputError, match=r"2 2-D numeric datasets \(/a, /b/c\); pass --dataset"):
        read_hdf5(path)
    np.testing.assert_array_equal(read_hdf5(path, dataset="b/c").traces, x * 2)
    with pytest.raises(InputError, match=r"no dataset '/d'"):
        read_hdf5(path, dataset="/d")


def test_hdf5_garbage_file(tmp_path):
    path = tmp_path / "junk.h5"
    path.write_bytes(os.urandom(256))
    with pytest.raises(InputError, match=r"junk\.h5: not a readable HDF5 file"):
        read_hdf5(path, fps=30.0)
