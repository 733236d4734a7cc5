"""Silence makes no spikes: false spikes on pure noise, and what the gate costs on
held-out ground truth.

- ``noise``: simulated silent traces (white noise at nu = 1, 2, 4, 30 Hz) through the whole
  predict path (``predict_recording``); spikes per second per neuron, for the default and
  OASIS.
- ``cv``: each dataset predicted by the fold model that never saw it (``--models``:
  ``default-foldK`` of ``spikeinfer benchmark cv --save-models``), natively and at 30 Hz with
  noise nu = 4, as the cross-validation does; scored before and after
  :func:`spikeinfer.counts.gate_silence` with each fold model's own silent level (measured
  as for the shipped card). Per dataset: correlation and bias; summary: mean correlation,
  median |bias|, datasets within a factor of 2.

    python benchmarks/silence.py noise
    python benchmarks/silence.py cv --data ../shared/data --models benchmarks/results/cv-models \\
        --json benchmarks/results/silence.json
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np

from spikeinfer.counts import gate_silence, measure_silence
from spikeinfer.evaluation import score_neurons
from spikeinfer.evaluation.groundtruth import degrade
from spikeinfer.exceptions import DataWarning
from spikeinfer.inference import predict_recording
from spikeinfer.io import TraceSource, cv_folds, load_ground_truth, write_atomically
from spikeinfer.models import load_model
from spikeinfer.signals import compute_noise_level, noise_std_for_level

CONDITIONS = {"native": (None, None), "30Hz_nu4": (30.0, 4.0)}


def false_rates(model_names=("default", "oasis"), levels=(1.0, 2.0, 4.0), n_neurons=50,
                duration_s=300.0, fps=30.0, seed=1) -> dict:
    """Spikes per second per neuron that the whole predict path gives on white noise."""
    rng = np.random.default_rng(seed)
    result = {}
    for level in levels:
        noise = rng.normal(0, noise_std_for_level(level, fps), (n_neurons, int(duration_s * fps)))
        for name in model_names:
            spikes = predict_recording(TraceSource(noise.astype(np.float32), fps),
                                       load_model(name)).spikes
            result.setdefault(name, {})[f"{level:g}"] = float(np.nansum(spikes) / n_neurons
                                                              / duration_s)
    return result


def held_out(data_dir, models: Path) -> dict:
    """Per (dataset, condition): correlation and counts before and after the gate."""
    data = load_ground_truth(data_dir)
    rows: dict = {}
    for k, held in enumerate(cv_folds()):
        model = load_model(models / f"default-fold{k}")
        silence = measure_silence(model.predict)
        test = [ts for ts in data if ts.dataset in held]
        for condition, (fps, nu) in CONDITIONS.items():
            for i, ts in enumerate(test):  # the noise seeds of the cross-validation
                rec = degrade(ts, fps, nu, i)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DataWarning)
                    raw = model.predict(rec.traces, rec.fps)
                gated = gate_silence(raw, compute_noise_level(rec.traces, rec.fps), rec.fps,
                                     silence)
                truth = rec.spike_counts()
                keep = np.isfinite(raw) & np.isfinite(truth)
                entry = rows.setdefault(f"{ts.dataset}|{condition}", {
                    "fold": k, "corr_raw": [], "corr_gated": [], "raw": 0.0, "gated": 0.0,
                    "true": 0.0})
                entry["corr_raw"] += score_neurons(raw, truth, rec.fps)["corr"].tolist()
                entry["corr_gated"] += score_neurons(gated, truth, rec.fps)["corr"].tolist()
                entry["raw"] += float(raw[keep].sum())
                entry["gated"] += float(gated[keep].sum())
                entry["true"] += float(truth[keep].sum())
        print(f"fold {k} done", flush=True)
    return {key: {"fold": e["fold"], "corr_raw": float(np.nanmean(e["corr_raw"])),
                  "corr_gated": float(np.nanmean(e["corr_gated"])),
                  "bias_raw": e["raw"] / e["true"] - 1, "bias_gated": e["gated"] / e["true"] - 1}
            for key, e in sorted(rows.items())}


def summary(rows: dict) -> dict:
    out = {}
    for condition in CONDITIONS:
        sel = [r for key, r in rows.items() if key.endswith("|" + condition)]
        out[condition] = {f"{m}_{kind}": f(np.array([r[f"{m}_{kind}"] for r in sel]))
                          for kind in ("raw", "gated")
                          for m, f in (("corr", np.mean),)}
        for kind in ("raw", "gated"):
            bias = np.array([r[f"bias_{kind}"] for r in sel])
            out[condition][f"median_abs_bias_{kind}"] = float(np.median(np.abs(bias)))
            out[condition][f"within_2x_{kind}"] = int((np.abs(np.log1p(bias)) < np.log(2)).sum())
        out[condition]["datasets"] = len(sel)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("noise", "cv"))
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--models", type=Path, default=Path("benchmarks/results/cv-models"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.what == "noise":
        result = {"false_spikes_per_s": false_rates()}
    else:
        rows = held_out(args.data, args.models)
        result = {"datasets": rows, "summary": summary(rows)}
        for key, r in rows.items():
            print(f"{key:50s} corr {r['corr_raw']:.3f} -> {r['corr_gated']:.3f}   "
                  f"bias {r['bias_raw']:+.2f} -> {r['bias_gated']:+.2f}")
    print(json.dumps(result.get("summary", result), indent=1))
    if args.json:
        write_atomically(args.json, lambda tmp: tmp.write_text(json.dumps(result, indent=1)),
                         force=True)


if __name__ == "__main__":
    main()
