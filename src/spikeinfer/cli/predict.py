"""``spikeinfer predict``: spikes per frame for every neuron of one or more recordings."""

from __future__ import annotations

from pathlib import Path

import click

from ..exceptions import SpikeinferError
from ..io import FORMATS, INPUT_KINDS, ORIENTATIONS, PREDICTION_SUFFIXES
from ._common import data_option, ground_truth_dir, naming, show_progress


def _default_output(path: Path, fmt: str) -> Path:
    if fmt == "spikefinder":
        return path.with_name(path.name.replace(".calcium.csv", "") + ".predicted.spikes.csv")
    if fmt == "nwb":
        return path.with_name(path.stem + ".spikes.nwb")
    if path.is_dir():
        return path / "spikeinfer_spikes.npy"
    return path.with_name(path.stem + ".spikes.npy")


def _sessions(input_path: Path) -> list[Path]:
    """The recordings INPUT names: itself, each plane of a multi-plane suite2p folder, or
    the files and folders a glob pattern matches."""
    if any(c in str(input_path) for c in "*?["):
        matches = sorted(Path(p) for p in __import__("glob").glob(str(input_path)))
        if not matches:
            raise SpikeinferError(f"{input_path}: matches no file or folder")
        return matches
    planes = _planes(input_path)
    return planes if len(planes) > 1 else [input_path]


def _planes(path: Path) -> list[Path]:
    """The plane folders of a suite2p folder (none for anything else)."""
    if not path.is_dir() or (path / "F.npy").exists():
        return []
    return sorted(p for p in path.glob("plane*") if (p / "F.npy").exists())


def _is_folder(output: Path) -> bool:
    """Whether ``-o`` names a folder for the outputs rather than an output (a Zarr store
    is a folder too)."""
    return not output.suffix or (output.is_dir()
                                 and output.suffix.lower() not in PREDICTION_SUFFIXES)


def _output_in(folder: Path, session: Path) -> Path:
    """A session's output in an output folder; a plane is named with its suite2p folder."""
    planes = _planes(session)
    if len(planes) == 1:
        session = planes[0]
    name = f"{session.parent.name}-{session.name}" if session.name.startswith("plane") \
        else session.stem
    return folder / f"{name}.spikes.h5"


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output: .npy, .h5, .zarr, .nwb (NWB input) or .csv (Spikefinder input), "
              "or a folder for one .h5 per session.")
