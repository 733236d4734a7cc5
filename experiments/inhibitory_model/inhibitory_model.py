"""Should inhibitory neurons get their own model? Grouped cross-validation on them alone.

What it measures
----------------
The default recipe (``make_estimator("default")``) trained on inhibitory datasets only
(DS22-27, DS33, DS41; ``--folds`` folds of whole datasets), each held-out dataset scored
at its native rate and at 30 Hz with noise nu = 4, exactly as ``spikeinfer benchmark
cv`` scores it. Compare each dataset with the all-data default's score in the
``benchmark cv`` summary given by ``--compare`` (there too the dataset was held out).

Usage: ``python experiments/inhibitory_model/inhibitory_model.py [--data DIR] [--folds 4] [--results DIR]
[--compare benchmarks/results/cv_summary.json] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from spikeinfer.evaluation.groundtruth import (
    cross_validate,
    format_cv,
    is_inhibitory,
    summarise_cv,
)
from spikeinfer.io import load_ground_truth, write_atomically
from spikeinfer.models import make_estimator

NAME = "inhibitory-only"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--results", type=Path, help="keep and reuse per-fold results here")
    parser.add_argument("--compare", type=Path, help="a 'spikeinfer benchmark cv --json' file")
    parser.add_argument("--json", type=Path, help="also write the summary here")
    args = parser.parse_args()

    data = [ts for ts in load_ground_truth(args.data) if is_inhibitory(ts.dataset)]
    results = cross_validate(lambda name: make_estimator("default", max_seconds=900.0), [NAME],
                             data, n_folds=args.folds, results_dir=args.results)
    summary = summarise_cv(results)
    if args.compare:
        general = json.loads(args.compare.read_text())["summary"]["default"]
        summary["default (all data)"] = {
            **general, **{c: {"datasets": {d: s for d, s in general[c]["datasets"].items()
                                           if is_inhibitory(d)}}
                          for c in ("native", "degraded")}}
        for condition in ("native", "degraded"):
            scores = summary["default (all data)"][condition]["datasets"]
            corr = float(np.mean([s["corr"] for s in scores.values()]))
            bias = float(np.mean([s["bias"] for s in scores.values()]))
            summary["default (all data)"][condition].update(
                mean_corr=corr, inhibitory_corr=corr, excitatory_corr=None, mean_bias=bias)
    print(format_cv(summary, results["fps"], results["noise_level"]))
    if args.json:
        text = json.dumps({"folds": results["folds"], "summary": summary}, indent=1)
        write_atomically(args.json, lambda tmp: tmp.write_text(text), force=True)


if __name__ == "__main__":
    main()
