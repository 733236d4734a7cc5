"""``spikeinfer train`` and ``spikeinfer adapt``: fit a model on ground truth, or fine-tune
one on the ground truth nearest to a recording."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..exceptions import SpikeinferError
from ..io import FORMATS, ORIENTATIONS
from ._common import (ESTIMATOR_NAMES, _json_params, data_option, ground_truth_dir, naming,
                      show_progress)


@click.command()
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

    from ..evaluation.groundtruth import read_cv_scores
    from ..io import load_cascade_collection, load_spikefinder
    from ..models import make_estimator

    if (output / "model.json").exists() and not force:
        raise SpikeinferError(f"{output}: holds a model already; pass --force to overwrite")
    kwargs = _json_params(params)
    with naming("--param"):  # bad names or values fail before the ground truth is read
        model = make_estimator(architecture, **kwargs)
    scores = {"cross_validation": read_cv_scores(cv_path, architecture)} if cv_path else {}
    excluded = [e.strip() for e in exclude.split(",") if e.strip()]
    data = [ts for ts in load_cascade_collection(data_dir, quiet=True)
            if not any(ts.dataset.startswith(e) for e in excluded)]
    data += [load_spikefinder(path) for path in spikefinder_files]
    sources = ", ".join(map(str, [data_dir, *spikefinder_files]))
    if not data:
        raise SpikeinferError(f"{sources}: no ground truth left after --exclude {exclude}")
    start = time.perf_counter()
    with naming(sources):
        model.fit(data, progress=show_progress())
    seconds = time.perf_counter() - start
    datasets = sorted({ts.dataset for ts in data})
    model.save(output, version=version, scores=scores,
               command="spikeinfer " + shlex.join(sys.argv[1:]), notes=f"fit in {seconds:.0f} s")
    click.echo(f"trained {architecture} on {len(datasets)} datasets in {seconds:.0f} s -> {output}")


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Folder of the adapted model (use it with --model FOLDER).")
@click.option("--fps", type=float, help="Frame rate in Hz, where the format has none.")
@click.option("--model", "model_name", default="default", show_default=True,
              help="Network to start from: shipped name or saved model folder.")
@data_option("Folder of CASCADE-format ground-truth datasets, or the data folder holding "
             "them in cascade_gt/.")
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

    from ..embedding import adapt_model, load_embedding
    from ..io import load_cascade_collection, load_traces
    from ..models import load_model

    if (output / "model.json").exists() and not force:
        raise SpikeinferError(f"{output}: holds a model already; pass --force to overwrite")
    if n_nearest < 1 or steps < 1:
        raise SpikeinferError("-k and --steps must be at least 1")
    data_dir = ground_truth_dir(data_dir)
    if (data_dir / "cascade_gt").is_dir():
        data_dir = data_dir / "cascade_gt"
    recording = load_traces(input_path, fmt, fps, orientation=orientation, dataset=dataset)
    model = load_model(model_name)
    embedding = load_embedding(embedding_name)
    start = time.perf_counter()
    ground_truth = load_cascade_collection(data_dir, quiet=True)
    with naming(f"{input_path} (model {model_name}, ground truth {data_dir})"):
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
