"""Command line: ``spikeinfer predict | evaluate | benchmark | train | adapt | models | demo
| simulate | indicators | generative | embedding``.

Each command imports what it needs when it runs, so that ``spikeinfer --help`` starts
without loading torch.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path

import click
import numpy as np

from .exceptions import SpikeinferError
from .io import FORMATS, INPUT_KINDS, ORIENTATIONS
from .simulate import SIMULATION_FORMATS, SPIKE_PATTERNS

#: What ``--model`` of ``train`` and ``benchmark cv`` can build (checked by
#: :func:`spikeinfer.models.make_estimator`).
ESTIMATOR_NAMES = ("oasis", "default", "elephant", "attended", "conv16")


def _show_warning(message, category, filename, lineno, file=None, line=None):
    click.echo(f"spikeinfer: warning: {message}", err=True)


class _Group(click.Group):
    """Turns the package's errors into one line on stderr and exit code 2."""

    def invoke(self, ctx):
        warnings.showwarning = _show_warning
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
        try:
            return super().invoke(ctx)
        except SpikeinferError as err:
            click.echo(f"spikeinfer: error: {err}", err=True)
            sys.exit(2)
        except OSError as err:
            where = f"{err.filename}: " if err.filename else ""
            click.echo(f"spikeinfer: error: {where}{err.strerror or err}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(package_name="spikeinfer")
def main():
    """Infer spikes from calcium-imaging fluorescence traces."""


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
    if input_path.is_dir() and not (input_path / "F.npy").exists():
        planes = sorted(p for p in input_path.glob("plane*") if (p / "F.npy").exists())
        if len(planes) > 1:
            return planes
    return [input_path]


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output: .npy, .h5, .zarr, .nwb (NWB input) or .csv (Spikefinder input); "
              "a folder for several sessions.")
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
@click.option("--data", "data_dir", type=click.Path(path_type=Path),
              default=Path("../shared/data"), show_default=True,
              help="Ground-truth folder for --adapt.")
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

    from .inference import CHUNK_NEURONS, predict_recording
    from .io import PredictionWriter, detect_format, open_traces, sha256_of_input
    from .models import load_model

    if chunk_neurons < 1:
        raise SpikeinferError(f"--chunk-neurons {chunk_neurons}: use 1 or more")
    if workers is not None and scheduler is not None:
        raise SpikeinferError("--workers and --scheduler: choose one")
    sessions = _sessions(input_path)
    if not sessions[0].exists():
        raise SpikeinferError(f"{input_path}: no such file or folder")
    if len(sessions) > 1 and (output is None or output.suffix):
        raise SpikeinferError(f"{input_path}: {len(sessions)} sessions; pass -o FOLDER for "
                              "their outputs")
    model = load_model(model_name)
    client = _dask_client(workers, scheduler)
    bar = None  # made once the first session is ready, so that --adapt's wait is not in it
    try:
        for session in sessions:
            session_fmt = detect_format(session) if fmt == "auto" else fmt
            target = output or _default_output(session, session_fmt)
            if len(sessions) > 1:
                target.mkdir(parents=True, exist_ok=True)
                target = target / f"{session.parent.name}-{session.name}.spikes.h5" \
                    if session.name.startswith("plane") else target / f"{session.stem}.spikes.h5"
            if session.exists() and target.resolve() == session.resolve():
                raise SpikeinferError(f"{target}: is the input; choose another output")
            source = open_traces(session, session_fmt, fps, orientation=orientation,
                                 dataset=dataset, input_kind=input_kind)
            session_model = _adapted(model, source, model_name, data_dir) if adapt else model
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
            if parts.exists() and not resume:
                writer.abort()
                raise SpikeinferError(f"{target}: an interrupted run left {parts}; pass "
                                      "--resume to finish it, or remove it")
            if bar is None:
                bar = tqdm(desc="predicting", unit="chunk", total=0, disable=False)
            bar.total += -(-source.n_neurons // chunk_neurons)
            bar.refresh()
            summary = predict_recording(source, session_model, uncertainty=uncertainty,
                                        spike_times=spike_times, chunk_neurons=chunk_neurons
                                        or CHUNK_NEURONS, writer=writer, parts=parts,
                                        client=client, progress=bar, model_name=model_name,
                                        input_digest=digest)
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
    if workers < 1:
        raise SpikeinferError(f"--workers {workers}: use 1 or more")
    return Client(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True))


def _adapted(model, source, model_name, data_dir):
    from .embedding import adapt_model, load_embedding
    from .io import load_ground_truth

    recording = source.traceset()
    adapted, chosen = adapt_model(model, recording, load_ground_truth(data_dir),
                                  load_embedding("default"), simulate=True)
    click.echo(f"{recording.source}: {model_name} fine-tuned on {', '.join(chosen)} and "
               "simulated twins with the recording's kinetics", err=True)
    return adapted


def _report(source, summary, target) -> None:
    """One line per session, and one per flagged neuron group."""
    click.echo(f"{source.n_neurons} neurons x {source.n_frames} frames at {source.fps:g} Hz -> "
               f"{target} ({summary['spikes']:.0f} spikes predicted)")
    from .inference import count_reasons

    flagged = [q for q in summary["quality"] if q]
    if flagged:
        reasons = ", ".join(f"{k}: {v}" for k, v in count_reasons(flagged).items())
        click.echo(f"spikeinfer: warning: {len(flagged)} of {source.n_neurons} neurons flagged "
                   f"({reasons}); see 'quality' in the output", err=True)


