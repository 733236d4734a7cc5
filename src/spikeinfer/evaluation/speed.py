"""Wall time and peak memory of prediction on a large simulated recording.

Each measurement runs in a fresh process, which simulates the recording (float32)
and then predicts it, so that one model's memory does not count against another's.
Models alternate within each repeat, so that a busy machine slows them alike.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import time
import warnings

import numpy as np

from ..inference import predict_recording
from ..io import TraceSource
from ..models import load_model
from ..simulate import simulate_recording

logger = logging.getLogger(__name__)


def _rss_mb() -> float | None:
    """Current resident memory (MB) of this process, where /proc tells it."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def simulate_large_recording(n_neurons: int, duration_s: float, fps: float,
                             random_state: int = 0, chunk: int = 50) -> np.ndarray:
    """(n_neurons, n_frames) float32 dF/F, simulated ``chunk`` neurons at a time."""
    n_frames = int(round(duration_s * fps))
    traces = np.empty((n_neurons, n_frames), dtype=np.float32)
    for start in range(0, n_neurons, chunk):
        n = min(chunk, n_neurons - start)
        traces[start:start + n] = simulate_recording(
            n_neurons=n, duration_s=duration_s, fps=fps, random_state=random_state + start).traces
    return traces


#: What a name's suffix adds to ``predict``: "+estimates" runs the whole-recording path
#: (the recording's estimates and quality flags, chunk by chunk), "+outputs" also the
#: intervals and spike times.
SUFFIXES = {"": {}, "estimates": {}, "outputs": {"uncertainty": True, "spike_times": True}}


def _measure(name: str, n_neurons: int, duration_s: float, fps: float, queue) -> None:
    model_name, _, suffix = name.partition("+")
    traces = simulate_large_recording(n_neurons, duration_s, fps)
    model = load_model(model_name)
    data_mb = _rss_mb()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if suffix:
            prediction = predict_recording(TraceSource(traces, fps), model,
                                           **SUFFIXES[suffix]).spikes
        else:
            prediction = model.predict(traces, fps)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    queue.put({"seconds": seconds, "peak_mb": peak_mb, "data_mb": data_mb,
               "spikes": float(np.nansum(prediction))})


def benchmark_speed(model_names=("default", "oasis"), n_neurons: int = 1000,
                    duration_s: float = 3600.0, fps: float = 30.0, repeats: int = 3,
                    ) -> dict:
    """Median wall time and peak memory of ``predict`` per model, and each model's time
    as a ratio to the last model's (the baseline) within the same repeat."""
    context = multiprocessing.get_context("spawn")
    runs = {name: [] for name in model_names}
    for repeat in range(repeats):
        for name in model_names:
            queue = context.Queue()
            process = context.Process(target=_measure,
                                      args=(name, n_neurons, duration_s, fps, queue))
            process.start()
            result = queue.get()
            process.join()
            runs[name].append(result)
            logger.info("repeat %d/%d %s: %.1f s, peak %.0f MB", repeat + 1, repeats, name,
                        result["seconds"], result["peak_mb"])
    baseline = model_names[-1]
    summary = {}
    for name in model_names:
        seconds = [r["seconds"] for r in runs[name]]
        ratios = [r["seconds"] / b["seconds"] for r, b in zip(runs[name], runs[baseline])]
        summary[name] = {"median_s": float(np.median(seconds)),
                         "median_ratio_to_" + baseline: float(np.median(ratios)),
                         "peak_mb": float(np.max([r["peak_mb"] for r in runs[name]])),
                         "data_mb": runs[name][0]["data_mb"], "runs": runs[name]}
    return {"n_neurons": n_neurons, "duration_s": duration_s, "fps": fps, "repeats": repeats,
            "baseline": baseline, "models": summary}


def format_speed(result: dict) -> str:
    baseline = result["baseline"]
    lines = [f"{result['n_neurons']} neurons x {result['duration_s'] / 3600:g} h at "
             f"{result['fps']:g} Hz, median of {result['repeats']}",
             f"{'model':<18}{'time (s)':>10}{'x ' + baseline:>12}{'peak MB':>10}{'of it data':>12}"]
    for name, s in result["models"].items():
        data = "-" if s["data_mb"] is None else f"{s['data_mb']:.0f}"
        lines.append(f"{name:<18}{s['median_s']:>10.1f}"
                     f"{s['median_ratio_to_' + baseline]:>12.2f}{s['peak_mb']:>10.0f}{data:>12}")
    return "\n".join(lines)
