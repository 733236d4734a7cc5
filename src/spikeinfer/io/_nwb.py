"""Reader for Neurodata Without Borders (NWB 2) optical-physiology files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pynwb import NWBHDF5IO
from pynwb.ophys import DfOverF, Fluorescence

from ..data import TraceSet
from ..signals import check_fps
from ..exceptions import InputError
from ..preprocess import compute_dff


def read_nwb(path: Path, fps: float | None = None, series: str | None = None) -> TraceSet:
    """Read a ``RoiResponseSeries`` from the ``ophys`` processing module of an NWB file.

    Parameters
    ----------
    path : Path
        An NWB 2 file (HDF5 backend).
    fps : float, optional
        Frame rate in Hz, used only when the series has neither ``rate`` nor
        ``timestamps``; if it has, the two must agree within 1%.
    series : str, optional
        Name of the series, ``"name"`` or ``"Container/name"``. Needed when
        the file holds several series and not exactly one is in ``DfOverF``.

    Returns
    -------
    TraceSet
        dF/F traces, one row per ROI. A series from ``Fluorescence`` (raw F)
        is converted with :func:`~spikeinfer.preprocess.compute_dff` and
        ``meta["converted_to_dff"]`` is True; ``DfOverF`` is used as stored.

    Raises
    ------
    InputError
        If the file is not readable NWB, the series is missing or ambiguous,
        or the frame rate is unknown or contradicts ``fps``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        io = NWBHDF5IO(str(path), mode="r", load_namespaces=True)
    except Exception as err:  # h5py/hdmf raise many types for non-NWB or damaged files
        raise InputError(f"{path}: not a readable NWB file ({type(err).__name__}: {err})"
                         ) from None
    with io:
        try:
            nwbfile = io.read()
        except Exception as err:
            raise InputError(f"{path}: not a readable NWB file ({type(err).__name__}: {err})"
                             ) from None
        ophys = nwbfile.processing.get("ophys")
        if ophys is None:
            raise InputError(f"{path}: no 'ophys' processing module (found: "
                             f"{', '.join(nwbfile.processing) or 'none'})")

        # (container name, series name, is dF/F, series) for every candidate
        found = [(container.name, name, isinstance(container, DfOverF), s)
                 for container in ophys.data_interfaces.values()
                 if isinstance(container, (Fluorescence, DfOverF))
                 for name, s in container.roi_response_series.items()]
        neuropil = None
        if series is None:
            layout = _suite2p_layout(found)
            if layout is not None:
                found, neuropil = [layout[0]], layout[1]
        label = [f"{c}/{n}" for c, n, _, _ in found]
        if series is not None:
            matches = [f for f, lab in zip(found, label) if series in (f[1], lab)]
            if not matches:
                raise InputError(f"{path}: no RoiResponseSeries {series!r} in ophys "
                                 f"(found: {', '.join(label) or 'none'})")
        else:
            matches = found
            if not matches:
                raise InputError(f"{path}: no RoiResponseSeries in ophys Fluorescence or DfOverF")
        if len(matches) > 1:
            # several series: dF/F is what the models expect, so it wins over raw F
            matches = [f for f in matches if f[2]] or matches
        if len(matches) > 1:
            names = ", ".join(f"{c}/{n}" for c, n, _, _ in matches)
            raise InputError(f"{path}: several RoiResponseSeries ({names}); "
                             "pass --dataset NAME")
        container_name, series_name, is_dff, rrs = matches[0]
        where = f"{path}: {container_name}/{series_name}"

        # NWB stores time first: (n_frames, n_rois)
        try:
            data = np.asarray(rrs.data[()], dtype=np.float64)
        except (OSError, TypeError, ValueError) as err:  # damaged chunks, non-numeric data
            raise InputError(f"{where}: data cannot be read ({err})") from None
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2:
            raise InputError(f"{where}: expected 2-D data (frames x ROIs), got shape {data.shape}")
        traces = data.T
        if neuropil is not None:  # suite2p's layout: read as its folder is read
            try:
                fneu = np.asarray(neuropil.data[()], dtype=np.float64).T
            except (OSError, TypeError, ValueError) as err:
                raise InputError(f"{path}: neuropil data cannot be read ({err})") from None
            if fneu.shape != traces.shape:
                raise InputError(f"{path}: Neuropil of shape {fneu.shape} does not match "
                                 f"Fluorescence {traces.shape}")
            traces = traces - NEUROPIL_COEFFICIENT * fneu

        file_fps = None
        if rrs.rate is not None:
            file_fps = check_fps(rrs.rate, f"{where}: rate: ")
        elif rrs.timestamps is not None and len(rrs.timestamps) > 1:
            step = np.median(np.diff(np.asarray(rrs.timestamps[()], dtype=np.float64)))
            file_fps = check_fps(1.0 / step if step > 0 else np.nan, f"{where}: timestamps: ")
        if file_fps is None:
            if fps is None:
                raise InputError(f"{where}: no rate or timestamps; pass --fps")
            file_fps = check_fps(fps, f"{where}: ")
        elif fps is not None and abs(check_fps(fps, f"{where}: ") - file_fps) > 0.01 * file_fps:
            raise InputError(f"{where}: --fps {fps:g} Hz disagrees with the file's "
                             f"{file_fps:g} Hz")

        ids, indicator, table_rows = None, "", None
        rois = rrs.rois
        keep = np.arange(traces.shape[0])
        if rois is not None:
            # the region holds row indices into the ROI table; its ids name the ROIs
            table_ids = np.asarray(rois.table.id.data[()])
            rows = np.asarray(rois.data[()], dtype=np.int64)
            if len(rows) == traces.shape[0] and np.all(rows < len(table_ids)):
                table_rows = rows
                if neuropil is not None and "iscell" in rois.table.colnames:
                    flags = np.asarray(rois.table["iscell"].data[()], dtype=np.float64)
                    flags = flags if flags.ndim == 1 else flags[:, 0]
                    keep = np.flatnonzero(flags[rows] > 0.5)
                    if keep.size == 0:
                        raise InputError(f"{path}: no ROI is marked as a cell (iscell)")
                ids = tuple(str(i) for i in table_ids[rows[keep]])
            plane = getattr(rois.table, "imaging_plane", None)
            indicator = getattr(plane, "indicator", "") or ""
        traces = traces[keep]

    meta = {"format": "nwb", "series": f"{container_name}/{series_name}",
            "converted_to_dff": not is_dff, "suite2p_layout": neuropil is not None,
            "roi_table_rows": None if table_rows is None else table_rows[keep].tolist()}
    if not is_dff:
        traces = compute_dff(traces, file_fps)
    return TraceSet(traces=traces, fps=file_fps, neuron_ids=ids, dataset=path.stem,
                    indicator=indicator, source=str(path), meta=meta)


#: Fraction of the neuropil subtracted from suite2p's fluorescence (suite2p's own default).
NEUROPIL_COEFFICIENT = 0.7


def _suite2p_layout(found):
    """The (container, series, is dF/F, series) of suite2p's raw fluorescence and its
    Neuropil series, where a file is laid out as suite2p writes NWB (a Fluorescence
    container with series "Fluorescence" and "Neuropil"); None otherwise."""
    for container, name, is_dff, series in found:
        if is_dff or name.lower() != "fluorescence":
            continue
        for other_container, other, _, neuropil in found:
            if other_container == container and other.lower() == "neuropil":
                return (container, name, is_dff, series), neuropil
    return None
