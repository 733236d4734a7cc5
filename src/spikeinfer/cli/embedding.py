"""``spikeinfer embedding``: embedding spaces of the ground-truth datasets."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..exceptions import SpikeinferError
from ..io import FORMATS, ORIENTATIONS
from ._common import data_option, ground_truth_dir


@click.group()
def embedding():
    """Embedding spaces of the ground-truth datasets: statistical and predictive."""


@embedding.command("fit")
@data_option("Folder with cascade_gt/ and spikefinder/ (set 4 is added).")
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

    from ..embedding import Embedding
    from ..io import load_ground_truth

    if (output / "model.json").exists() and not force:
        raise SpikeinferError(f"{output / 'model.json'}: already exists; pass --force "
                              "to overwrite")
    if neurons_per_dataset < 2:
        raise SpikeinferError(f"--neurons-per-dataset {neurons_per_dataset}: use 2 or more")
    torch.set_num_threads(1)
    start = time.perf_counter()
    data = load_ground_truth(ground_truth_dir(data_dir))
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
    from ..embedding import load_embedding
    from ..plotting.embedding import save_figures

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
    from ..embedding import load_embedding
    from ..io import load_traces

    ts = load_traces(input_path, fmt, fps, orientation=orientation, dataset=dataset)
    emb = load_embedding(embedding_path)
    method = method or emb.selection_
    distances = emb.distances_to_datasets(ts.traces, ts.fps, method)
    if not (1 <= k <= len(distances)):
        raise SpikeinferError(f"-k {k}: choose 1 to {len(distances)}")
    click.echo(f"{'dataset':<40}{'distance':>10}   ({method})")
    for name, d in list(distances.items())[:k]:
        click.echo(f"{name:<40}{d:>10.3f}")