@main.command()
@click.argument("pred", type=click.Path(exists=True, path_type=Path))
@click.argument("truth", type=click.Path(exists=True, path_type=Path))
@click.option("--fps", type=float, help="Frame rate in Hz (100 for Spikefinder files).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable results.")
def evaluate(pred, truth, fps, as_json):
    """Score predictions PRED against true spike counts TRUTH (Spikefinder protocol)."""
    from .signals import check_fps
    from .evaluation import MEASURES, mean_scores, score_neurons
    from .io import SPIKEFINDER_FPS, detect_format, load_counts

    truth_fmt = detect_format(truth)
    # A prediction in CSV beside Spikefinder truth is in Spikefinder layout too.
    pred_fmt = "spikefinder" if truth_fmt == "spikefinder" and pred.suffix == ".csv" else "auto"
    true_counts, names = load_counts(truth, truth_fmt)
    predicted, pred_names = load_counts(pred, pred_fmt)
    if fps is None and truth_fmt == "spikefinder":
        fps = SPIKEFINDER_FPS
    fps = check_fps(fps, f"{truth}: ")
    if predicted.shape != true_counts.shape:
        raise SpikeinferError(f"{pred}: {predicted.shape[0]} neurons x {predicted.shape[1]} "
                              f"frames, but {truth} has {true_counts.shape[0]} x "
                              f"{true_counts.shape[1]}")
    if names and pred_names and names != pred_names:
        raise SpikeinferError(f"{pred}: neuron names differ from those in {truth}")
    scores = score_neurons(predicted, true_counts, fps)
    names = names or tuple(str(i) for i in range(true_counts.shape[0]))
    means = mean_scores(scores)
    if as_json:
        cells = [{"cell": n, **{m: scores[m][i] for m in MEASURES}} for i, n in enumerate(names)]
        click.echo(json.dumps(_finite({"fps": fps, "cells": cells, "mean": means}), indent=2))
        return
    click.echo(f"{'cell':<10}" + "".join(f"{m:>9}" for m in MEASURES))
    for i, n in enumerate(names):
        click.echo(f"{n:<10}" + "".join(f"{scores[m][i]:>9.3f}" for m in MEASURES))
    click.echo(f"{'mean':<10}" + "".join(f"{means[m]:>9.3f}" for m in MEASURES))


def _num(value):
    return None if not np.isfinite(value) else float(value)


def _finite(doc):
    """JSON-ready copy: NaN (an undefined score) becomes null, numpy numbers become floats."""
    if isinstance(doc, dict):
        return {k: _finite(v) for k, v in doc.items()}
    if isinstance(doc, (list, tuple)):
        return [_finite(v) for v in doc]
    if isinstance(doc, (float, np.floating)):
        return _num(doc)
    if isinstance(doc, np.integer):
        return int(doc)
    return doc


@main.group()
def benchmark():
    """Score models on ground truth."""


@benchmark.command("spikefinder")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--model", "model_name", default="default", show_default=True)
@click.option("--split", type=click.Choice(["train", "test"]), default="train",
              show_default=True)
@click.option("--sets", help="Comma-separated set numbers, e.g. 4,5,6 (default: all present).")
@click.option("--peers", type=click.Path(path_type=Path),
              help="Folder of peer predictions (TEAM/N.split.spikes.csv) to score alongside.")
@click.option("--json", "as_json", is_flag=True)
def benchmark_spikefinder_cmd(folder, model_name, split, sets, peers, as_json):
    """Predict and score every Spikefinder set in FOLDER."""
    from .evaluation.benchmark import benchmark_spikefinder, format_benchmark
    from .models import load_model

    model = load_model(model_name)
    chosen = [s.strip() for s in sets.split(",") if s.strip()] if sets else None
    result = benchmark_spikefinder(folder, model, split, chosen, peers, progress=not as_json)
    if as_json:
        click.echo(json.dumps(_finite(result), indent=2))
    else:
        click.echo(format_benchmark(result, model_name))


def _json_params(items) -> dict:
    """``NAME=VALUE`` options (JSON values) as a dict."""
    params = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            raise SpikeinferError(f"--param {item}: value is not JSON (e.g. 0.05, null)") from None
    return params


def _json_out(result, output: Path | None):
    """Print JSON, or write it atomically to ``output``."""
    from .io import write_atomically

    text = json.dumps(_finite(result), indent=2)
    if output is None:
        click.echo(text)
    else:
        write_atomically(output, lambda tmp: tmp.write_text(text), force=True)


@benchmark.command("gt")
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--model", "model_name", default="default", show_default=True)
@click.option("--fps", type=float, help="Resample every recording to this rate (Hz).")
@click.option("--noise", "noise_level", type=float,
              help="Raise the noise to this CASCADE level nu (rows already noisier stay).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the added noise.")
