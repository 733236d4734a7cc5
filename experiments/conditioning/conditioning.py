"""Condition the attended network on the embedding's nearest dataset for unseen data?

What it measures
----------------
For cross-validation folds ``--folds`` (default 2 and 3) of ``make_folds(sorted
datasets, 5)`` (the folds of ``spikeinfer benchmark cv``), the attended recipe
(``--recipe 150s``, the default: ``make_estimator("attended", loss="mse", steps=3000,
max_seconds=150.0, floor_percentile=None)``, as the CV ran it then; ``--recipe current``:
the shipped recipe, 1000 steps) is trained on the fold's training datasets and a
statistical embedding (``Embedding(predictive=False)``) is fitted on the same datasets.
Every held-out dataset is then scored with ``score_datasets`` at its native rate and at
30 Hz with noise nu = 4, the network's dataset conditioning being

- ``mean``: the mean learned embedding (``dataset=None``, the unseen-dataset fallback);
- ``nearest``: the learned embedding of the training dataset nearest to the held-out
  dataset in the embedding (``model.dataset = nearest[0]``);
- ``mixture``: the inverse-distance-weighted mean of the 3 nearest datasets' learned
  embeddings (set here by temporarily overwriting the nearest dataset's row of the
  network's embedding table; no library change).

A held-out dataset is placed by the neuron-weighted mean of its recordings' distances
to the training datasets (``Embedding.distances_to_datasets``), computed on the very
traces that are scored (native, or resampled to 30 Hz with noise added); recordings
with no trace long enough for the properties (8 s) do not vote.

Usage: ``OMP_NUM_THREADS=1 python experiments/conditioning/conditioning.py [--data DIR]
[--folds 2 3] [--recipe 150s|current] [--results DIR] [--oracle]``; ``--oracle`` also
scores every training dataset's conditioning at the native rate (an upper bound for
choosing one; about 13 min a fold). RESULTS defaults to
``experiments/conditioning`` (``recipe-current/`` in it for ``--recipe current``);
trained fold models are kept in ``RESULTS/foldK-attended/`` and per-fold scores in
``RESULTS/foldK.json``, and reruns reuse both.
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from spikeinfer.embedding import Embedding
from spikeinfer.evaluation.groundtruth import (
    degrade,
    make_folds,
    score_datasets,
)
from spikeinfer.exceptions import InputError
from spikeinfer.io import load_ground_truth, write_atomically
from spikeinfer.models import load_model, make_estimator

CONDITIONS = ("mean", "nearest", "mixture")
FPS, NOISE = 30.0, 4.0


@contextmanager
def mixture_embedding(model, weights: dict[str, float]):
    """Condition ``model`` on the weighted mean of some datasets' learned embeddings."""
    table = model.net_.embedding.weight
    names = model.dataset_names_
    first = next(iter(weights))
    row = names.index(first)
    saved = table.data[row].clone()
    mixed = sum(w * table.data[names.index(d)] for d, w in weights.items())
    previous = model.dataset
    try:
        with torch.no_grad():
            table.data[row] = mixed
        model.dataset = first
        yield model
    finally:
        with torch.no_grad():
            table.data[row] = saved
        model.dataset = previous


def place(emb: Embedding, test, fps, noise) -> dict[str, dict[str, float]]:
    """Held-out dataset -> {training dataset: neuron-weighted mean distance}, nearest first."""
    sums: dict[str, dict[str, float]] = {}
    counts: dict[str, int] = {}
    for i, ts in enumerate(test):
        ts = degrade(ts, fps, noise, i)  # the same traces as score_datasets scores
        n = len(ts.traces)
        try:
            distances = emb.distances_to_datasets(ts.traces, ts.fps)
        except InputError:  # no trace long enough: this recording does not vote
            continue
        for d, dist in distances.items():
            sums.setdefault(ts.dataset, {}).setdefault(d, 0.0)
            sums[ts.dataset][d] += n * dist
        counts[ts.dataset] = counts.get(ts.dataset, 0) + n
    return {name: dict(sorted(((d, v / counts[name]) for d, v in s.items()),
                              key=lambda kv: kv[1]))
            for name, s in sums.items()}


#: The attended recipes: the one first measured (cut at 150 s) and the shipped one.
RECIPES = {"150s": {"loss": "mse", "steps": 3000, "max_seconds": 150.0,
                    "floor_percentile": None},
           "current": {}}


