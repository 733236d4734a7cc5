"""``spikeinfer generative``: generative models of ground-truth windows."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..exceptions import SpikeinferError
from ._common import _json_out, _json_params, data_option, ground_truth_dir, show_progress


@click.group()
def generative():
    """Generative models of ground-truth windows: spike classifier, autoencoder and
    conditional GAN (see docs/generative.md)."""


@generative.command("train")
@click.argument("kind", type=click.Choice(["classifier", "autoencoder", "gan"]))
@data_option("Folder with cascade_gt/ and spikefinder/ (set 4 is added).")
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

    from ..generative import MODELS
    from ..io import load_ground_truth

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
    data = load_ground_truth(ground_truth_dir(data_dir))
    model.fit(data, progress=show_progress())
    model.training_["command"] = "spikeinfer " + shlex.join(sys.argv[1:])
    model.training_["total_seconds"] = round(time.perf_counter() - start, 1)
    model.save(output, force=force)
    last = model.training_["history"][-1]
    losses = ", ".join(f"{k} {v:.3f}" for k, v in last.items() if k != "step")
    click.echo(f"trained {kind} for {model.training_['steps']} steps in "
               f"{model.training_['seconds']:.0f} s ({losses}) -> {output}")


@generative.command("evaluate")
@click.argument("folder", type=click.Path(path_type=Path))
@data_option("Folder with cascade_gt/ and spikefinder/.")
@click.option("--json", "json_path", type=click.Path(path_type=Path),
              help="Also write the results table as JSON to this file.")
def generative_evaluate(folder, data_dir, json_path):
    """Score a trained model on its held-out neurons: classifier AUC, autoencoder
    reconstruction error, or GAN two-sample accuracy and matched statistics (the
    results are also written to FOLDER/evaluation.json)."""
    import shlex
    import time

    from ..generative import evaluate_model, format_evaluation, load_generative
    from ..io import load_ground_truth

    model = load_generative(folder)
    start = time.perf_counter()
    result = evaluate_model(model, load_ground_truth(ground_truth_dir(data_dir)))
    result["command"] = "spikeinfer " + shlex.join(sys.argv[1:])
    result["seconds"] = round(time.perf_counter() - start, 1)
    click.echo(format_evaluation(result))
    _json_out(result, folder / "evaluation.json")
    if json_path:
        _json_out(result, json_path)


@generative.command("figures")
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path))
@data_option("Folder with cascade_gt/ and spikefinder/.")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Folder for the PNG figures.")
@click.option("--force", is_flag=True, help="Overwrite existing figures.")
def generative_figures(folders, data_dir, output, force):
    """Figures of trained models (FOLDERS): AUC per dataset, the autoencoder's latent
    space, real beside generated traces; evaluation.json is used where present."""
    from ..generative import load_generative
    from ..io import load_ground_truth
    from ..plotting.generative import plot_model

    models = [(folder, load_generative(folder)) for folder in folders]
    if not output.is_dir():
        output.mkdir(parents=True)
    data = load_ground_truth(ground_truth_dir(data_dir))
    for folder, model in models:
        for path in plot_model(model, data, output, folder / "evaluation.json", force=force):
            click.echo(f"figure: {path}")