@click.option("--json", "as_json", is_flag=True)
def benchmark_gt_cmd(folders, model_name, fps, noise_level, seed, as_json):
    """Score a model on CASCADE-format dataset FOLDERS, per dataset and overall; with
    --fps, also the lag (frames, positive: late) at which each dataset's output best
    matches its spikes."""
    from .evaluation.groundtruth import format_datasets, score_datasets
    from .io import load_cascade_dataset
    from .models import load_model

    model = load_model(model_name)
    data = [ts for folder in folders for ts in load_cascade_dataset(folder, quiet=True)]
    max_lag = round(0.1 * fps) if fps else 0
    result = score_datasets(model, data, fps, noise_level, seed, max_lag=max_lag,
                            progress=not as_json)
    if as_json:
        _json_out(result, None)
    else:
        click.echo(format_datasets(result, model_name))


@benchmark.command("cv")
@click.option("--data", "data_dir", type=click.Path(path_type=Path),
              default=Path("../shared/data"), show_default=True,
              help="Folder with cascade_gt/ and spikefinder/ (set 4 is added).")
@click.option("--models", "model_names", default=",".join(ESTIMATOR_NAMES), show_default=True,
              help="Comma-separated models to cross-validate.")
@click.option("--folds", "n_folds", type=int, default=5, show_default=True)
@click.option("--fps", type=float, default=30.0, show_default=True,
              help="Rate of the degraded condition (Hz).")
@click.option("--noise", "noise_level", type=float, default=4.0, show_default=True,
              help="Noise level nu of the degraded condition.")
@click.option("--budget", "budget_s", type=float, default=600.0, show_default=True,
              help="Training time limit of each network per fold (s).")
@click.option("--param", "params", multiple=True, metavar="MODEL:NAME=VALUE",
              help="Hyper-parameter of one model (JSON value), e.g. default:steps=2000.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--results", "results_dir", type=click.Path(path_type=Path),
              help="Keep each model-and-fold result here and reuse it on later runs.")
@click.option("--save-models", "models_dir", type=click.Path(path_type=Path),
              help="Also save each fold's fitted model here (NAME-foldK).")
@click.option("--only-fold", "only_folds", type=int, multiple=True,
              help="Run just this fold (repeatable); others are taken from --results.")
@click.option("--json", "json_path", type=click.Path(path_type=Path),
              help="Also write the summary as JSON to this file.")
def benchmark_cv_cmd(data_dir, model_names, n_folds, fps, noise_level, budget_s, params, seed,
                     results_dir, models_dir, only_folds, json_path):
    """Cross-validation grouped by dataset: train on the other folds, score each held-out
    dataset at its native rate and resampled with added noise."""
    from .evaluation.groundtruth import cross_validate, format_cv, summarise_cv
    from .io import load_ground_truth
    from .models import make_estimator

    names = [n.strip() for n in model_names.split(",") if n.strip()]
    by_model = {n: [] for n in names}
    for item in params:
        target, _, assignment = item.partition(":")
        if target not in by_model or "=" not in assignment:
            raise SpikeinferError(f"--param {item}: expected MODEL:NAME=VALUE with MODEL one "
                                  f"of {', '.join(names)}")
        by_model[target].append(assignment)
    overrides = {n: _json_params(items) for n, items in by_model.items()}

    def build(name):
        extra = {} if name == "oasis" else {"max_seconds": budget_s}
        return make_estimator(name, **{**extra, **overrides[name]})

    for name in names:
        build(name)  # bad names or parameters fail before any training
    data = load_ground_truth(data_dir)
    results = cross_validate(build, names, data, n_folds, fps, noise_level, seed, results_dir,
                             only_folds or None, models_dir=models_dir)
    summary = summarise_cv(results)
    click.echo(format_cv(summary, fps, noise_level))
    if json_path:
        condition = f"{fps:g} Hz, nu {noise_level:g}"
        _json_out({"folds": results["folds"], "condition": condition, "budget_s": budget_s,
                   "summary": summary}, json_path)


@benchmark.command("speed")
@click.option("--models", "model_names", default="default,oasis", show_default=True,
              help="Comma-separated models; the last is the baseline of the ratio. "
                   "NAME+estimates times the whole-recording path (estimates and quality "
                   "flags), NAME+outputs also intervals and spike times.")
