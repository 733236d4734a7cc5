"""Fitting the forward model to ground truth: fluorescence regressed on the true spikes.

For every (tau_rise, tau_decay) on a grid, each neuron's baseline-subtracted dF/F is
regressed on the calcium its spikes predict (amplitude and offset by least squares);
the dataset's kinetics maximise the mean variance explained over its neurons. All grid
pairs come from one Gram matrix of exponential traces per neuron, so the grid costs
about as much as one pass over the data. A saturation is then fitted on a grid around
the best kinetics and kept only if it explains clearly more variance.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence

import numpy as np

from ..io import INDICATORS, dataset_indicator, is_inhibitory, normalise_indicator_name
from ..pipeline import Pipeline
from ..preprocess import resample_traceset
from ..signals import compute_noise_level
from ..data import TraceSet
from ..exceptions import InputError
from ._forward import compute_exponential_trace, compute_kernel_peak

TAU_RISE_GRID_S = np.geomspace(0.005, 0.5, 21)
TAU_DECAY_GRID_S = np.geomspace(0.05, 5.0, 26)
# Saturation in units of one spike's peak calcium: the response is half of linear at
# K spikes' worth of calcium (in dF/F: saturation = amplitude * K).
HALF_SATURATION_GRID = np.geomspace(0.5, 64.0, 29)
MIN_DECAY_TO_RISE = 1.5

logger = logging.getLogger(__name__)


def fit_kernel(data: Sequence[TraceSet], *, tau_rise_grid_s: Sequence[float] = TAU_RISE_GRID_S,
               tau_decay_grid_s: Sequence[float] = TAU_DECAY_GRID_S,
               half_saturation_grid: Sequence[float] | None = HALF_SATURATION_GRID,
               refine_steps: int = 2, min_improvement: float = 0.005,
               baseline_window_s: float = 60.0) -> dict:
    """Fit kinetics, amplitude and saturation of dF/F to ground-truth spikes.

    Parameters
    ----------
    data : sequence of TraceSet
        Recordings with spike times (one dataset; any frame rates). Neurons without
        spikes are left out.
    tau_rise_grid_s, tau_decay_grid_s : sequence of float
        Candidate time constants; pairs with tau_decay < 1.5 tau_rise are skipped.
    half_saturation_grid : sequence of float or None
        Candidate saturations in spikes' worth of calcium; None fits linear only.
    refine_steps : int, default=2
        The saturation is searched jointly with kinetics this many grid steps around
        the best linear ones.
    min_improvement : float, default=0.005
        Mean variance explained a saturation must add to be kept.
    baseline_window_s : float, default=60.0
        Window of the running baseline subtracted before fitting (as the networks'
        :class:`~spikeinfer.pipeline.Pipeline` does), so that drift does not dominate.

    Returns
    -------
    dict
        ``tau_rise_s``, ``tau_decay_s``, ``amplitude`` (median over neurons of the peak
        dF/F per spike) and its ``amplitude_quartiles`` over neurons, ``saturation`` (dF/F, None if linear), ``variance_explained``
        (mean over neurons, each with its own amplitude and offset),
        ``variance_explained_dataset_amplitude`` (all neurons with the median amplitude),
        ``variance_explained_linear``, ``n_neurons``, ``n_spikes``, ``at_grid_edge``.
    """
    rise_grid = np.asarray(tau_rise_grid_s, dtype=np.float64)
    decay_grid = np.asarray(tau_decay_grid_s, dtype=np.float64)
    neurons = list(_prepare(data, baseline_window_s))
    if not neurons:
        raise InputError("no neuron with spikes and finite fluorescence to fit")
    pairs = [(r, d) for r in range(rise_grid.size) for d in range(decay_grid.size)
             if decay_grid[d] >= MIN_DECAY_TO_RISE * rise_grid[r]]
    stats = np.stack([_gram_statistics(n, rise_grid, decay_grid, pairs) for n in neurons])
    best_r, best_d = pairs[int(np.argmax(_variance_explained(stats).mean(axis=0)))]

    # Saturation (and kinetics again) on a small grid around the best linear kinetics.
    near = [(r, d) for r, d in pairs if abs(r - best_r) <= refine_steps
            and abs(d - best_d) <= refine_steps]
    ks = np.append(np.asarray(half_saturation_grid if half_saturation_grid is not None
                              else [], dtype=np.float64), np.inf)
    local = np.stack([_saturation_statistics(n, rise_grid, decay_grid, near, ks)
                      for n in neurons])  # (neuron, pair, K, 3)
    mean_ve = _variance_explained(local).mean(axis=0)  # (pair, K)
    linear = int(np.argmax(mean_ve[:, -1]))
    pair, k = np.unravel_index(int(np.argmax(mean_ve)), mean_ve.shape)
    if mean_ve[pair, k] - mean_ve[linear, -1] < min_improvement:
        pair, k = linear, ks.size - 1
    chosen = local[:, pair, k]
    sxy, sxx, syy = chosen.T
    amplitudes = sxy / sxx
    amplitude = float(np.median(amplitudes))
    r, d = near[pair]
    half_saturation = float(ks[k])
    dataset_ve = 1 - (syy - 2 * amplitude * sxy + amplitude ** 2 * sxx) / syy
    edge = (r in (0, rise_grid.size - 1) or d in (0, decay_grid.size - 1)
            or (np.isfinite(half_saturation) and k in (0, ks.size - 2)))
    return {
        "tau_rise_s": float(rise_grid[r]),
        "tau_decay_s": float(decay_grid[d]),
        "amplitude": amplitude,
        "amplitude_quartiles": [float(q) for q in np.percentile(amplitudes, [25, 75])],
        "saturation": amplitude * half_saturation if np.isfinite(half_saturation) else None,
        "variance_explained": float(_variance_explained(chosen).mean()),
        "variance_explained_dataset_amplitude": float(dataset_ve.mean()),
        "variance_explained_linear": float(mean_ve[linear, -1]),
        "n_neurons": len(neurons),
        "n_spikes": int(sum(n[2].size for n in neurons)),
        "at_grid_edge": bool(edge),
    }


def fit_indicator_table(data: Sequence[TraceSet], fps: float = 30.0, *,
                        inhibitory: Collection[str] | Callable[[str], bool] = is_inhibitory,
                        **fit_options) -> dict:
    """Per-dataset fits (:func:`fit_kernel` at a common frame rate) and per-indicator
    presets: medians over each indicator's excitatory datasets, or over its
    inhibitory ones if it has no other.

    Parameters
    ----------
    data : sequence of TraceSet
        Ground truth, grouped into datasets by ``TraceSet.dataset``.
    fps : float, default=30.0
        Every recording is resampled to this rate before fitting.
    inhibitory : collection of dataset names, or a function of the name
        Datasets of inhibitory neurons; default: those of the ground-truth catalogue.
    **fit_options
        Passed to :func:`fit_kernel`.

    Returns
    -------
    dict with ``fit_fps``, ``datasets`` (one dict per dataset) and ``indicators``
    (name -> preset with ``tau_rise_s``, ``tau_decay_s``, ``amplitude``,
    ``saturation``, ``noise_level``, ``variance_explained`` and ``datasets``).
    """
    is_inhibitory = inhibitory if callable(inhibitory) else (lambda name: name in inhibitory)
    by_dataset: dict[str, list[TraceSet]] = {}
    for ts in data:
        by_dataset.setdefault(ts.dataset, []).append(ts)
    rows = []
    for name, recordings in by_dataset.items():
        raw = recordings[0].indicator or dataset_indicator(name) or ""
        noise = np.concatenate([compute_noise_level(ts.traces, ts.fps)
                                for ts in recordings])
        fit = fit_kernel([resample_traceset(ts, fps) for ts in recordings],
                         **fit_options)
        rows.append({"dataset": name, "indicator": normalise_indicator_name(raw),
                     "inhibitory": bool(is_inhibitory(name)),
                     "native_fps": sorted({round(ts.fps, 2) for ts in recordings}),
                     "noise_level": float(np.nanmedian(noise)), **fit})
        row = rows[-1]
        logger.info("%s: rise %.3f s, decay %.2f s, amplitude %.3f, saturation %s, nu %.2f, "
                    "variance explained %.3f", name, row["tau_rise_s"], row["tau_decay_s"],
                    row["amplitude"], row["saturation"], row["noise_level"],
                    row["variance_explained"])
    return {"fit_fps": fps, "datasets": rows, "indicators": summarise_indicators(rows)}


def summarise_indicators(rows: Sequence[dict]) -> dict:
    """Preset per known indicator: the median of each parameter over its excitatory
    datasets (its inhibitory ones if it has no other). A saturation is kept if the
    median over datasets, taking linear ones as infinite, is finite."""
    presets = {}
    for indicator in INDICATORS:
        mine = [row for row in rows if row["indicator"] == indicator]
        chosen = [row for row in mine if not row["inhibitory"]] or mine
        if not chosen:
            continue
        saturation = float(np.median([row["saturation"] if row["saturation"] is not None
                                      else np.inf for row in chosen]))
        presets[indicator] = {
            **{key: float(np.median([row[key] for row in chosen]))
               for key in ("tau_rise_s", "tau_decay_s", "amplitude", "noise_level")},
            "saturation": saturation if np.isfinite(saturation) else None,
            "variance_explained": float(np.mean([row["variance_explained"] for row in chosen])),
            "datasets": [row["dataset"] for row in chosen],
        }
    return presets


def format_indicator_table(table: dict) -> str:
    """Markdown tables of the presets and of the per-dataset fits."""
    def number(value, fmt):
        return "linear" if value is None else format(value, fmt)

    header = ("| indicator | tau_rise (s) | tau_decay (s) | amplitude (dF/F) | saturation "
              "(dF/F) | nu | variance explained | datasets |")
    lines = [header, "|---" * 8 + "|"]
    for name, p in table["indicators"].items():
        lines.append(f"| {name} | {p['tau_rise_s']:.3f} | {p['tau_decay_s']:.2f} | "
                     f"{p['amplitude']:.3f} | {number(p['saturation'], '.2f')} | "
                     f"{p['noise_level']:.2f} | {p['variance_explained']:.3f} | "
                     f"{', '.join(_short_name(d) for d in p['datasets'])} |")
    header = ("| dataset | indicator | neurons | tau_rise (s) | tau_decay (s) | amplitude "
              "| amplitude quartiles | saturation | nu | VE | VE (dataset amplitude) | "
              "VE (linear) |")
    lines += ["", header, "|---" * 12 + "|"]
    for row in table["datasets"]:
        mark = " (inh)" if row["inhibitory"] else ""
        edge = " *" if row["at_grid_edge"] else ""
        lines.append(f"| {row['dataset']}{mark}{edge} | {row['indicator']} | "
                     f"{row['n_neurons']} | {row['tau_rise_s']:.3f} | "
                     f"{row['tau_decay_s']:.2f} | {row['amplitude']:.3f} | "
                     f"{row['amplitude_quartiles'][0]:.3f}-{row['amplitude_quartiles'][1]:.3f} | "
                     f"{number(row['saturation'], '.2f')} | {row['noise_level']:.2f} | "
                     f"{row['variance_explained']:.3f} | "
                     f"{row['variance_explained_dataset_amplitude']:.3f} | "
                     f"{row['variance_explained_linear']:.3f} |")
    return "\n".join(lines)


def _short_name(dataset: str) -> str:
    return dataset.split("-")[0] if dataset.startswith("DS") else dataset


def _prepare(data: Sequence[TraceSet], baseline_window_s: float):
    """(dF/F minus running baseline, finite-frame mask, spike times, fps) per neuron with
    spikes in its recording."""
    for ts in data:
        if ts.spike_times is None:
            raise InputError(f"{ts.dataset or ts.source}: no ground-truth spikes to fit")
        for trace, spikes, length in zip(ts.traces, ts.spike_times, ts.lengths):
            trace = trace[:length]
            if not np.any((spikes >= 0) & (spikes < length / ts.fps)):
                continue
            y = Pipeline(fps=ts.fps, baseline_window_s=baseline_window_s).prepare(trace, ts.fps)
            finite = np.isfinite(y)
            if finite.sum() >= 10:
                yield y, finite, spikes, ts.fps


def _exponentials(neuron, taus: np.ndarray) -> np.ndarray:
    y, finite, spikes, fps = neuron
    return np.stack([compute_exponential_trace(spikes, fps, y.size, tau)[finite]
                     for tau in taus])


def _gram_statistics(neuron, rise_grid, decay_grid, pairs) -> np.ndarray:
    """(Sxy, Sxx, Syy) per kinetics pair: centred cross- and self-products of the trace y
    and the predicted calcium x, from the Gram matrix of the exponential traces."""
    taus = np.concatenate([rise_grid, decay_grid])
    e = _exponentials(neuron, taus)  # (tau, frame)
    y = neuron[0][neuron[1]]
    n = y.size
    gram, ey, esum = e @ e.T, e @ y, e.sum(axis=1)
    r = np.array([p[0] for p in pairs])
    d = np.array([p[1] for p in pairs]) + rise_grid.size
    peak = np.array([compute_kernel_peak(rise_grid[i], decay_grid[j]) for i, j in pairs])
    xy = (ey[d] - ey[r]) / peak
    xx = (gram[d, d] - 2 * gram[d, r] + gram[r, r]) / peak ** 2
    xsum = (esum[d] - esum[r]) / peak
    syy = np.full(len(pairs), y @ y - y.sum() ** 2 / n)
    return np.stack([xy - xsum * y.sum() / n, xx - xsum ** 2 / n, syy], axis=-1)


def _saturation_statistics(neuron, rise_grid, decay_grid, pairs, ks) -> np.ndarray:
    """(Sxy, Sxx, Syy) per kinetics pair and saturation K, x = c / (1 + c / K)."""
    rises = sorted({r for r, _ in pairs})
    decays = sorted({d for _, d in pairs})
    e_rise = dict(zip(rises, _exponentials(neuron, rise_grid[rises])))
    e_decay = dict(zip(decays, _exponentials(neuron, decay_grid[decays])))
    y = neuron[0][neuron[1]]
    yc = y - y.mean()
    out = np.empty((len(pairs), ks.size, 3))
    out[..., 2] = yc @ yc
    for i, (r, d) in enumerate(pairs):
        calcium = (e_decay[d] - e_rise[r]) / compute_kernel_peak(rise_grid[r], decay_grid[d])
        for j, k in enumerate(ks):
            x = calcium if np.isinf(k) else calcium / (1 + calcium / k)
            xc = x - x.mean()
            out[i, j, 0] = xc @ yc
            out[i, j, 1] = xc @ xc
    return out


def _variance_explained(stats: np.ndarray) -> np.ndarray:
    """Squared correlation of trace and prediction from (Sxy, Sxx, Syy); 0 where the best
    amplitude would be negative or the prediction is constant."""
    sxy, sxx, syy = stats[..., 0], stats[..., 1], stats[..., 2]
    with np.errstate(all="ignore"):
        ve = sxy ** 2 / (sxx * syy)
    return np.where((sxy > 0) & (sxx > 0) & (syy > 0), ve, 0.0)
