"""``spikeinfer benchmark``: models scored on ground truth, and their speed."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..exceptions import SpikeinferError
from ._common import (ESTIMATOR_NAMES, _finite, _json_out, _json_params, data_option,
                      ground_truth_dir, show_progress)


@click.group()
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
    from ..evaluation.benchmark import benchmark_spikefinder, format_benchmark
    from ..models import load_model

    model = load_model(model_name)
    chosen = [s.strip() for s in sets.split(",") if s.strip()] if sets else None
    result = benchmark_spikefinder(folder, model, split, chosen, peers,
                                  progress=not as_json and show_progress())
    if as_json:
        click.echo(json.dumps(_finite(result), indent=2))
    else:
        click.echo(format_benchmark(result, model_name))



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
    from ..evaluation.groundtruth import format_datasets, score_datasets
    from ..io import load_cascade_dataset
    from ..models import load_model

    model = load_model(model_name)
    data = [ts for folder in folders for ts in load_cascade_dataset(folder, quiet=True)]
    max_lag = round(0.1 * fps) if fps else 0
    result = score_datasets(model, data, fps, noise_level, seed, max_lag=max_lag,
                            progress=not as_json and show_progress())
    if as_json:
        _json_out(result, None)
    else:
        click.echo(format_datasets(result, model_name))


@benchmark.command("cv")
@data_option("Folder with cascade_gt/ and spikefinder/ (set 4 is added).")
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
    from ..evaluation.groundtruth import cross_validate, format_cv, summarise_cv
    from ..io import load_ground_truth
    from ..models import make_estimator

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
    data = load_ground_truth(ground_truth_dir(data_dir))
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
    from ..evaluation.speed import SUFFIXES, benchmark_speed, format_speed
    from ..models import load_model

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
