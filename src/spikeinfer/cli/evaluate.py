"""``spikeinfer evaluate``: scores of predictions against true spike counts."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..exceptions import SpikeinferError
from ._common import _finite


@click.command()
@click.argument("pred", type=click.Path(exists=True, path_type=Path))
@click.argument("truth", type=click.Path(exists=True, path_type=Path))
@click.option("--fps", type=float, help="Frame rate in Hz (100 for Spikefinder files).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable results.")
def evaluate(pred, truth, fps, as_json):
    """Score predictions PRED against true spike counts TRUTH (Spikefinder protocol)."""
    from ..signals import check_fps
    from ..evaluation import MEASURES, mean_scores, score_neurons
    from ..io import SPIKEFINDER_FPS, detect_format, load_counts

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