@click.option("--neurons", "n_neurons", type=int, default=1000, show_default=True)
@click.option("--hours", type=float, default=1.0, show_default=True)
@click.option("--fps", type=float, default=30.0, show_default=True)
@click.option("--repeats", type=int, default=3, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def benchmark_speed_cmd(model_names, n_neurons, hours, fps, repeats, as_json):
    """Wall time and peak memory of predicting a simulated recording (default: 1000
    neurons x 1 hour at 30 Hz), each model in a fresh process, median of repeats."""
    from .evaluation.speed import SUFFIXES, benchmark_speed, format_speed
    from .models import load_model

    names = [n.strip() for n in model_names.split(",") if n.strip()]
    for name in names:
        model_name, _, suffix = name.partition("+")
        if suffix not in SUFFIXES:
            raise SpikeinferError(f"--models {name}: the suffix must be one of "
                                   + ", ".join("+" + s for s in SUFFIXES if s))
        load_model(model_name)  # unknown models fail before the long runs
    result = benchmark_speed(names, n_neurons, hours * 3600, fps, repeats)
    if as_json:
        _json_out(result, None)
    else:
        click.echo(format_speed(result))


@main.command("models")
def models_cmd():
    """List the shipped models."""
    from .models import list_models, read_card

    for name in list_models():
        doc = read_card(name)
        card = doc["card"]
        kind = doc["params"].get("network", card["architecture"])
        fps = "runs at any rate" if not card.get("fps") else f"runs at {card['fps']:g} Hz"
        cv = card.get("scores", {}).get("cross_validation", {})
        score = (f"; grouped-CV corr {cv['native']:.3f} native, {cv['degraded']:.3f} degraded"
                 if cv else "")
        click.echo(f"{name}: {kind}, {fps}, {len(card.get('training_data', []))} training "
                   f"datasets{score}")


@main.command()
@click.argument("prediction_path", metavar="PREDICTION", type=click.Path(path_type=Path))
@click.option("--input", "input_path", type=click.Path(path_type=Path),
              help="The traces predicted (and their ground truth, where they have one).")
@click.option("--fps", type=float, help="Frame rate of --input, where its format has none.")
@click.option("--neurons", help="Comma-separated rows to draw, e.g. 0,3,7 (default: 0,1,2).")
@click.option("--start", "start_s", type=float, default=0.0, show_default=True, help="Seconds.")
@click.option("--duration", "duration_s", type=float, default=60.0, show_default=True,
              help="Seconds.")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Figure: .png, .svg or .pdf.")
@click.option("--force", is_flag=True, help="Overwrite an existing figure.")
def plot(prediction_path, input_path, fps, neurons, start_s, duration_s, output, force):
    """Draw a prediction: traces with inferred spikes, interval band and spike times, a
    raster and the population rate; true spikes beside them where INPUT has them."""
    from .io import load_spikefinder, load_traces, read_prediction
    from .plotting import plot_recording

    if output.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise SpikeinferError(f"{output}: figure must end in .png, .svg or .pdf")
    if output.exists() and not force:
        raise SpikeinferError(f"{output}: already exists; pass --force to overwrite")
    prediction = read_prediction(prediction_path)
    traces = None
    if input_path is not None:
        name = input_path.name.lower()
        traces = (load_spikefinder(input_path) if name.endswith(".calcium.csv") else
                  load_traces(input_path, fps=fps or prediction["fps"]))
        if traces.traces.shape != prediction["spikes"].shape:
            raise SpikeinferError(f"{input_path}: {traces.traces.shape} traces, but the "
                                  f"prediction is {prediction['spikes'].shape}")
    try:
        rows = [int(v) for v in neurons.split(",")] if neurons else None
    except ValueError:
        raise SpikeinferError(f"--neurons {neurons}: expected numbers like 0,3,7") from None
    plot_recording(prediction, output, traces, rows, start_s, duration_s, force=force)
    click.echo(f"figure: {output}")


@main.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("spikeinfer_demo.png"),
              show_default=True, help="Figure to write.")
@click.option("--model", "model_name", default="default", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing figure.")
def demo(output, model_name, seed, force):
    """Simulate a 30 Hz GCaMP6s recording, predict its spikes, print the score, save a
    figure."""
    from .evaluation import mean_scores, score_neurons
    from .models import load_model
    from .plotting import plot_prediction
    from .simulate import simulate_recording

    if output.exists() and not force:
        raise SpikeinferError(f"{output}: already exists; pass --force to overwrite")
    ts = simulate_recording(n_neurons=20, duration_s=300.0, fps=30.0, indicator="GCaMP6s",
                            random_state=seed)
    model = load_model(model_name)
    prediction = model.predict_traceset(ts)
    means = mean_scores(score_neurons(prediction, ts.spike_counts(), ts.fps))
    click.echo(f"simulated {ts.n_neurons} neurons x {ts.n_frames / ts.fps:.0f} s at "
               f"{ts.fps:g} Hz; model {model_name}: correlation {means['corr']:.3f}, "
               f"AUC {means['auc']:.3f}, spike-count bias {means['bias']:+.2f}")
    plot_prediction(ts, prediction, output, force=force,
                    title=f"spikeinfer demo: model {model_name}, corr {means['corr']:.2f}")
    click.echo(f"figure: {output}")


@main.command()
@click.option("--model", "architecture", type=click.Choice(ESTIMATOR_NAMES),
              default="default", show_default=True,
              help="OASIS baseline, or one of the networks.")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), required=True,
              help="Folder of CASCADE-format dataset folders.")
@click.option("--spikefinder", "spikefinder_files", multiple=True,
              type=click.Path(path_type=Path),
              help="Also train on a Spikefinder calcium file (spikes file beside it); "
              "repeatable.")
@click.option("--exclude", default="", help="Comma-separated dataset prefixes to leave out, "
              "e.g. DS16,DS17.")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Folder for model.json.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Hyper-parameter, repeatable (JSON values), e.g. --param smoothing_s=0.05.")
@click.option("--cv", "cv_path", type=click.Path(path_type=Path),
              help="Summary JSON of 'benchmark cv --json' whose scores of this model (the "
              "same recipe) go into the model card.")
