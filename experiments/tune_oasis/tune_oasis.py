"""Tune the OASIS baseline's hyper-parameters on CASCADE ground truth; test on Spikefinder.

What it measures
----------------
* Grid: for AR(1) with ``tau_decay_s`` in {estimated per trace, 0.3, 0.7, 1.2, 2.0 s}
  and ``smoothing_s`` in {0, 0.025, 0.05, 0.1, 0.2 s}, the Spikefinder correlation
  (40 ms bins, at each dataset's native rate) averaged over neurons within a dataset,
  then over datasets (each dataset weighted equally). The tuning data are the CASCADE
  datasets minus DS16/DS17 (same neurons as Spikefinder sets 5/6), subsampled
  deterministically: at most ``--max-neurons`` neurons per dataset and ``--max-minutes``
  of recording per neuron (a neuron's recordings at one frame rate are concatenated with
  a NaN gap, which the model treats as separate runs). ``bias`` is (predicted - true) /
  true spikes after fitting the calibration on the same data (in-sample).
  ``oasis_s`` is the OASIS time on all tuning traces for that (ar_order, tau), ``time_s``
  that plus the setting's smoothing, calibration fit and scoring.
* AR(2) check: AR(2) is much slower, so AR(1) and AR(2) (time constants estimated per
  trace) are compared on a smaller subset (``--ar2-neurons``, ``--ar2-minutes``) at
  every smoothing; only if AR(2) beats the best AR(1) setting there is it run on the full
  tuning data, where it competes with the AR(1) grid.
* Per indicator family: corr for each fixed tau, and a leave-one-dataset-out row
  (each dataset gets the tau best on the other datasets of its family).
* The selected setting's calibration (the model's fitted attributes, e.g. the deconvolved
  amplitude of one spike and the output delay) is fitted on all tuning data; the model is
  scored on Spikefinder train sets 4, 5, 6 (out-of-sample) and per tuning dataset, next
  to the runner-up (best setting with the other kind of tau) and the default setting.

Usage: ``python experiments/tune_oasis/tune_oasis.py [--data DIR] [--max-neurons 8] [--seed 0] [--json]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from spikeinfer.data import TraceSet
from spikeinfer.evaluation import mean_scores, score_neurons
from spikeinfer.exceptions import DataWarning
from spikeinfer.io import dataset_indicator, load_cascade_collection, load_spikefinder
from spikeinfer.models.oasis import OasisModel

EXCLUDED = ("DS16", "DS17")  # same neurons as Spikefinder sets 5 and 6
TAUS = (None, 0.3, 0.7, 1.2, 2.0)
SMOOTHINGS = (0.0, 0.025, 0.05, 0.1, 0.2)
SPIKEFINDER_SETS = ("4", "5", "6")


class MemoOasis(OasisModel):
    """OasisModel whose deconvolution is cached per trace, so the smoothing grid and the
    calibration fit reuse it; counts OASIS time, failures and non-finite outputs."""

    cache: dict = {}
    stats: Counter = Counter()  # oasis_s, nonfinite
    failures: list = []  # OASIS errors (the run's output is then taken as zero)
    warned: Counter = Counter()  # warnings raised while modelling

    def deconvolve(self, trace, fps):
        key = (self.ar_order, self.tau_decay_s, self.tau_rise_s, fps,
               hashlib.sha1(trace.tobytes()).digest())
        if key not in self.cache:
            start = time.perf_counter()
            try:
                spikes = super().deconvolve(trace, fps)
            except Exception as err:
                self.failures.append(f"AR({self.ar_order}), {trace.size} frames at {fps:.3g} Hz: "
                                     f"{type(err).__name__}: {err}")
                spikes = np.zeros(trace.size)
            self.stats["oasis_s"] += time.perf_counter() - start
            self.stats["nonfinite"] += int(not np.isfinite(spikes).all())
            self.cache[key] = spikes
        return self.cache[key]


def _indicator(dataset: str) -> str:
    return dataset_indicator(dataset) or "unknown"


def subsample(sets: list[TraceSet], max_neurons: int, max_s: float,
              seed: int) -> dict[str, list[TraceSet]]:
    """Per dataset, up to ``max_neurons`` random neurons (files) with their first ``max_s``
    seconds of recordings; one row per neuron and frame rate, recordings NaN-separated."""
    rng = np.random.default_rng(seed)
    recordings = defaultdict(list)  # dataset -> [(stem, TraceSet, row)]
    for ts in sets:
        if not ts.dataset.startswith(EXCLUDED):
            recordings[ts.dataset] += [(nid.split(":")[0], ts, i)
                                       for i, nid in enumerate(ts.neuron_ids)]
    out = {}
    for dataset in sorted(recordings):
        stems = sorted({stem for stem, _, _ in recordings[dataset]})
        chosen = sorted(rng.choice(stems, min(max_neurons, len(stems)), replace=False))
        rows = defaultdict(lambda: ([], []))  # (fps, stem) -> (trace pieces, spike times)
        for stem in chosen:
            budget = max_s
            for _, ts, i in (r for r in recordings[dataset] if r[0] == stem):
                n = min(int(ts.lengths[i]), int(budget * ts.fps))
                if n < 10:
                    break
                pieces, spikes = rows[(ts.fps, stem)]
                offset = sum(len(p) + 1 for p in pieces)
                s = ts.spike_times[i]
                spikes.append(s[(s >= 0) & (s < n / ts.fps)] + offset / ts.fps)
                pieces.append(ts.traces[i, :n])
                budget -= n / ts.fps
        by_fps = defaultdict(list)
        for (fps, stem), (pieces, spikes) in rows.items():
            by_fps[fps].append((stem, np.concatenate([np.r_[p, np.nan] for p in pieces])[:-1],
                                np.concatenate(spikes)))
        out[dataset] = []
        for fps, items in sorted(by_fps.items()):
            traces = np.full((len(items), max(len(t) for _, t, _ in items)), np.nan)
            for row, (_, t, _) in zip(traces, items):
                row[:len(t)] = t
            out[dataset].append(TraceSet(traces, fps, spike_times=[s for _, _, s in items],
                                         lengths=[len(t) for _, t, _ in items],
                                         neuron_ids=[n for n, _, _ in items], dataset=dataset))
    return out


def evaluate(model: OasisModel, data: dict[str, list[TraceSet]]) -> dict[str, dict]:
    """Per dataset: mean corr and bias over neurons (a neuron's rows at several rates averaged)."""
    result = {}
    for dataset, sets in data.items():
        per_neuron = defaultdict(list)
        for ts in sets:
            scores = score_neurons(model.predict_traceset(ts), ts.spike_counts(), ts.fps)
            for j, nid in enumerate(ts.neuron_ids):
                per_neuron[nid].append([scores["corr"][j], scores["bias"][j]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # neurons/datasets without spikes
            values = np.array([np.nanmean(v, axis=0) for v in per_neuron.values()])
            result[dataset] = {"corr": float(np.nanmean(values[:, 0])),
                               "bias": float(np.nanmean(values[:, 1])), "n_neurons": len(values)}
    return result


def run_grid(settings, data, desc):
    """Fit the calibration and evaluate each setting on ``data``.

    ``oasis_s`` = OASIS time for the setting's (ar_order, tau) on all traces (computed once
    per group, cached); ``time_s`` = that plus this setting's smoothing, fit and scoring.
    """
    rows, all_sets, oasis_time = [], [ts for sets in data.values() for ts in sets], Counter()
    for params in tqdm(settings, desc=desc, file=sys.stderr):
        model = MemoOasis(**params)
        group = (model.ar_order, model.tau_decay_s, model.tau_rise_s)
        MemoOasis.cache = {k: v for k, v in MemoOasis.cache.items() if k[:3] == group}
        oasis_before, start = MemoOasis.stats["oasis_s"], time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(all_sets)
            per_dataset = evaluate(model, data)
        oasis_now = MemoOasis.stats["oasis_s"] - oasis_before
        if oasis_now:  # the group was (re)computed for this data
            oasis_time[group] = oasis_now
        MemoOasis.warned.update(f"{w.category.__name__}: {w.message}"[:160] for w in caught)
        rows.append({**params,
                     "corr": float(np.nanmean([d["corr"] for d in per_dataset.values()])),
                     "bias": float(np.nanmean([d["bias"] for d in per_dataset.values()])),
                     "time_s": oasis_time[group] + time.perf_counter() - start - oasis_now,
                     "oasis_s": oasis_time[group],
                     "calibration": model.fitted_state(),
                     "per_dataset": per_dataset})
    return rows


def per_family(rows, smoothing):
    """Corr per fixed tau for each indicator family, and a leave-one-dataset-out tau choice."""
    by_tau = {r["tau_decay_s"]: r["per_dataset"] for r in rows
              if r["ar_order"] == 1 and r["smoothing_s"] == smoothing}
    datasets = sorted(next(iter(by_tau.values())))
    families = defaultdict(list)
    for d in datasets:
        families[_indicator(d)].append(d)
    table = {}
    for fam, members in sorted(families.items()):
        corr = {str(t): float(np.mean([by_tau[t][d]["corr"] for d in members])) for t in TAUS}
        table[fam] = {"datasets": len(members), "corr": corr,
                      "best_tau": max(corr, key=corr.get)}
    lodo = []
    for d in datasets:
        same = [o for o in families[_indicator(d)] if o != d]
        others = same or [o for o in datasets if o != d]
        tau = max(TAUS[1:], key=lambda t: np.mean([by_tau[t][o]["corr"] for o in others]))
        lodo.append(by_tau[tau][d]["corr"])
    return table, float(np.mean(lodo))


def spikefinder_scores(model, folder: Path) -> dict[str, dict]:
    """Mean scores per Spikefinder train set, and the time to predict it."""
    out = {}
    for name in SPIKEFINDER_SETS:
        ts = load_spikefinder(folder / f"{name}.train.calcium.csv")
        start = time.perf_counter()
        prediction = model.predict_traceset(ts)
        scores = mean_scores(score_neurons(prediction, ts.spike_counts(), ts.fps))
        out[name] = {k: scores[k] for k in ("corr", "rank", "auc", "bias")} | {
            "n_neurons": ts.n_neurons, "time_s": time.perf_counter() - start}
    return out


def fmt(value, width=8, digits=3):
    if value is None:
        return f"{'est.':>{width}}"
    if isinstance(value, float):
        return f"{value:>{width}.{digits}f}" if abs(value) < 1e4 else f"{value:>{width}.1e}"
    return f"{value!s:>{width}}"


def print_report(report):
    print(f"\n(a) Grid: mean over {report['n_datasets']} CASCADE datasets "
          f"({report['n_neurons']} neurons, {report['minutes']:.0f} min)")
    print(f"{'ar':>3} {'tau_s':>8} {'smooth_s':>8} {'corr':>8} {'bias':>8} {'oasis_s':>8} "
          f"{'time_s':>8}")
    for r in report["grid"]:
        print(f"{r['ar_order']:>3} {fmt(r['tau_decay_s'])} {fmt(r['smoothing_s'])} "
              f"{fmt(r['corr'])} {fmt(r['bias'])} {fmt(r['oasis_s'], digits=1)} "
              f"{fmt(r['time_s'], digits=1)}")
    print(f"per-family tau, leave-one-dataset-out (AR1, smoothing "
          f"{report['chosen']['smoothing_s']} s): corr {report['per_family_lodo_corr']:.3f}")
    a2 = report["ar2_check"]
    print(f"\nAR(2) check on {a2['n_neurons']} neurons x <= {a2['minutes']} min "
          f"({a2['frames']} frames):")
    print(f"{'ar':>3} {'tau_s':>8} {'smooth_s':>8} {'corr':>8} {'bias':>8} {'oasis_s':>8} "
          f"{'time_s':>8}")
    for r in a2["rows"]:
        print(f"{r['ar_order']:>3} {fmt(r['tau_decay_s'])} {fmt(r['smoothing_s'])} "
              f"{fmt(r['corr'])} {fmt(r['bias'])} {fmt(r['oasis_s'], digits=1)} "
              f"{fmt(r['time_s'], digits=1)}")
    print("\nPer indicator family (AR1, chosen smoothing): corr by tau_decay_s")
    print(f"{'family':<18}{'n':>3}" + "".join(fmt(t) for t in TAUS) + f"{'best':>8}")
    for fam, f in report["per_family"].items():
        print(f"{fam:<18}{f['datasets']:>3}" + "".join(fmt(v) for v in f["corr"].values())
              + f"{f['best_tau'].replace('None', 'est.'):>8}")
    c = report["chosen"]
    print(f"\n(b) Chosen: ar_order={c['ar_order']} tau_decay_s={c['tau_decay_s']} "
          f"smoothing_s={c['smoothing_s']}\n    fitted on all tuning data: {report['calibration']}")
    r, d = report["runner_up"], report["corr_diff_vs_runner_up"]
    print(f"runner-up ar_order={r['ar_order']} tau_decay_s={r['tau_decay_s']} smoothing_s="
          f"{r['smoothing_s']} (corr {r['corr']:.3f}); chosen - runner-up over datasets: "
          f"{d['mean']:+.3f} +/- {d['se']:.3f} (SE)")
    print("\n(c) Spikefinder train sets (out-of-sample), mean over neurons")
    print(f"{'model':<10}{'set':>4}{'n':>4}{'corr':>8}{'rank':>8}{'auc':>8}{'bias':>9}"
          f"{'time_s':>8}")
    for label, m in report["spikefinder"].items():
        for name, s in m.get("sets", {}).items():
            print(f"{label:<10}{name:>4}{s['n_neurons']:>4}" + "".join(
                fmt(s[k]) for k in ("corr", "rank", "auc")) + fmt(s["bias"], 9)
                + fmt(s["time_s"], digits=1))
    for label, m in report["spikefinder"].items():
        print(f"{label}: same as {m['same_as']}" if "same_as" in m else
              f"{label}: {m['params']}, fitted on the tuning data: {m['calibration']}")
    print("\n(d) Tuning datasets, chosen setting, calibration fitted on all of them")
    print(f"{'dataset':<40}{'family':>17}{'n':>4}{'corr':>8}{'bias':>8}")
    for d, s in report["per_dataset"].items():
        print(f"{d:<40}{_indicator(d):>17}{s['n_neurons']:>4}{fmt(s['corr'])}{fmt(s['bias'])}")
    print(f"\nWarnings during modelling: {report['warnings'] or 'none'}")
    failures = report["oasis_failures"]
    print(f"OASIS failures (run scored as zero output): {len(failures)}")
    for f in sorted(set(failures)):
        print(f"  {failures.count(f)} x {f}")
    print(f"non-finite OASIS outputs: {report['oasis_nonfinite']}; "
          f"wall time {report['wall_s']:.0f} s")


def main(argv=None):
    repo = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=repo.parent / "shared" / "data")
    parser.add_argument("--max-neurons", type=int, default=8)
    parser.add_argument("--max-minutes", type=float, default=10.0)
    parser.add_argument("--ar2-neurons", type=int, default=2)
    parser.add_argument("--ar2-minutes", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    start = time.perf_counter()

    print("loading CASCADE ground truth...", file=sys.stderr)
    with warnings.catch_warnings(record=True) as load_warnings:
        warnings.simplefilter("always", DataWarning)
        collection = load_cascade_collection(args.data / "cascade_gt")
    print(f"  {len(load_warnings)} loader warnings (irregular files repaired/skipped)",
          file=sys.stderr)
    data = subsample(collection, args.max_neurons, 60 * args.max_minutes, args.seed)
    small = subsample(collection, args.ar2_neurons, 60 * args.ar2_minutes, args.seed)

    grid = run_grid([{"ar_order": 1, "tau_decay_s": t, "smoothing_s": s}
                     for t in TAUS for s in SMOOTHINGS], data, "AR(1) grid")
    best1 = max(grid, key=lambda r: r["corr"])
    check = [{"ar_order": a, "tau_decay_s": None, "smoothing_s": s}
             for a in (1, 2) for s in SMOOTHINGS]
    best1 = {k: best1[k] for k in ("ar_order", "tau_decay_s", "smoothing_s")}
    check = run_grid(check + [best1] * (best1 not in check), small, "AR(2) check")
    best_small = max(check, key=lambda r: r["corr"])
    if best_small["ar_order"] == 2:  # re-run the winner on the full tuning data
        grid += run_grid([{k: best_small[k] for k in ("ar_order", "tau_decay_s",
                                                      "smoothing_s")}], data, "AR(2) full")
    chosen = max(grid, key=lambda r: r["corr"])
    params = {k: chosen[k] for k in ("ar_order", "tau_decay_s", "smoothing_s")}
    family_table, lodo = per_family(grid, params["smoothing_s"])

    # Runner-up: the best setting whose tau choice differs (fixed vs estimated per trace).
    runner = max((r for r in grid if (r["tau_decay_s"] is None) != (params["tau_decay_s"] is None)),
                 key=lambda r: r["corr"])
    diff = [chosen["per_dataset"][d]["corr"] - runner["per_dataset"][d]["corr"]
            for d in chosen["per_dataset"]]
    diff = [x for x in diff if np.isfinite(x)]
    all_sets = [ts for sets in data.values() for ts in sets]
    keys = ("ar_order", "tau_decay_s", "smoothing_s")
    candidates = {"chosen": params, "runner-up": {k: runner[k] for k in keys},
                  "default": {k: OasisModel().get_params()[k] for k in keys}}
    spikefinder, seen = {}, []
    for label, p in candidates.items():
        if p in seen:
            spikefinder[label] = {"same_as": next(k for k, v in candidates.items() if v == p)}
        else:
            seen.append(p)
            model = MemoOasis(**p).fit(all_sets)
            spikefinder[label] = {"params": p, "calibration": model.fitted_state(),
                                  "sets": spikefinder_scores(model, args.data / "spikefinder"
                                                             / "train")}
    model = MemoOasis(**params).fit(all_sets)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "per_dataset"} for r in rows]
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "n_datasets": len(data), "n_neurons": sum(len({n for ts in s for n in ts.neuron_ids})
                                                  for s in data.values()),
        "minutes": sum(float(ts.duration_s.sum()) for ts in all_sets) / 60,
        "grid": strip(grid), "per_family": family_table, "per_family_lodo_corr": lodo,
        "ar2_check": {"n_neurons": sum(ts.n_neurons for s in small.values() for ts in s),
                      "minutes": args.ar2_minutes, "rows": strip(check),
                      "frames": int(sum(ts.lengths.sum() for s in small.values() for ts in s))},
        "chosen": params, "calibration": model.fitted_state(),
        "spikefinder": spikefinder,
        "runner_up": {k: runner[k] for k in (*keys, "corr")},
        "corr_diff_vs_runner_up": {"mean": float(np.mean(diff)),
                                   "se": float(np.std(diff, ddof=1) / np.sqrt(len(diff)))},
        "per_dataset": chosen["per_dataset"],
        "warnings": dict(MemoOasis.warned),
        "oasis_failures": MemoOasis.failures,
        "oasis_nonfinite": int(MemoOasis.stats["nonfinite"]),
        "seed": args.seed, "max_neurons": args.max_neurons, "max_minutes": args.max_minutes,
        "wall_s": time.perf_counter() - start,
    }
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print_report(report)


if __name__ == "__main__":
    main()