def run_fold(k: int, held_out: list[str], data, results: Path, recipe: str = "150s") -> dict:
    train = [ts for ts in data if ts.dataset not in held_out]
    test = [ts for ts in data if ts.dataset in held_out]
    folder = results / f"fold{k}-attended"
    start = time.perf_counter()
    if (folder / "model.json").exists():
        model = load_model(folder)
        print(f"fold {k}: reusing {folder}", flush=True)
    else:
        print(f"fold {k}: training on {len({ts.dataset for ts in train})} datasets, "
              f"holding out {', '.join(held_out)}", flush=True)
        model = make_estimator("attended", **RECIPES[recipe])
        model.fit(train)
        model.save(folder)
    fit_s = time.perf_counter() - start
    emb = Embedding(predictive=False).fit(train)
    out = {"held_out": held_out, "fit_s": round(fit_s, 1), "training": model.dataset_names_,
           "placement": {}, "scores": {}}
    for label, fps, noise in (("native", None, None), ("degraded", FPS, NOISE)):
        placement = place(emb, test, fps, noise)
        out["placement"][label] = placement
        scores = out["scores"][label] = {}
        model.dataset = None
        scores["mean"] = score_datasets(model, test, fps, noise)["datasets"]
        scores["nearest"], scores["mixture"] = {}, {}
        for name in held_out:
            part = [ts for ts in test if ts.dataset == name]
            near = list(placement[name].items())
            model.dataset = near[0][0]
            # The i-th recording must get the same noise as in score_datasets(test).
            first = next(i for i, ts in enumerate(test) if ts.dataset == name)
            scores["nearest"].update(score_datasets(model, part, fps, noise, first)["datasets"])
            inv = {d: 1.0 / max(dist, 1e-9) for d, dist in near[:3]}
            total = sum(inv.values())
            with mixture_embedding(model, {d: w / total for d, w in inv.items()}):
                scores["mixture"].update(
                    score_datasets(model, part, fps, noise, first)["datasets"])
        model.dataset = None
        print(f"fold {k} {label}: scored, {time.perf_counter() - start:.0f} s", flush=True)
    out["total_s"] = round(time.perf_counter() - start, 1)
    return out


def run_oracle(k: int, held_out: list[str], data, results: Path) -> dict:
    """Every training dataset's conditioning, native rate: how much can the choice matter?"""
    test = [ts for ts in data if ts.dataset in held_out]
    model = load_model(results / f"fold{k}-attended")
    out = {"held_out": held_out, "native": {}}
    for d in [None, *model.dataset_names_]:
        model.dataset = d
        out["native"][d or "mean"] = score_datasets(model, test)["datasets"]
        print(f"fold {k} oracle: {d or 'mean'}", flush=True)
    return out


def format_oracle(oracle: dict, fold: dict) -> str:
    lines = ["| dataset | mean | nearest | worst (dataset) | best (dataset) | nearest's rank |",
             "|---|---|---|---|---|---|"]
    for name in oracle["held_out"]:
        corr = {d: s[name]["corr"] for d, s in oracle["native"].items() if d != "mean"}
        order = sorted(corr, key=corr.get, reverse=True)
        near = next(iter(fold["placement"]["native"][name]))
        lines.append(f"| {short(name)} | {oracle['native']['mean'][name]['corr']:.3f} | "
                     f"{corr[near]:.3f} | {corr[order[-1]]:.3f} ({short(order[-1])}) | "
                     f"{corr[order[0]]:.3f} ({short(order[0])}) | "
                     f"{order.index(near) + 1} of {len(order)} |")
    return "\n".join(lines)


def short(name: str) -> str:
    return name.split("-")[0]


def format_table(folds: list[dict]) -> str:
    head = ("| dataset | nearest (native) | nearest (30 Hz) | "
            + " | ".join(f"{c} native" for c in CONDITIONS) + " | "
            + " | ".join(f"{c} 30Hz/nu4" for c in CONDITIONS) + " |")
    lines = [head, "|" + "---|" * (3 + 2 * len(CONDITIONS))]
    cols: list[list[float]] = [[] for _ in range(2 * len(CONDITIONS))]
    for fold in folds:
        for name in fold["held_out"]:
            row = [short(name), short(next(iter(fold["placement"]["native"][name]))),
                   short(next(iter(fold["placement"]["degraded"][name])))]
            j = 0
            for label in ("native", "degraded"):
                for c in CONDITIONS:
                    v = fold["scores"][label][c][name]["corr"]
                    cols[j].append(np.nan if v is None else v)
                    row.append("-" if v is None else f"{v:.3f}")
                    j += 1
            lines.append("| " + " | ".join(row) + " |")
    lines.append("| **mean** | | | " + " | ".join(f"**{np.nanmean(c):.3f}**" for c in cols) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--folds", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="150s")
    parser.add_argument("--results", type=Path,
                        help="default: experiments/conditioning, and its recipe-current/ "
                             "for --recipe current (stored models are reused by folder)")
    parser.add_argument("--oracle", action="store_true",
                        help="also score every training dataset's conditioning (native rate)")
    args = parser.parse_args()
    if args.results is None:
        args.results = Path(__file__).resolve().parent / (
            "recipe-current" if args.recipe == "current" else "")

    data = load_ground_truth(args.data)
    folds = make_folds(sorted({ts.dataset for ts in data}), 5)
    args.results.mkdir(parents=True, exist_ok=True)
    done = []
    for k in args.folds:
        path = args.results / f"fold{k}.json"
        if path.exists() and json.loads(path.read_text())["held_out"] == folds[k]:
            done.append(json.loads(path.read_text()))
            continue
        result = run_fold(k, folds[k], data, args.results, args.recipe)
        write_atomically(path, lambda tmp, r=result: tmp.write_text(json.dumps(r, indent=1)),
                         force=True)
        done.append(result)
    print(format_table(done))
    if args.oracle:
        for k, fold in zip(args.folds, done):
            path = args.results / f"fold{k}-oracle.json"
            if path.exists() and json.loads(path.read_text())["held_out"] == folds[k]:
                oracle = json.loads(path.read_text())
            else:
                oracle = run_oracle(k, folds[k], data, args.results)
                write_atomically(path, lambda tmp, r=oracle: tmp.write_text(
                    json.dumps(r, indent=1)), force=True)
            print(f"\nfold {k}, native rate, every training dataset's conditioning:")
            print(format_oracle(oracle, fold))


if __name__ == "__main__":
    main()