@click.option("--version", "version", default="0", show_default=True,
              help="Version written in the model card (shipped models: see CHANGELOG.md).")
@click.option("--force", is_flag=True, help="Overwrite an existing model folder.")
def train(architecture, data_dir, spikefinder_files, exclude, output, params, cv_path, version,
          force):
    """Fit a model on ground truth and save it with its model card."""
    import shlex
    import time

    from .evaluation.groundtruth import read_cv_scores
    from .io import load_cascade_collection, load_spikefinder
    from .models import make_estimator

    if (output / "model.json").exists() and not force:
        raise SpikeinferError(f"{output}: holds a model already; pass --force to overwrite")
    kwargs = _json_params(params)
    scores = {"cross_validation": read_cv_scores(cv_path, architecture)} if cv_path else {}
    excluded = [e.strip() for e in exclude.split(",") if e.strip()]
    data = [ts for ts in load_cascade_collection(data_dir, quiet=True)
            if not any(ts.dataset.startswith(e) for e in excluded)]
    data += [load_spikefinder(path) for path in spikefinder_files]
    model = make_estimator(architecture, **kwargs)
    start = time.perf_counter()
    model.fit(data, progress=True)
    seconds = time.perf_counter() - start
    datasets = sorted({ts.dataset for ts in data})
    model.save(output, version=version, scores=scores,
               command="spikeinfer " + shlex.join(sys.argv[1:]), notes=f"fit in {seconds:.0f} s")
    click.echo(f"trained {architecture} on {len(datasets)} datasets in {seconds:.0f} s -> {output}")


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Folder of the adapted model (use it with --model FOLDER).")
@click.option("--fps", type=float, help="Frame rate in Hz, where the format has none.")
@click.option("--model", "model_name", default="default", show_default=True,
              help="Network to start from: shipped name or saved model folder.")
@click.option("--data", "data_dir", type=click.Path(path_type=Path),
              default=Path("../shared/data/cascade_gt"), show_default=True,
              help="Folder of CASCADE-format ground-truth datasets.")
@click.option("--embedding", "embedding_name", default="default", show_default=True,
              help="Embedding of the ground-truth datasets: 'default' or a saved folder.")
@click.option("-k", "n_nearest", type=int, default=3, show_default=True,
              help="Nearest ground-truth datasets to fine-tune on.")
@click.option("--steps", type=int, default=300, show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True)
@click.option("--orientation", type=click.Choice(ORIENTATIONS), default="auto",
              show_default=True, help="Layout of .npy/.csv/HDF5 matrices.")
@click.option("--dataset", help="HDF5 dataset path or NWB series name.")
@click.option("--force", is_flag=True, help="Overwrite an existing model folder.")
def adapt(input_path, output, fps, model_name, data_dir, embedding_name, n_nearest, steps, fmt,
          orientation, dataset, force):
    """Fine-tune a model on the ground truth nearest to the recording INPUT."""
    import shlex
    import time

    from .embedding import adapt_model, load_embedding
    from .io import load_cascade_collection, load_traces
    from .models import load_model

    if (output / "model.json").exists() and not force:
        raise SpikeinferError(f"{output}: holds a model already; pass --force to overwrite")
    if n_nearest < 1 or steps < 1:
        raise SpikeinferError("-k and --steps must be at least 1")
    recording = load_traces(input_path, fmt, fps, orientation=orientation, dataset=dataset)
    model = load_model(model_name)
    embedding = load_embedding(embedding_name)
    start = time.perf_counter()
    ground_truth = load_cascade_collection(data_dir, quiet=True)
    adapted, chosen = adapt_model(model, recording, ground_truth, embedding, n_nearest,
                                  steps=steps)
    seconds = time.perf_counter() - start
    noise = adapted.resolved_augmentation.noise_levels
    adapted.save(output, command="spikeinfer " + shlex.join(sys.argv[1:]),
                 notes=f"fine-tuned in {seconds:.0f} s",
                 adaptation={"base_model": str(model_name), "recording": str(input_path),
                             "datasets": chosen, "steps": steps,
                             "noise_levels": list(noise) if noise else None})
    click.echo(f"nearest ground truth: {', '.join(chosen)}; {model_name} fine-tuned in "
               f"{seconds:.0f} s -> {output} (use --model {output})")


@main.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Traces file: N.calcium.csv (Spikefinder, 100 Hz; spikes in N.spikes.csv), "
              "OUT.npy or OUT.h5 (spikes per frame in OUT.truth.npy / OUT.truth.h5).")
@click.option("--indicator", help="Preset fitted to ground truth (see 'spikeinfer indicators "
              "list'); without it rise 0.05 s, decay 0.8 s, amplitude 0.5, linear.")
@click.option("--neurons", "n_neurons", type=int, default=10, show_default=True)
@click.option("--duration", "duration_s", type=float, default=120.0, show_default=True,
              help="Seconds.")
@click.option("--fps", type=float, default=30.0, show_default=True, help="Frame rate in Hz.")
@click.option("--noise", "noise_level", type=float, default=2.0, show_default=True,
              help="CASCADE noise level nu of every trace.")
@click.option("--rate", "rate_hz", type=float, default=0.5, show_default=True,
              help="Mean firing rate (Hz).")
