"""The per-dataset table of the self-calibration work, from results already on disk:
the shipped default and OASIS in the grouped cross-validation
(``benchmarks/results/cv_summary.json``), and ``--adapt`` against its own generic fold
model (``benchmarks/adaptation.py`` summaries: without simulator twins, 5 folds; with
them, the folds that were run). Correlation and bias per dataset, both conditions, and
the count figures of the acceptance (median |bias|, datasets within a factor of 2).

    python benchmarks/self_calibration_table.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
CONDITIONS = (("native", "native"), ("degraded", "30 Hz/ν 4"))
#: The datasets whose indicator appears in no other dataset (GCaMP8f, GCaMP8s, GCaMP7f,
#: XCaMP, jRCaMP1a, jGECO1a, GCaMP5k, Cal-520 in S1).
UNIQUE = ("DS30", "DS32", "DS29", "DS28", "DS20", "DS21", "DS17", "DS03")


def main() -> None:
    cv = json.loads((RESULTS / "cv_summary.json").read_text())["summary"]
    adapt = json.loads((RESULTS / "adaptation_summary.json").read_text())["datasets"]
    twins = {}
    for path in sorted((RESULTS / "adaptation-twins").glob("fold*.json")):
        twins.update(json.loads(path.read_text())["datasets"])
    names = sorted(cv["default"]["native"]["datasets"])

    def cell(entry):
        return f"{entry['corr']:.3f} ({entry['bias']:+.2f})" if entry else ""

    for key, label in CONDITIONS:
        print(f"\n{label}: corr (bias)\n")
        print("| dataset | default | OASIS | adapt: generic | adapt | adapt+twins: generic "
              "| adapt+twins |")
        print("|---|---|---|---|---|---|---|")
        for name in names:
            a, t = adapt.get(name, {}).get(key, {}), twins.get(name, {}).get(key, {})
            print(f"| {name} | {cell(cv['default'][key]['datasets'][name])} "
                  f"| {cell(cv['oasis'][key]['datasets'][name])} | {cell(a.get('generic'))} "
                  f"| {cell(a.get('adapted'))} | {cell(t.get('generic'))} "
                  f"| {cell(t.get('adapted'))} |")
        rows = [("default", {n: cv["default"][key]["datasets"][n] for n in names}),
                ("OASIS", {n: cv["oasis"][key]["datasets"][n] for n in names}),
                ("adapt: generic", {n: adapt[n][key]["generic"] for n in names if n in adapt}),
                ("adapt", {n: adapt[n][key]["adapted"] for n in names if n in adapt}),
                ("adapt+twins: generic", {n: twins[n][key]["generic"] for n in twins}),
                ("adapt+twins", {n: twins[n][key]["adapted"] for n in twins})]
        print("\n| model | datasets | mean corr | unique indicators: datasets, mean corr "
              "| median abs(bias) | within 2x |")
        print("|---|---|---|---|---|---|")
        for model, by_name in rows:
            if not by_name:
                continue
            entries = list(by_name.values())
            unique = [e["corr"] for n, e in by_name.items() if n.split("-")[0] in UNIQUE]
            corr = np.mean([e["corr"] for e in entries])
            bias = np.array([e["bias"] for e in entries])
            within = int(np.sum(np.abs(np.log2(np.maximum(1 + bias, 1e-6))) <= 1))
            print(f"| {model} | {len(entries)} | {corr:.3f} | {len(unique)}, "
                  f"{np.mean(unique) if unique else float('nan'):.3f} "
                  f"| {np.median(np.abs(bias)):.2f} "
                  f"| {within} of {len(entries)} |")


if __name__ == "__main__":
    main()
