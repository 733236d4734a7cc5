"""Spike times and intervals on held-out datasets of the cross-validation.

Each dataset is predicted by the fold model that never saw it (``--models``: folders
``default-foldK`` written by ``spikeinfer benchmark cv --save-models``), natively and at
30 Hz with noise nu = 4. Then:

- spike times: F1 of the inferred spikes against the true ones, matched one to one within
  +-50 ms and +-100 ms, and the error of the count per second (mean |inferred - true| over
  1 s bins, per true spike), for ``place_spikes`` (spikeinfer), rounding each frame's
  expected count, and OASIS's deconvolution thresholded (an OASIS model fitted on the same
  training folds; a spike per frame above half its spike size, several where above 1.5,
  2.5, ...);
- intervals: the 90% interval of counts in 100 ms and 1 s bins (``CountError``): its
  ``log_sd`` chosen on the held-out datasets of the other four folds (the value whose
  coverage in 1 s bins, averaged over datasets, is closest to 90%), so that every dataset
  is scored with a width chosen without it; the coverage of the true count per dataset
  and the mean width. ``log_sd_all_folds`` is the value chosen on all datasets (the one
  a model card carries).

    python benchmarks/outputs.py --data ../shared/data --models benchmarks/results/cv-models \\
        --cache /tmp/outputs-cache --json benchmarks/results/outputs.json
    python benchmarks/outputs.py --json benchmarks/results/outputs.json --table
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np

from spikeinfer.evaluation.groundtruth import degrade
from spikeinfer.inference import CountError, count_interval, place_spikes
from spikeinfer.io import cv_folds, load_ground_truth, write_atomically
from spikeinfer.models import OasisModel, load_model

CONDITIONS = {"native": (None, None), "30Hz_nu4": (30.0, 4.0)}
BINS_S = (0.1, 1.0)
METHODS = ("spikeinfer", "rounding", "oasis")
#: The bins (s) whose coverage chooses log_sd: in 100 ms bins, where most hold no spike,
#: an interval of whole counts covers more than 90% at any width.
FIT_BIN_S = 1.0
#: The log_sd values the intervals' width is chosen from.
LOG_SD_GRID = np.round(np.geomspace(0.05, 3.0, 41), 4)


def match_f1(inferred: np.ndarray, true: np.ndarray, tolerance_s: float) -> tuple[int, int, int]:
    """(hits, inferred, true): spikes matched one to one within ``tolerance_s``, greedily
    in time order (both sorted)."""
    i = j = hits = 0
    while i < len(inferred) and j < len(true):
        d = inferred[i] - true[j]
        if abs(d) <= tolerance_s:
            hits, i, j = hits + 1, i + 1, j + 1
        elif d < 0:
            i += 1
        else:
            j += 1
    return hits, len(inferred), len(true)


def oasis_spikes(model: OasisModel, trace: np.ndarray, fps: float) -> np.ndarray:
    """OASIS's deconvolved signal in spikes, thresholded at half a spike and rounded."""
    out = np.zeros(len(trace))
    finite = np.isfinite(trace)
    if finite.sum() > model.min_frames:
        signal = model.deconvolve(np.where(finite, trace, np.nanmedian(trace)), fps)
        out = np.floor(np.maximum(signal / model.spike_amplitude_dff_, 0) + 0.5)
    return np.repeat(np.arange(len(out)), out.astype(int)) / fps


def binned(x: np.ndarray, frames: int) -> np.ndarray:
    n = len(x) // frames
    return x[:n * frames].reshape(n, frames).sum(axis=1)