@click.option("--spikes", "spike_pattern", type=click.Choice(SPIKE_PATTERNS), default="poisson",
              show_default=True, help="Poisson spikes, or Poisson bursts of 3 spikes on average.")
@click.option("--amplitude-cv", type=float, default=0.0, show_default=True,
              help="Coefficient of variation of each spike's amplitude.")
@click.option("--drift", "drift_dff", type=float, default=0.0, show_default=True,
              help="Std of a slow baseline drift (dF/F).")
@click.option("--neuropil", type=float, default=0.0, show_default=True,
              help="Coefficient of a neuropil background shared by all neurons.")
@click.option("--shot-noise", type=float, default=0.0, show_default=True,
              help="Fraction of the noise variance that grows like sqrt(1 + dF/F).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--format", "fmt", type=click.Choice(SIMULATION_FORMATS), default="auto",
              show_default=True)
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
def simulate(output, indicator, n_neurons, duration_s, fps, noise_level, rate_hz, spike_pattern,
             amplitude_cv, drift_dff, neuropil, shot_noise, seed, fmt, force):
    """Simulate a recording with its true spikes (training or test data)."""
    from .signals import check_fps
    from .simulate import save_simulation, simulate_recording, simulation_paths

    fps = check_fps(fps, "--fps: ")
    checks = [("--neurons", n_neurons, n_neurons >= 1, "at least 1"),
              ("--duration", duration_s, np.isfinite(duration_s) and duration_s * fps >= 2,
               "at least 2 frames long"),
              ("--rate", rate_hz, np.isfinite(rate_hz) and rate_hz >= 0, "at least 0"),
              ("--noise", noise_level, np.isfinite(noise_level) and noise_level >= 0,
               "at least 0"),
              ("--amplitude-cv", amplitude_cv, np.isfinite(amplitude_cv) and amplitude_cv >= 0,
               "at least 0"),
              ("--drift", drift_dff, np.isfinite(drift_dff) and drift_dff >= 0, "at least 0"),
              ("--neuropil", neuropil, np.isfinite(neuropil) and neuropil >= 0, "at least 0"),
              ("--shot-noise", shot_noise, 0 <= shot_noise <= 1, "between 0 and 1")]
    for option, value, ok, requirement in checks:
        if not ok:
            raise SpikeinferError(f"{option} {value:g}: must be {requirement}")
    if simulation_paths(output, fmt)[0] == "spikefinder" and fps != 100:
        raise SpikeinferError(f"{output}: Spikefinder files are at 100 Hz; pass --fps 100 "
                              "or write .npy or .h5")
    ts = simulate_recording(n_neurons, duration_s, fps, rate_hz=rate_hz, indicator=indicator,
                            noise_level=noise_level, amplitude_cv=amplitude_cv,
                            drift_dff=drift_dff, neuropil=neuropil, shot_noise=shot_noise,
                            spike_pattern=spike_pattern, random_state=seed)
    traces_path, truth_path = save_simulation(output, ts, fmt, force=force)
    params = ts.meta["simulation"]
    click.echo(f"simulated {ts.n_neurons} neurons x {duration_s:g} s at {fps:g} Hz "
               f"({indicator or 'generic kinetics'}, nu {params['noise_level']:.2f}), "
               f"{sum(s.size for s in ts.spike_times)} spikes -> {traces_path}, {truth_path}")


@main.group()
def indicators():
    """Indicator presets of the simulator, fitted to ground truth."""


@indicators.command("list")
@click.option("--table", "table_path", type=click.Path(path_type=Path),
              help="A table written by 'spikeinfer indicators fit' (default: the shipped one).")
@click.option("--datasets", "with_datasets", is_flag=True, help="Also show every dataset's fit.")
@click.option("--json", "as_json", is_flag=True)
def indicators_list(table_path, with_datasets, as_json):
    """Show the presets: kinetics, amplitude, saturation, noise level, fit quality."""
    from .simulate import format_indicator_table, load_indicator_table

    table = load_indicator_table(table_path)
    if as_json:
        click.echo(json.dumps(table, indent=2))
        return
    text = format_indicator_table(table)
    click.echo(text if with_datasets else text.split("\n\n")[0])


@indicators.command("fit")
@click.option("--data", "data_dir", type=click.Path(path_type=Path),
              default=Path("../shared/data"), show_default=True,
              help="Folder with cascade_gt/ and spikefinder/ (set 4 is added).")
@click.option("--fps", type=float, default=30.0, show_default=True,
              help="Every recording is resampled to this rate before fitting.")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="JSON table to write (the shipped one: src/spikeinfer/simulate/indicators.json).")
@click.option("--force", is_flag=True, help="Overwrite an existing table.")
def indicators_fit(data_dir, fps, output, force):
    """Fit kinetics, amplitude and saturation per ground-truth dataset; presets per indicator."""
    import shlex
    import time

    from .signals import check_fps
    from .io import load_ground_truth
    from .io import write_atomically
    from .simulate import fit_indicator_table, format_indicator_table

    fps = check_fps(fps, "--fps: ")
    if output.exists() and not force:
        raise SpikeinferError(f"{output}: already exists; pass --force to overwrite")
    start = time.perf_counter()
    data = load_ground_truth(data_dir)
    table = fit_indicator_table(data, fps)
    seconds = time.perf_counter() - start
    table = {"command": "spikeinfer " + shlex.join(sys.argv[1:]), "seconds": round(seconds),
             **table}
    text = json.dumps(_finite(table), indent=1)
    write_atomically(output, lambda tmp: tmp.write_text(text + "\n"), force=force)
    click.echo(format_indicator_table(table))
    click.echo(f"fitted {len(table['datasets'])} datasets in {seconds:.0f} s -> {output}")


