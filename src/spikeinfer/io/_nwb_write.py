"""Predictions written back into NWB: a new file with everything of the input and a
``spikeinfer`` processing module whose series point at the input's ROIs."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
from hdmf.common import DynamicTable, DynamicTableRegion, VectorData, VectorIndex
from pynwb import NWBHDF5IO
from pynwb.ophys import RoiResponseSeries

from ..exceptions import InputError

MODULE = "spikeinfer"


def write_nwb_predictions(source: Path, target: Path, arrays: dict, spike_times, fps: float,
                          series: str, rows, side: dict) -> Path:
    """A copy of the NWB file ``source`` with the predictions of its series ``series``
    ("container/name") for the ROI-table rows ``rows``, written atomically to ``target``.

    The module ``spikeinfer`` holds the RoiResponseSeries ``expected_spikes`` (and
    ``expected_spikes_lower``/``_upper``) in spikes per frame on the input's clock, with
    ``rois`` regions of the input's PlaneSegmentation, a table ``spike_times`` (one row per
    ROI: the ROI and its spike times in seconds) and, in its description, the provenance.
    """
    source, target = Path(source), Path(target)
    if source.resolve() == target.resolve():
        raise InputError(f"{target}: is the input; choose another output")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".nwb", dir=target.parent)
    os.close(fd)
    try:
        with NWBHDF5IO(str(source), "r") as io:
            nwbfile = io.read()
            container, name = series.split("/", 1)
            input_series = nwbfile.processing["ophys"][container][name]
            table = input_series.rois.table
            if MODULE in nwbfile.processing:
                raise InputError(f"{source}: holds a '{MODULE}' module already (a prediction "
                                 "of its own); predict the original file")
            summary = {k: side["provenance"].get(k) for k in
                       ("model", "model_version", "package_version", "input_sha256", "run_at")}
            module = nwbfile.create_processing_module(
                MODULE, f"Spikes inferred by spikeinfer from {container}/{name}; provenance: "
                        f"{json.dumps(summary)}")
            timing = ({"timestamps": input_series} if input_series.timestamps is not None
                      else {"rate": float(fps), "starting_time": input_series.starting_time
                            or 0.0})
            labels = {"spikes": "expected_spikes", "spikes_lower": "expected_spikes_lower",
                      "spikes_upper": "expected_spikes_upper"}
            for key, array in arrays.items():
                region = table.create_roi_table_region(
                    region=list(map(int, rows)), description="the ROIs of the input series")
                what = {"spikes": "Expected number of spikes in each frame",
                        "spikes_lower": "Lower bound of the 90% interval of spikes per frame",
                        "spikes_upper": "Upper bound of the 90% interval of spikes per frame"}
                module.add(RoiResponseSeries(name=labels[key], data=np.asarray(array).T,
                                             rois=region, unit="spikes",
                                             description=what[key], **timing))
            if spike_times is not None:
                module.add(_spike_table(table, rows, spike_times))
            with NWBHDF5IO(tmp, "w") as out:
                out.export(src_io=io, nwbfile=nwbfile)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _spike_table(plane_segmentation, rows, spike_times) -> DynamicTable:
    counts = np.array([len(t) for t in spike_times], dtype=np.int64)
    times = VectorData(name="spike_times", description="inferred spike times (s)",
                       data=np.concatenate(spike_times) if len(spike_times) else np.zeros(0))
    index = VectorIndex(name="spike_times_index", target=times, data=np.cumsum(counts).tolist())
    roi = DynamicTableRegion(name="roi", data=list(map(int, rows)), table=plane_segmentation,
                             description="the ROI whose spikes these are")
    return DynamicTable(name="spike_times", description="Spike times inferred for each ROI",
                        columns=[roi, times, index])