def score_fold(k: int, held_out, data, model_folder: Path) -> dict:
    """Every held-out dataset of fold ``k``: per (dataset, condition), the spike-time
    accumulators and the binned expected and true counts."""
    model = load_model(model_folder)
    oasis = OasisModel().fit([ts for ts in data if ts.dataset not in held_out])
    rows = {}
    for i, ts in enumerate(t for t in data if t.dataset in held_out):
        for condition, (fps, nu) in CONDITIONS.items():
            rec = degrade(ts, fps, nu, random_state=i)
            expected = model.predict(rec.traces, rec.fps)
            truth = rec.spike_counts()
            entry = rows.setdefault(f"{rec.dataset}|{condition}", {
                "f1": {m: np.zeros((2, 3)) for m in METHODS},
                "count_error": {m: np.zeros(2) for m in METHODS},
                "bins": {b: ([], []) for b in BINS_S}})
            for row, e, t, spikes in zip(rec.traces, expected, truth, rec.spike_times):
                keep = np.isfinite(e) & np.isfinite(t)
                if keep.sum() < rec.fps * 10:
                    continue
                e0, t0 = np.where(keep, e, 0.0), np.where(keep, t, 0.0)
                inferred = {"spikeinfer": place_spikes(e0, rec.fps),
                            "rounding": np.repeat(np.arange(len(e0)),
                                                  np.rint(e0).astype(int)) / rec.fps,
                            "oasis": oasis_spikes(oasis, row, rec.fps)}
                true_times = np.sort(spikes[(spikes >= 0) & (spikes < len(e0) / rec.fps)])
                per_second = max(1, int(round(rec.fps)))
                for method, times in inferred.items():
                    for j, tol in enumerate((0.05, 0.1)):
                        entry["f1"][method][j] += match_f1(np.sort(times), true_times, tol)
                    counts = np.bincount(np.clip((times * rec.fps + 0.5).astype(int), 0,
                                                 len(e0) - 1), minlength=len(e0))
                    entry["count_error"][method] += (np.abs(
                        binned(counts, per_second) - binned(t0, per_second)).sum(), t0.sum())
                for b in BINS_S:
                    frames = max(1, int(round(b * rec.fps)))
                    entry["bins"][b][0].append(binned(e0, frames))
                    entry["bins"][b][1].append(binned(t0, frames))
        print(f"fold {k}: {ts.dataset} done", flush=True)
    return rows


def save_fold(path: Path, rows: dict) -> None:
    """A fold's scores as arrays (no pickles), so that a later run reuses them."""
    arrays = {}
    for key, entry in rows.items():
        for m in METHODS:
            arrays[f"{key}|f1|{m}"] = entry["f1"][m]
            arrays[f"{key}|count_error|{m}"] = entry["count_error"][m]
        for b in BINS_S:
            mu, n = entry["bins"][b]
            arrays[f"{key}|mu|{b:g}"] = np.concatenate(mu) if mu else np.zeros(0)
            arrays[f"{key}|n|{b:g}"] = np.concatenate(n) if n else np.zeros(0)

    def write(tmp):
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    write_atomically(path, write, force=True)