@main.group()
def generative():
    """Generative models of ground-truth windows: spike classifier, autoencoder and
    conditional GAN (see docs/generative.md)."""


@generative.command("train")
@click.argument("kind", type=click.Choice(["classifier", "autoencoder", "gan"]))
@click.option("--data", "data_dir", type=click.Path(path_type=Path),
              default=Path("../shared/data"), show_default=True,
              help="Folder with cascade_gt/ and spikefinder/ (set 4 is added).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Folder for model.json and weights.safetensors.")
@click.option("--steps", type=int, help="Training steps (default: the model's).")
@click.option("--seconds", "max_seconds", type=float, default=300.0, show_default=True,
              help="Wall-time budget of training.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Other hyper-parameter (JSON value), repeatable, e.g. --param latent=4.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the neuron split, the windows and the weights.")
@click.option("--force", is_flag=True, help="Overwrite an existing model folder.")
def generative_train(kind, data_dir, output, steps, max_seconds, params, seed, force):
    """Train a KIND model on ground-truth windows at 30 Hz, 20% of each dataset's
    neurons held out."""
    import shlex
    import time

    from .generative import MODELS
    from .io import load_ground_truth

    if (output / "model.json").exists() and not force:
        raise SpikeinferError(f"{output}: holds a model already; pass --force to overwrite")
    kwargs = {**_json_params(params), "max_seconds": max_seconds, "random_state": seed}
    if steps is not None:
        kwargs["steps"] = steps
    try:
        model = MODELS[kind](**kwargs)
    except TypeError as err:
        raise SpikeinferError(f"--param: {err}") from None
    model._validate()
    start = time.perf_counter()
    data = load_ground_truth(data_dir)
    model.fit(data, progress=True)
    model.training_["command"] = "spikeinfer " + shlex.join(sys.argv[1:])
    model.training_["total_seconds"] = round(time.perf_counter() - start, 1)
    model.save(output, force=force)
    last = model.training_["history"][-1]
    losses = ", ".join(f"{k} {v:.3f}" for k, v in last.items() if k != "step")
    click.echo(f"trained {kind} for {model.training_['steps']} steps in "
               f"{model.training_['seconds']:.0f} s ({losses}) -> {output}")


@generative.command("evaluate")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--data", "data_dir", type=click.Path(path_type=Path),
              default=Path("../shared/data"), show_default=True)
@click.option("--json", "json_path", type=click.Path(path_type=Path),
              help="Also write the results table as JSON to this file.")
def generative_evaluate(folder, data_dir, json_path):
    """Score a trained model on its held-out neurons: classifier AUC, autoencoder
    reconstruction error, or GAN two-sample accuracy and matched statistics (the
    results are also written to FOLDER/evaluation.json)."""
    import shlex
    import time

    from .generative import evaluate_model, format_evaluation, load_generative
    from .io import load_ground_truth

    model = load_generative(folder)
    start = time.perf_counter()
    result = evaluate_model(model, load_ground_truth(data_dir))
    result["command"] = "spikeinfer " + shlex.join(sys.argv[1:])
    result["seconds"] = round(time.perf_counter() - start, 1)
    click.echo(format_evaluation(result))
    _json_out(result, folder / "evaluation.json")
    if json_path:
        _json_out(result, json_path)


@generative.command("figures")
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--data", "data_dir", type=click.Path(path_type=Path),
              default=Path("../shared/data"), show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Folder for the PNG figures.")
@click.option("--force", is_flag=True, help="Overwrite existing figures.")
def generative_figures(folders, data_dir, output, force):
    """Figures of trained models (FOLDERS): AUC per dataset, the autoencoder's latent
    space, real beside generated traces; evaluation.json is used where present."""
    from .generative import load_generative
    from .io import load_ground_truth
    from .plotting.generative import plot_model

    models = [(folder, load_generative(folder)) for folder in folders]
    if not output.is_dir():
        output.mkdir(parents=True)
    data = load_ground_truth(data_dir)
    for folder, model in models:
        for path in plot_model(model, data, output, folder / "evaluation.json", force=force):
            click.echo(f"figure: {path}")


# -- embedding (issue 5, parts 1-2) ---------------------------------------------------

@main.group()
def embedding():
    """Embedding spaces of the ground-truth datasets: statistical and predictive."""


@embedding.command("fit")
@click.option("--data", "data_dir", type=click.Path(path_type=Path),
              default=Path("../shared/data"), show_default=True,
              help="Folder with cascade_gt/ and spikefinder/ (set 4 is added).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Folder for model.json and cross_prediction.npz (its cache: FOLDER/cache).")
