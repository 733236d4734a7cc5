"""Would averaging default networks trained from different seeds help on unseen data?

What it measures
----------------
On one grouped cross-validation fold (the folds of ``spikeinfer benchmark cv``), the
default recipe is trained once per seed on the other folds; each network and the mean of
their outputs are scored on the held-out datasets at their native rate and at 30 Hz with
noise nu = 4, as ``spikeinfer benchmark cv`` scores them. If the mean beats its members
by little, the default's errors on unseen datasets are shared by every seed (bias), not
seed-to-seed scatter (variance), and an ensemble is not worth its prediction time.

Usage: ``OMP_NUM_THREADS=1 python experiments/seed_ensemble/seed_ensemble.py [--data DIR] [--fold 0]
[--seeds 0 1]`` (each network about 5-8 min on one thread, depending on the machine's load)

Measured before ``time_stretch`` joined the default recipe (seed 0 reproduces that
recipe's folds in ``experiments/screens/no-stretch``), mean correlation,
native / 30 Hz nu 4:

========  ===============  ===============  ===============
fold      seed 0           seed 1           mean of seeds
========  ===============  ===============  ===============
0         0.548 / 0.323    0.553 / 0.324    0.554 / 0.326
4         0.481 / 0.391    0.483 / 0.406    0.485 / 0.401
========  ===============  ===============  ===============

The mean beats the mean of its members by 0.003 natively and 0.002-0.003 at 30 Hz/nu 4,
for twice the prediction time: the errors are shared by the seeds, so no ensemble ships.
Seed to seed, a fold's mean moves by up to 0.005 natively and 0.015 at 30 Hz/nu 4.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from spikeinfer.evaluation.groundtruth import make_folds, score_datasets
from spikeinfer.io import load_ground_truth
from spikeinfer.models import make_estimator


class MeanOf:
    """The mean output of fitted models (only what ``score_datasets`` calls)."""

    def __init__(self, models):
        self.models = models

    def predict_traceset(self, ts, progress=False):
        return np.mean([m.predict_traceset(ts) for m in self.models], axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()

    data = load_ground_truth(args.data)
    held_out = make_folds(sorted({ts.dataset for ts in data}), 5)[args.fold]
    train = [ts for ts in data if ts.dataset not in held_out]
    test = [ts for ts in data if ts.dataset in held_out]
    models = {f"seed {s}": make_estimator("default", max_seconds=900.0, random_state=s).fit(train)
              for s in args.seeds}
    models["mean of seeds"] = MeanOf(list(models.values()))
    print(f"fold {args.fold}: {', '.join(held_out)}")
    print(f"{'model':<16}{'native':>8}{'30 Hz/nu4':>11}")
    for name, model in models.items():
        means = [np.mean([s["corr"] for s in score_datasets(model, test, *degraded)
                          ["datasets"].values()]) for degraded in ((None, None), (30.0, 4.0))]
        print(f"{name:<16}{means[0]:>8.3f}{means[1]:>11.3f}")


if __name__ == "__main__":
    main()
