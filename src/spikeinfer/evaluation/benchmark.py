"""Benchmarks on ground truth: scores of a model (and of peer predictions) per dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..exceptions import InputError
from ..io import SPIKEFINDER_FPS, load_counts, load_spikefinder
from .metrics import MEASURES, mean_scores, score_neurons


def _summary(per_set: dict[str, dict[str, np.ndarray]]) -> dict:
    """Per-set means, and the mean over all cells of all sets."""
    sets = {s: {"n_cells": len(sc["corr"]), **mean_scores(sc)} for s, sc in per_set.items()}
    pooled = {m: np.concatenate([sc[m] for sc in per_set.values()]) for m in MEASURES}
    return {"sets": sets, "all": {"n_cells": len(pooled["corr"]), **mean_scores(pooled)}}


def benchmark_spikefinder(folder, model, split: str = "train", sets=None, peers=None,
                          progress: bool = False) -> dict:
    """Predict and score every ``N.<split>.calcium.csv`` in ``folder``.

    Parameters
    ----------
    folder : path
        Folder with ``N.<split>.calcium.csv`` and ``N.<split>.spikes.csv``.
    model : SpikeModel
        A fitted model.
    split : {"train", "test"}, default="train"
    sets : list of str, default=None
        Set numbers; all present if None.
    peers : path, default=None
        Folder with one subfolder per team holding ``N.<split>.spikes.csv``;
        these predictions are scored by the same code.

    Returns
    -------
    dict with ``model`` (per-set and overall means) and ``peers`` (team -> same).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    available = sorted((p.name.split(".")[0] for p in folder.glob(f"*.{split}.calcium.csv")),
                       key=lambda s: (len(s), s))
    chosen = list(dict.fromkeys(str(s) for s in sets)) if sets else available
    missing = [s for s in chosen if s not in available]
    if missing:
        raise InputError(f"{folder}: no {split} calcium file for set(s) {', '.join(missing)}")
    if not chosen:
        raise InputError(f"{folder}: no *.{split}.calcium.csv files")
    model_scores, truths = {}, {}
    for s in chosen:
        ts = load_spikefinder(folder / f"{s}.{split}.calcium.csv")
        truths[s] = ts.spike_counts()
        model_scores[s] = score_neurons(model.predict_traceset(ts, progress=progress),
                                        truths[s], ts.fps)
    result = {"split": split, "sets": chosen, "model": _summary(model_scores), "peers": {}}
    if peers is not None:
        peers = Path(peers)
        if not peers.is_dir():
            raise InputError(f"{peers}: not a folder")
        for team in sorted(p for p in peers.iterdir() if p.is_dir()):
            team_scores = {}
            for s in chosen:
                path = team / f"{s}.{split}.spikes.csv"
                if path.exists():
                    pred, _ = load_counts(path, "spikefinder")
                    team_scores[s] = score_neurons(pred, truths[s], SPIKEFINDER_FPS)
            if team_scores:
                result["peers"][team.name] = _summary(team_scores)
    return result


def format_benchmark(result: dict, model_name: str) -> str:
    """Plain-text tables: one row per entry, one column per set, then all cells."""
    sets = result["sets"]
    entries = {model_name: result["model"], **result["peers"]}
    lines = []
    for measure in ("corr", "rank", "auc", "bias"):
        header = f"{measure:<12}" + "".join(f"{'set ' + s:>10}" for s in sets) + f"{'all cells':>11}"
        lines += [header, "-" * len(header)]
        for name, summary in entries.items():
            cells = "".join(f"{_fmt(summary['sets'].get(s, {}).get(measure)):>10}" for s in sets)
            lines.append(f"{name:<12}{cells}{_fmt(summary['all'][measure]):>11}")
        lines.append("")
    n = "  ".join(f"set {s}: {result['model']['sets'][s]['n_cells']}" for s in sets)
    lines.append(f"cells: {n}; peers scored only on the sets they submitted")
    return "\n".join(lines)


def _fmt(value) -> str:
    return "-" if value is None or not np.isfinite(value) else f"{value:.3f}"