@click.option("--neurons-per-dataset", type=int, default=4, show_default=True,
              help="Neurons per dataset whose single-neuron networks cross-predict.")
@click.option("--components", "n_components", type=int, default=2, show_default=True)
@click.option("--regressor", type=click.Choice(["auto", "tree", "knn", "forest", "ridge"]),
              default="auto", show_default=True,
              help="Map from properties to the predictive embedding (auto: the best "
                   "leave-one-dataset-out).")
@click.option("--budget", "budget_s", type=float,
              help="Time limit (s) of the cross-prediction's training.")
@click.option("--selection", type=click.Choice(["auto", "predictive", "properties", "statistical"]),
              default="auto", show_default=True,
              help="How 'place' chooses the nearest datasets (auto: the best "
                   "leave-one-dataset-out).")
@click.option("--statistical-only", is_flag=True,
              help="Skip the cross-prediction (seconds instead of minutes).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing embedding.")
def embedding_fit(data_dir, output, neurons_per_dataset, n_components, regressor, selection,
                  budget_s, statistical_only, seed, force):
    """Fit both embeddings and the regressor on all ground truth. The cross-prediction is
    cached in FOLDER/cache and reused by a refit with the same data and parameters."""
    import shlex
    import time

    import torch

    from .embedding import Embedding
    from .io import load_ground_truth

    if (output / "model.json").exists() and not force:
        raise SpikeinferError(f"{output / 'model.json'}: already exists; pass --force "
                              "to overwrite")
    if neurons_per_dataset < 2:
        raise SpikeinferError(f"--neurons-per-dataset {neurons_per_dataset}: use 2 or more")
    torch.set_num_threads(1)
    start = time.perf_counter()
    data = load_ground_truth(data_dir)
    emb = Embedding(n_components, not statistical_only, neurons_per_dataset, regressor,
                    selection, budget_s, seed)
    output.mkdir(parents=True, exist_ok=True)
    emb.fit(data, memory=output / "cache")
    seconds = time.perf_counter() - start
    info = {"command": "spikeinfer " + shlex.join(sys.argv[1:]), "seconds": round(seconds)}
    emb.save(output, force=force, info=info)
    click.echo(f"{len(emb.datasets_)} datasets; statistical embedding explains "
               f"{emb.statistical_explained_.sum():.0%} of the standardised properties")
    if emb.has_predictive:
        click.echo(f"predictive embedding of {len(emb.predictive_datasets_)} datasets explains "
                   f"{emb.predictive_explained_.sum():.0%} of the distance matrix")
        click.echo("leave-one-dataset-out placement: error (embedding units), best predictor "
                   "among the 3 nearest, regret")
        for name, s in emb.regressor_scores_.items():
            mark = " <- chosen" if name == emb.regressor_ else ""
            click.echo(f"  {name:<12}{s['error']:8.3f}{s['hit']:8.2f}{s['regret']:8.3f}{mark}")
        click.echo("choosing the 3 nearest datasets, leave-one-dataset-out: best predictor "
                   "among them, regret")
        for name, s in emb.selection_scores_.items():
            mark = " <- chosen" if name == emb.selection_ else ""
            click.echo(f"  {name:<12}{s['hit']:8.2f}{s['regret']:8.3f}{mark}")
    click.echo(f"fitted in {seconds:.0f} s -> {output}")


@embedding.command("figures")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Folder for the PNG figures.")
def embedding_figures(folder, output):
    """Figures of the embedding in FOLDER: cross-prediction and distance matrices, both
    embeddings, mean properties, leave-one-dataset-out placements."""
    from .embedding import load_embedding
    from .plotting.embedding import save_figures

    emb = load_embedding(folder)
    for path in save_figures(emb, output):
        click.echo(f"figure: {path}")


@embedding.command("place")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--fps", type=float, help="Frame rate in Hz, where the format has none.")
@click.option("--embedding", "embedding_path", default="default", show_default=True,
              help="Folder written by 'spikeinfer embedding fit', or the shipped default.")
@click.option("-k", "k", type=int, default=3, show_default=True,
              help="How many nearest datasets to list.")
@click.option("--method", type=click.Choice(["predictive", "properties", "statistical"]),
              help="Space in which to measure distances (default: the embedding's choice).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True)
@click.option("--orientation", type=click.Choice(ORIENTATIONS), default="auto",
              show_default=True, help="Layout of .npy/.csv/HDF5 matrices.")
@click.option("--dataset", help="HDF5 dataset path or NWB series name.")
def embedding_place(input_path, fps, embedding_path, k, method, fmt, orientation, dataset):
    """The ground-truth datasets nearest to the recording INPUT."""
    from .embedding import load_embedding
    from .io import load_traces

    ts = load_traces(input_path, fmt, fps, orientation=orientation, dataset=dataset)
    emb = load_embedding(embedding_path)
    method = method or emb.selection_
    distances = emb.distances_to_datasets(ts.traces, ts.fps, method)
    if not (1 <= k <= len(distances)):
        raise SpikeinferError(f"-k {k}: choose 1 to {len(distances)}")
    click.echo(f"{'dataset':<40}{'distance':>10}   ({method})")
    for name, d in list(distances.items())[:k]:
        click.echo(f"{name:<40}{d:>10.3f}")
