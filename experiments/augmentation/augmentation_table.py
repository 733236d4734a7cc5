"""Real only vs real + simulator vs real + GAN: the default recipe's grouped cross-validation.

Reads the per-fold results of three ``spikeinfer benchmark cv --models default`` runs (the
real-only one in ``benchmarks/results/cv``, the others with ``--param
'default:synthetic="simulator"'`` / ``"gan"`` in this folder, see its README) and prints one table:
held-out dataset x condition (native rate; 30 Hz with nu = 4) x training data, with means.

Usage: ``python experiments/augmentation/augmentation_table.py [--cv benchmarks/results/cv]
[--results experiments/augmentation]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from spikeinfer.evaluation.groundtruth import is_inhibitory

RUNS = {"+ simulator": "simulator", "+ GAN": "gan"}  # folders of --results
CONDITIONS = {"native": "native", "degraded": "30 Hz, ν 4"}


def read_run(folder: Path) -> dict:
    """{condition: {dataset: corr}} over every stored fold of the default model."""
    scores = {c: {} for c in CONDITIONS}
    for path in sorted(folder.glob("default-fold*.json")):
        doc = json.loads(path.read_text())
        for condition in CONDITIONS:
            scores[condition].update({d: s["corr"] for d, s in doc[condition].items()})
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cv", type=Path, default=Path("benchmarks/results/cv"),
                        help="the real-only run: the shipped default's cross-validation")
    parser.add_argument("--results", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    runs = {"real": read_run(args.cv),
            **{name: read_run(args.results / sub) for name, sub in RUNS.items()}}
    datasets = sorted(set.intersection(*(set(r["native"]) for r in runs.values())))
    header = " | ".join(f"{label}: {name}" if i == 0 else name
                        for label in CONDITIONS.values() for i, name in enumerate(runs))
    print(f"| held-out dataset | {header} |")
    print("|---" * (1 + len(runs) * len(CONDITIONS)) + "|")
    for d in datasets:
        cells = [f"{runs[n][c][d]:.3f}" for c in CONDITIONS for n in runs]
        print(f"| {d}{' (inh)' if is_inhibitory(d) else ''} | {' | '.join(cells)} |")
    for label, keep in (("mean", lambda d: True), ("mean, excitatory", lambda d: not is_inhibitory(d)),
                        ("mean, inhibitory", is_inhibitory)):
        chosen = [d for d in datasets if keep(d)]
        cells = [f"{np.mean([runs[n][c][d] for d in chosen]):.3f}" for c in CONDITIONS for n in runs]
        print(f"| **{label}** ({len(chosen)}) | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