def load_fold(path: Path) -> dict:
    rows = {}
    with np.load(path, allow_pickle=False) as z:
        for name in z.files:
            dataset, condition, kind, what = name.split("|")
            entry = rows.setdefault(f"{dataset}|{condition}", {
                "f1": {}, "count_error": {}, "bins": {b: ([], []) for b in BINS_S}})
            if kind in ("f1", "count_error"):
                entry[kind][what] = z[name]
            else:
                entry["bins"][float(what)][0 if kind == "mu" else 1].append(z[name])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--models", default="benchmarks/results/cv-models")
    parser.add_argument("--cache", help="folder for each fold's scores, reused when there")
    parser.add_argument("--json")
    parser.add_argument("--table", action="store_true",
                        help="print the per-dataset tables of the --json already written")
    args = parser.parse_args()
    if args.table:
        print(format_tables(json.loads(Path(args.json).read_text())))
        return
    warnings.simplefilter("ignore")
    data = load_ground_truth(args.data)
    folds = cv_folds()
    rows = {}  # (dataset, condition) -> accumulators
    for k, held_out in enumerate(folds):
        folder = Path(args.models) / f"default-fold{k}"
        cached = Path(args.cache) / f"fold{k}.npz" if args.cache else None
        if cached is not None and cached.exists():
            fold_rows = load_fold(cached)
        elif (folder / "model.json").exists():
            fold_rows = score_fold(k, held_out, data, folder)
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                save_fold(cached, fold_rows)
        else:
            print(f"fold {k}: no model at {folder}; skipped")
            continue
        for key, entry in fold_rows.items():
            dataset, condition = key.split("|")
            entry["fold"] = k
            entry["bins"] = {b: list(zip(*entry["bins"][b])) for b in BINS_S}
            rows[(dataset, condition)] = entry
    # log_sd for each fold left out, chosen on the other folds' datasets: the value whose
    # coverage in 1 s bins, averaged over datasets (each counts alike), is closest to 90%
    def coverage(log_sd, pairs):
        if not pairs:
            return float("nan")
        mu = np.concatenate([p[0] for p in pairs])
        n = np.concatenate([p[1] for p in pairs])
        low, high = count_interval(mu, CountError(log_sd))
        return float(((n >= low) & (n <= high)).mean())

    for entry in rows.values():  # each dataset's coverage at every log_sd of the grid
        entry["curve"] = {b: np.array([coverage(s, entry["bins"][b]) for s in LOG_SD_GRID])
                          for b in BINS_S}

    def fit(entries):
        mean = np.nanmean([e["curve"][FIT_BIN_S] for e in entries], axis=0)
        return float(LOG_SD_GRID[int(np.nanargmin(np.abs(mean - 0.9)))])

    fitted = {}
    for condition in CONDITIONS:
        for k in range(len(folds)):
            others = [e for (d, c), e in rows.items() if c == condition and e["fold"] != k]
            if others:
                fitted[(condition, k)] = fit(others)
    table = []
    for (dataset, condition), entry in sorted(rows.items()):
        out = {"dataset": dataset, "condition": condition}
        for method, acc in entry["f1"].items():
            for j, tol in enumerate((50, 100)):
                hits, n_inferred, n_true = acc[j]
                out[f"f1_{tol}ms_{method}"] = float(2 * hits / max(n_inferred + n_true, 1))
            err, n = entry["count_error"][method]
            out[f"count_error_{method}"] = float(err / n) if n else None
        log_sd = fitted.get((condition, entry["fold"]))
        for b in BINS_S:
            if log_sd is None:
                continue
            out[f"coverage_{b:g}s"] = coverage(log_sd, entry["bins"][b])
            mu = np.concatenate([p[0] for p in entry["bins"][b]]) if entry["bins"][b] else []
            low, high = count_interval(np.asarray(mu), CountError(log_sd))
            out[f"width_{b:g}s"] = float(np.mean(high - low)) if len(mu) else None
        out["log_sd"] = log_sd
        table.append(out)
    overall = {c: fit([e for (d, cond), e in rows.items() if cond == c]) for c in CONDITIONS}
    print(json.dumps({"log_sd_all_folds": overall}, indent=1))
    for condition in CONDITIONS:
        mine = [r for r in table if r["condition"] == condition]
        print(f"\n{condition}: {len(mine)} datasets")
        for key in ("f1_50ms_spikeinfer", "f1_50ms_rounding", "f1_50ms_oasis",
                    "f1_100ms_spikeinfer", "f1_100ms_rounding", "f1_100ms_oasis",
                    "count_error_spikeinfer", "count_error_rounding", "count_error_oasis",
                    "coverage_0.1s", "coverage_1s", "width_0.1s", "width_1s"):
            values = [r[key] for r in mine if r.get(key) is not None]
            print(f"  {key:<26} mean {np.mean(values):.3f}" + (
                f"  datasets in 0.85-0.95: {sum(0.85 <= v <= 0.95 for v in values)}/{len(values)}"
                if key.startswith("coverage") else ""))
    if args.json:
        text = json.dumps({"log_sd_all_folds": overall, "datasets": table}, indent=1)
        write_atomically(Path(args.json), lambda tmp: tmp.write_text(text + "\n"), force=True)


def format_tables(result: dict) -> str:
    """Markdown tables per condition: F1, count error, coverage and width per dataset."""
    lines = []
    for condition in CONDITIONS:
        lines += [f"\n{condition} (log_sd chosen without the dataset's fold)\n",
                  "| dataset | F1 50 ms: spikeinfer | rounding | OASIS | F1 100 ms: spikeinfer "
                  "| rounding | OASIS | count error: spikeinfer | rounding | OASIS "
                  "| coverage 100 ms | 1 s | width 100 ms | 1 s |",
                  "|---|" + "---|" * 13]
        for r in (r for r in result["datasets"] if r["condition"] == condition):
            cells = [r[f"f1_{t}ms_{m}"] for t in (50, 100) for m in METHODS]
            cells += [r[f"count_error_{m}"] for m in METHODS]
            cells += [r.get(f"{k}_{b:g}s") for k in ("coverage", "width") for b in BINS_S]
            lines.append(f"| {r['dataset']} | " + " | ".join(
                "" if c is None else f"{c:.3f}" if abs(c) < 10 else f"{c:.1f}" for c in cells)
                + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
