"""The recording's own estimates (spikeinfer.calibration) against the same quantities fitted
with the spikes known, per ground-truth dataset.

For each dataset: the decay and the dF/F of one spike of the simulator's fit (the kernel
regressed on the true spikes, ``spikeinfer indicators list --datasets``), the median
least-squares amplitude of isolated single spikes (no other spike within 2 s, the
dataset's fitted kernel, spikes known), and the estimates from fluorescence alone
(pooled decay; median over neurons of the shrunk amplitude), each at its native rate and
resampled to 30 Hz with noise raised to nu = 4. Prints a Markdown table and the counts
within 30%; with ``--json FILE`` also writes them.

    python benchmarks/calibration_table.py --data ../shared/data --json benchmarks/results/calibration.json
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

from spikeinfer.calibration import calibrate, prepare_trace
from spikeinfer.evaluation.groundtruth import degrade
from spikeinfer.io import load_ground_truth, write_atomically
from spikeinfer.simulate import load_indicator_table
from spikeinfer.simulate._forward import compute_calcium


def isolated_single_amplitude(data, fit: dict, fps: float = 30.0) -> tuple[float, int]:
    """Median least-squares amplitude (continuous peak) of spikes with no other spike
    within 2 s, with the dataset's fitted kernel; and how many there were."""
    amplitudes = []
    for ts in data:
        for trace, spikes, length in zip(ts.traces, ts.spike_times, ts.lengths):
            if len(spikes) < 3 or np.isfinite(trace[:length]).sum() < 300:
                continue
            y = prepare_trace(trace[:length], ts.fps)
            before, after = np.diff(np.r_[-1e9, spikes]), np.diff(np.r_[spikes, 1e9])
            span = int(2 * fit["tau_decay_s"] * fps) + 3
            for t in spikes[(before > 2.0) & (after > 2.0)]:
                first = int(np.floor(t * fps))
                if first < 10 or first + span >= len(y):
                    continue
                segment = y[first - 10:first + span]
                kernel = np.r_[np.zeros(10), compute_calcium(np.array([t - first / fps]), fps, span,
                                                             fit["tau_rise_s"], fit["tau_decay_s"])]
                if np.isfinite(segment).all():
                    design = np.c_[kernel, np.ones_like(kernel)]
                    amplitudes.append(np.linalg.lstsq(design, segment, rcond=None)[0][0])
    return (float(np.median(amplitudes)) if amplitudes else float("nan")), len(amplitudes)


def estimates(data) -> tuple[float, float, float]:
    """(decay weighted by neurons over the dataset's recordings, median amplitude, seconds)."""
    start = time.perf_counter()
    taus, weights, amplitudes = [], [], []
    for ts in data:
        c = calibrate(ts.traces, ts.fps)
        if np.isfinite(c.tau_decay_s):
            taus.append(np.log(c.tau_decay_s))
            weights.append(ts.n_neurons)
        amplitudes.extend(c.amplitude[np.isfinite(c.amplitude)])
    tau = float(np.exp(np.average(taus, weights=weights))) if taus else float("nan")
    amp = float(np.median(amplitudes)) if amplitudes else float("nan")
    return tau, amp, time.perf_counter() - start


def within(a: float, b: float, tolerance: float = 0.3) -> bool:
    return bool(np.isfinite(a) and np.isfinite(b) and a > 0 and b > 0
                and abs(np.log(a / b)) <= np.log(1 + tolerance))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--json", help="Also write the table as JSON here.")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    fits = {row["dataset"]: row for row in load_indicator_table()["datasets"]}
    by_dataset: dict[str, list] = {}
    for ts in load_ground_truth(args.data):
        by_dataset.setdefault(ts.dataset, []).append(ts)
    rows = []
    for name, data in by_dataset.items():
        fit = fits[name]
        single, n_single = isolated_single_amplitude(data, fit)
        tau, amp, seconds = estimates(data)
        degraded = [degrade(ts, 30.0, 4.0, random_state=i) for i, ts in enumerate(data)]
        tau_d, amp_d, _ = estimates(degraded)
        rows.append({"dataset": name, "tau_fit_s": fit["tau_decay_s"], "tau_estimate_s": tau,
                     "tau_estimate_30hz_nu4_s": tau_d, "amplitude_fit": fit["amplitude"],
                     "amplitude_single_spikes": single, "n_single_spikes": n_single,
                     "amplitude_estimate": amp, "amplitude_estimate_30hz_nu4": amp_d,
                     "seconds": round(seconds, 2)})
    print("| dataset | decay fit (s) | estimate | 30 Hz/nu 4 | amplitude fit (dF/F) | single "
          "spikes (n) | estimate | 30 Hz/nu 4 |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['dataset']} | {r['tau_fit_s']:.2f} | {r['tau_estimate_s']:.2f} | "
              f"{r['tau_estimate_30hz_nu4_s']:.2f} | {r['amplitude_fit']:.3f} | "
              f"{r['amplitude_single_spikes']:.3f} ({r['n_single_spikes']}) | "
              f"{r['amplitude_estimate']:.3f} | {r['amplitude_estimate_30hz_nu4']:.3f} |")
    n = len(rows)
    counts = {
        "decay within 30% of the fit": sum(within(r["tau_estimate_s"], r["tau_fit_s"]) for r in rows),
        "decay within 30%, 30 Hz/nu 4": sum(within(r["tau_estimate_30hz_nu4_s"], r["tau_fit_s"])
                                            for r in rows),
        "amplitude within 30% of the fit": sum(within(r["amplitude_estimate"], r["amplitude_fit"])
                                               for r in rows),
        "amplitude within 30%, 30 Hz/nu 4": sum(within(r["amplitude_estimate_30hz_nu4"],
                                                       r["amplitude_fit"]) for r in rows),
        "amplitude within 30% of isolated single spikes": sum(
            within(r["amplitude_estimate"], r["amplitude_single_spikes"]) for r in rows),
        "single-spike amplitude within 30% of the fit": sum(
            within(r["amplitude_single_spikes"], r["amplitude_fit"]) for r in rows),
    }
    print()
    for label, count in counts.items():
        print(f"{label}: {count} of {n}")
    if args.json:
        text = json.dumps({"datasets": rows, "counts": counts}, indent=1)
        write_atomically(args.json, lambda tmp: tmp.write_text(text + "\n"), force=True)


if __name__ == "__main__":
    main()