@click.option("--fps", type=float, help="Frame rate in Hz, where the format has none.")
@click.option("--model", "model_name", default="default", show_default=True,
              help="Shipped model name or saved model folder.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True)
@click.option("--orientation", type=click.Choice(ORIENTATIONS), default="auto",
              show_default=True, help="Layout of .npy/.csv/HDF5/Zarr matrices.")
@click.option("--dataset", help="HDF5 dataset path or NWB series name.")
@click.option("--input-kind", type=click.Choice(INPUT_KINDS), default="auto", show_default=True,
              help="What the matrix holds: dF/F, raw fluorescence or dF/F in percent "
              "(auto: decided from its baseline and noise).")
@click.option("--spike-times", is_flag=True, help="Also write discrete spike times.")
@click.option("--uncertainty", is_flag=True,
              help="Also write the 90% interval of spikes per frame (spikes_lower/upper).")
@click.option("--adapt", is_flag=True, help="First fine-tune the model on the ground truth "
              "nearest to the recording and on simulated twins with its own kinetics.")
@data_option("Ground-truth folder for --adapt.")
@click.option("--chunk-neurons", type=int, default=256, show_default=True,
              help="Neurons predicted at a time: sets the memory used.")
@click.option("--resume", is_flag=True, help="Finish an interrupted run of the same command.")
@click.option("--workers", type=int, help="Predict on a local Dask cluster of N processes.")
@click.option("--scheduler", help="Predict on the Dask cluster of this scheduler address.")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
def predict(input_path, output, fps, model_name, fmt, orientation, dataset, input_kind,
            spike_times, uncertainty, adapt, data_dir, chunk_neurons, resume, workers,
            scheduler, force):
    """Predict expected spikes per frame for every neuron in INPUT (a file, a suite2p
    folder, or a glob of sessions), with the recording's own estimates, a quality flag
    per neuron and the provenance in the output."""
    from tqdm.auto import tqdm

    from ..inference import CHUNK_NEURONS, predict_recording
    from ..io import PredictionWriter, detect_format, open_traces, sha256_of_input
    from ..models import load_model

    if chunk_neurons < 1:
        raise SpikeinferError(f"--chunk-neurons {chunk_neurons}: use 1 or more")
    if workers is not None and scheduler is not None:
        raise SpikeinferError("--workers and --scheduler: choose one")
    if workers is not None and workers < 1:
        raise SpikeinferError(f"--workers {workers}: use 1 or more")
    sessions = _sessions(input_path)
    if not sessions[0].exists():
        raise SpikeinferError(f"{input_path}: no such file or folder")
    into_folder = output is not None and _is_folder(output)
    if len(sessions) > 1 and not into_folder:
        raise SpikeinferError(f"{input_path}: {len(sessions)} sessions; pass -o FOLDER for "
                              "their outputs")
    ground_truth = ground_truth_dir(data_dir) if adapt else None
    model = load_model(model_name)
    client = _dask_client(workers, scheduler)
    bar = None  # made once the first session is ready, so that --adapt's wait is not in it
    try:
        for session in sessions:
            session_fmt = detect_format(session) if fmt == "auto" else fmt
            target = output or _default_output(session, session_fmt)
            if into_folder:
                output.mkdir(parents=True, exist_ok=True)
                target = _output_in(output, session)
            if session.exists() and target.resolve() == session.resolve():
                raise SpikeinferError(f"{target}: is the input; choose another output")
            source = open_traces(session, session_fmt, fps, orientation=orientation,
                                 dataset=dataset, input_kind=input_kind)
            session_model = _adapted(model, source, model_name, ground_truth) if adapt else model
            digest = sha256_of_input(session)
            parts = target.parent / f".{target.name}.parts"
            if resume:  # a killed run's half-written output; its finished chunks stay
                PredictionWriter.remove_leftovers(target, keep=parts)
            writer = PredictionWriter(
                target, source.n_neurons, source.n_frames, source.fps, source.neuron_ids,
                uncertainty=uncertainty, spike_times=spike_times, force=force,
                lengths=source.meta.get("lengths"), nwb_input=session if
                session_fmt == "nwb" else None, nwb_series=source.meta.get("series"),
                nwb_rows=source.meta.get("roi_table_rows"))
            try:
                if parts.exists() and not resume:
                    raise SpikeinferError(f"{target}: an interrupted run left {parts}; pass "
                                          "--resume to finish it, or remove it")
                if bar is None:
                    bar = tqdm(desc="predicting", unit="chunk", total=0,
                               disable=not show_progress())
                bar.total += -(-source.n_neurons // chunk_neurons)
                bar.refresh()
            except BaseException:  # Ctrl-C too: nothing half-written stays
                writer.abort()
                raise
            summary = predict_recording(source, session_model, uncertainty=uncertainty,
                                        spike_times=spike_times, chunk_neurons=chunk_neurons
                                        or CHUNK_NEURONS, writer=writer, parts=parts,
                                        client=client, progress=bar, model_name=model_name,
                                        input_digest=digest)
            with tqdm.external_write_mode():  # the summary on its own line, not on the bar's
                _report(source, summary, target)
    finally:
        if bar is not None:
            bar.close()
        if client is not None:
            client.close()


def _dask_client(workers, scheduler):
    if workers is None and scheduler is None:
        return None
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        return Client(scheduler)
    return Client(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True))


def _adapted(model, source, model_name, data_dir):
    from ..embedding import adapt_model, load_embedding
    from ..io import load_ground_truth

    recording = source.traceset()
    ground_truth = load_ground_truth(data_dir, skip_missing=True)
    with naming(f"{recording.source} (--adapt: model {model_name}, ground truth {data_dir})"):
        adapted, chosen = adapt_model(model, recording, ground_truth, load_embedding("default"),
                                      simulate=True)
    click.echo(f"{recording.source}: {model_name} fine-tuned on {', '.join(chosen)} and "
               "simulated twins with the recording's kinetics", err=True)
    return adapted


def _report(source, summary, target) -> None:
    """One line per session, and one per flagged neuron group."""
    click.echo(f"{source.n_neurons} neurons x {source.n_frames} frames at {source.fps:g} Hz -> "
               f"{target} ({summary['spikes']:.0f} spikes predicted)")
    from ..inference import count_reasons

    flagged = [q for q in summary["quality"] if q]
    if flagged:
        reasons = ", ".join(f"{k}: {v}" for k, v in count_reasons(flagged).items())
        click.echo(f"spikeinfer: warning: {len(flagged)} of {source.n_neurons} neurons flagged "
                   f"({reasons}); see 'quality' in the output", err=True)
