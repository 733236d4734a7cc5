"""Scale and reliability of ``spikeinfer predict`` on a large simulated recording.

Stages (each appends its figures to ``--json``):

- ``stream``: the recording (``--neurons`` x ``--hours`` at 30 Hz, float32 ``.npy``) predicted
  to HDF5 by the command line a chunk of 256 neurons at a time; and its first
  ``--in-memory-neurons`` the same way and as one chunk (the whole recording in memory, as
  before streaming); wall time and peak RSS of each (``/usr/bin/time -v``); the pair
  alternating, median of ``--repeats``, the large run once.
- ``dask``: the same job on a local Dask cluster of 1 and of 2 workers; the outputs
  compared with the single-process one, and the speed-up.
- ``resume``: a run killed (SIGKILL) ``--kills`` times at random moments, each time
  resumed with ``--resume``; the output compared with an uninterrupted run's.

    python benchmarks/scale.py stream --neurons 10000 --json benchmarks/results/scale.json
    python benchmarks/scale.py dask --neurons 2000 --json benchmarks/results/scale.json
    python benchmarks/scale.py resume --neurons 1000 --kills 10 --json benchmarks/results/scale.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
from numpy.lib.format import open_memmap

from spikeinfer.io import write_atomically
from spikeinfer.simulate import simulate_recording

FPS = 30.0
SPIKEINFER = [sys.executable, "-m", "spikeinfer"]


def make_recording(path: Path, n_neurons: int, hours: float) -> Path:
    """Simulated dF/F written 50 neurons at a time into a memory-mapped ``.npy``."""
    if path.exists():
        return path
    n_frames = int(round(hours * 3600 * FPS))
    partial = path.with_suffix(".partial.npy")
    out = open_memmap(partial, mode="w+", dtype=np.float32, shape=(n_neurons, n_frames))
    for start in range(0, n_neurons, 50):
        n = min(50, n_neurons - start)
        out[start:start + n] = simulate_recording(n_neurons=n, duration_s=hours * 3600,
                                                  fps=FPS, random_state=start).traces
    out.flush()
    del out
    partial.rename(path)
    return path


def timed(command: list[str]) -> dict:
    """Wall time (s) and peak resident memory (MB) of a command, by ``/usr/bin/time -v``."""
    result = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)",
                     result.stderr)
    seconds = 0.0
    for part in wall.group(1).split(":"):
        seconds = seconds * 60 + float(part)
    return {"seconds": seconds, "peak_mb": int(rss.group(1)) / 1024}


def predict_command(source: Path, target: Path, *extra) -> list[str]:
    return [*SPIKEINFER, "predict", str(source), "--fps", f"{FPS:g}", "-o", str(target),
            "--force", *map(str, extra)]


def same_output(a: Path, b: Path) -> bool:
    """Every array and flag of two predictions equal (the time of the run aside)."""
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        names = set()
        fa.visititems(lambda name, obj: names.add(name) if isinstance(obj, h5py.Dataset)
                      else None)
        for name in sorted(names):
            x, y = fa[name], fb.get(name)
            if y is None or x.shape != y.shape:
                return False
            for start in range(0, x.shape[0] if x.shape else 1, 256):
                rows = slice(start, start + 256) if x.shape else ()
                if not np.array_equal(x[rows], y[rows], equal_nan=x.dtype.kind == "f"):
                    return False
    return True


def stage_stream(args, source: Path) -> dict:
    """The large recording streamed; and a smaller one (its first ``--in-memory-neurons``)
    streamed and in memory, the comparison per neuron-hour."""
    small = make_recording(args.work / f"traces-{args.in_memory_neurons}x{args.hours:g}h.npy",
                           args.in_memory_neurons, args.hours)
    jobs = {"streaming": (source, 256), "streaming_small": (small, 256),
            "in_memory_small": (small, args.in_memory_neurons)}
    runs = {name: [] for name in jobs}
    for repeat in range(args.repeats):
        for name, (path, chunk) in jobs.items():
            if name == "streaming" and repeat > 0:  # the large run once; the pair repeated
                continue
            result = timed(predict_command(path, args.work / f"{name}.h5",
                                           "--chunk-neurons", chunk))
            runs[name].append(result)
            print(f"repeat {repeat + 1}: {name}: {result['seconds']:.0f} s, "
                  f"{result['peak_mb']:.0f} MB", flush=True)
    out = {"hours": args.hours, "input_gb": source.stat().st_size / 1e9}
    for name, values in runs.items():
        n = args.neurons if name == "streaming" else args.in_memory_neurons
        median = float(np.median([r["seconds"] for r in values]))
        out[name] = {"neurons": n, "median_s": median,
                     "s_per_neuron_hour": median / (n * args.hours),
                     "peak_mb": float(max(r["peak_mb"] for r in values)), "runs": values}
    ratios = [s["seconds"] / m["seconds"]
              for s, m in zip(runs["streaming_small"], runs["in_memory_small"])]
    out["time_ratio_streaming_to_in_memory"] = float(np.median(ratios))
    out["per_neuron_hour_ratio_large_streaming_to_in_memory"] = (
        out["streaming"]["s_per_neuron_hour"] / out["in_memory_small"]["s_per_neuron_hour"])
    out["identical"] = same_output(args.work / "streaming_small.h5",
                                   args.work / "in_memory_small.h5")
    return out


def stage_dask(args, source: Path) -> dict:
    out = {"neurons": args.neurons, "hours": args.hours}
    local = args.work / "local.h5"
    out["single_process"] = timed(predict_command(source, local))
    for workers in (1, 2):
        target = args.work / f"workers{workers}.h5"
        out[f"workers_{workers}"] = timed(predict_command(source, target, "--workers", workers))
        out[f"workers_{workers}"]["identical_to_single_process"] = same_output(local, target)
        print(f"{workers} worker(s): {out[f'workers_{workers}']}", flush=True)
    out["speed_up_2_over_1_workers"] = (out["workers_1"]["seconds"]
                                        / out["workers_2"]["seconds"])
    return out


def stage_resume(args, source: Path) -> dict:
    rng = np.random.default_rng(args.seed)
    clean, target = args.work / "clean.h5", args.work / "resumed.h5"
    chunk = max(1, args.neurons // 40)  # 40 chunks: kills land between and within them
    started = time.perf_counter()
    subprocess.run(predict_command(source, clean, "--chunk-neurons", chunk), check=True,
                   capture_output=True)
    clean_s = time.perf_counter() - started
    target.unlink(missing_ok=True)
    parts = target.parent / f".{target.name}.parts"
    kills, attempts, finished = [], 0, False
    while not finished:
        attempts += 1
        command = predict_command(source, target, "--chunk-neurons", chunk, "--resume")
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        if len(kills) < args.kills:
            # a moment within what remains of the run (startup included)
            delay = float(rng.uniform(0.5, max(1.0, 2.5 * clean_s / args.kills)))
            try:
                process.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                done = len(list(parts.glob("rows-*.npz")))
                process.send_signal(signal.SIGKILL)
                process.wait()
                kills.append({"after_s": delay, "parts_done_before": done})
                print(f"kill {len(kills)} after {delay:.1f} s ({done} chunks done)", flush=True)
                continue
        finished = process.wait() == 0
        if not finished:
            raise SystemExit(f"a resumed run failed: {' '.join(command)}")
    leftovers = sorted(p.name for p in target.parent.glob(f".{target.name}*"))
    return {"neurons": args.neurons, "hours": args.hours, "chunk_neurons": chunk,
            "clean_run_s": clean_s, "kills": kills, "runs": attempts,
            "identical": same_output(clean, target), "leftover_files": leftovers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage", choices=("stream", "dask", "resume"))
    parser.add_argument("--neurons", type=int, default=10_000)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--in-memory-neurons", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/spikeinfer-scale"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    source = make_recording(args.work / f"traces-{args.neurons}x{args.hours:g}h.npy",
                            args.neurons, args.hours)
    env_threads = os.environ.get("OMP_NUM_THREADS")
    result = {"stream": stage_stream, "dask": stage_dask, "resume": stage_resume}[args.stage](
        args, source)
    result["cores"] = len(os.sched_getaffinity(0))
    result["OMP_NUM_THREADS"] = env_threads
    print(json.dumps(result, indent=1))
    if args.json:
        document = json.loads(args.json.read_text()) if args.json.exists() else {}
        document[args.stage] = result
        write_atomically(args.json, lambda tmp: tmp.write_text(json.dumps(document, indent=1)
                                                               + "\n"), force=True)


if __name__ == "__main__":
    main()
