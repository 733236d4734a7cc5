"""Does adapting the default model to a new recording help? Grouped cross-validation.

What it measures
----------------
For every fold of ``spikeinfer benchmark cv`` (same folds): the default recipe trained on
the other folds' datasets (the generic model), and an embedding fitted on those same
datasets (statistical embedding: the predictive one takes too long per fold). Each
held-out dataset, at its native rate and at 30 Hz with noise nu = 4, is then placed in
the embedding, and the generic model fine-tuned on its ``k`` nearest training datasets
with noise matched to the recording (:func:`spikeinfer.embedding.adapt_model`), as
``spikeinfer adapt`` does; with ``--simulate``, also on those datasets' spike trains
simulated with the recording's own estimated decay and spike amplitude, as
``spikeinfer predict --adapt`` does. Generic and adapted models score the dataset.
``--generic DIR`` takes the fold models from there (``default-foldK``, e.g. those of
``spikeinfer benchmark cv --save-models``) instead of training them.

Usage: ``python benchmarks/adaptation.py [--data DIR] [--only-fold K ...] [--k 3]
[--steps 300] [--simulate] [--generic DIR] [--results DIR] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from spikeinfer.embedding import Embedding, adapt_model
from spikeinfer.evaluation.groundtruth import degrade, make_folds, score_datasets
from spikeinfer.io import is_inhibitory, load_ground_truth, write_atomically
from spikeinfer.models import load_model, make_estimator

CONDITIONS = {"native": (None, None), "degraded": (30.0, 4.0)}


def run_fold(k, held_out, data, args) -> dict:
    train = [ts for ts in data if ts.dataset not in held_out]
    folder = (args.generic / f"default-fold{k}" if args.generic else
              args.results / f"fold{k}-generic")
    if (folder / "model.json").exists():
        generic = load_model(folder)
    else:
        generic = make_estimator("default", max_seconds=900.0).fit(train)
        generic.save(folder)
    embedding = Embedding(predictive=False).fit(train)
    result = {"held_out": held_out, "datasets": {}}
    for name in held_out:
        recordings = [ts for ts in data if ts.dataset == name]
        entry = result["datasets"][name] = {}
        for condition, (fps, nu) in CONDITIONS.items():
            degraded = [degrade(ts, fps, nu, random_state=i) for i, ts in enumerate(recordings)]
            largest = max(degraded, key=lambda ts: ts.n_neurons * ts.n_frames)
            start = time.perf_counter()
            adapted, chosen = adapt_model(generic, largest, train, embedding, args.k,
                                          steps=args.steps, simulate=args.simulate,
                                          random_state=args.seed)
            seconds = time.perf_counter() - start
            scores = {label: score_datasets(model, degraded)["datasets"][name]
                      for label, model in (("generic", generic), ("adapted", adapted))}
            entry[condition] = {**scores, "chosen": chosen, "adapt_s": round(seconds, 1),
                                "noise_levels": list(adapted.augmentation.noise_levels)}
            print(f"fold {k} {name} {condition}: generic {scores['generic']['corr']:.3f} "
                  f"adapted {scores['adapted']['corr']:.3f} ({', '.join(chosen)}; "
                  f"{seconds:.0f} s)", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only-fold", type=int, action="append", dest="only_folds")
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--simulate", action="store_true",
                        help="Also fine-tune on twins simulated with the recording's estimates.")
    parser.add_argument("--generic", type=Path, help="Folder of the fold models.")
    parser.add_argument("--results", type=Path, default=Path("benchmarks/results/adaptation"))
    parser.add_argument("--json", type=Path, help="also write the summary here")
    args = parser.parse_args()

    data = load_ground_truth(args.data)
    folds = make_folds(sorted({ts.dataset for ts in data}), args.folds)
    per_fold = {}
    for k, held_out in enumerate(folds):
        path = args.results / f"fold{k}.json"
        settings = {"k": args.k, "steps": args.steps, "seed": args.seed}
        if args.simulate:
            settings["simulate"] = True
        if path.exists() and json.loads(path.read_text()).get("settings") == settings:
            per_fold[k] = json.loads(path.read_text())
        elif args.only_folds is None or k in args.only_folds:
            per_fold[k] = {**run_fold(k, held_out, data, args), "settings": settings}
            args.results.mkdir(parents=True, exist_ok=True)
            write_atomically(path, lambda tmp, doc=per_fold[k]: tmp.write_text(
                json.dumps(doc, indent=1)), force=True)
    summary = summarise(per_fold)
    print(format_table(summary))
    if args.json:
        write_atomically(args.json, lambda tmp: tmp.write_text(json.dumps(summary, indent=1)),
                         force=True)


def summarise(per_fold: dict) -> dict:
    rows = {name: entry for fold in per_fold.values() for name, entry in fold["datasets"].items()}
    summary = {"folds": sorted(per_fold), "datasets": rows, "means": {}}
    for condition in CONDITIONS:
        for label in ("generic", "adapted"):
            corr = [rows[d][condition][label]["corr"] for d in rows]
            summary["means"][f"{condition}/{label}"] = {
                "all": float(np.mean(corr)),
                "excitatory": float(np.mean([c for d, c in zip(rows, corr)
                                             if not is_inhibitory(d)])),
                "inhibitory": float(np.mean([c for d, c in zip(rows, corr)
                                             if is_inhibitory(d)]))}
    return summary


def format_table(summary: dict) -> str:
    lines = ["| dataset | native generic | adapted | 30 Hz/nu 4 generic | adapted | nearest (native) |",
             "|---|---|---|---|---|---|"]
    for name, entry in sorted(summary["datasets"].items()):
        cells = [f"{entry[c][m]['corr']:.3f}" for c in CONDITIONS for m in ("generic", "adapted")]
        chosen = ", ".join(d.split("-")[0] for d in entry["native"]["chosen"])
        lines.append(f"| {name} | {' | '.join(cells)} | {chosen} |")
    means = summary["means"]
    cells = [f"{means[f'{c}/{m}']['all']:.3f}" for c in CONDITIONS for m in ("generic", "adapted")]
    lines.append(f"| **mean** ({len(summary['datasets'])} datasets) | {' | '.join(cells)} | |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
