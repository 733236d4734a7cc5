"""Scores of the generative models on held-out neurons.

- classifier: ROC AUC per dataset of "spike in the centre frame", beside a one-line
  baseline (the rise of the trace at the centre, in noise units);
- autoencoder: reconstruction error in dF/F and in noise units, training vs held-out
  neurons, beside PCA with as many components as the code has dimensions;
- GAN: per dataset, a two-sample test (a gradient-boosting classifier told to separate
  real held-out windows from windows generated from the same spikes; 5-fold accuracy,
  0.5 = indistinguishable), the same test for the physical simulator with the
  dataset's fitted kinetics, and matched statistics (noise level nu, amplitude and
  half-decay time of the response to an isolated spike) of real, GAN and simulator.
  The simulator gets the dataset's fitted kinetics, amplitude and saturation
  (``spikeinfer indicators list --datasets``) and the noise level nu of the dataset's
  training neurons at 30 Hz.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score

from ..data import TraceSet
from ..exceptions import InputError
from ..pipeline import Pipeline
from ..simulate import load_indicator_table, simulate_fluorescence
from ..signals import compute_noise_level, counts_to_spike_times
from ._models import ConditionalGAN, SpikeClassifier, WindowAutoencoder
from ._windows import Stretches, Windows, make_windows, noise_sigma

logger = logging.getLogger(__name__)


def _none(value) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def rise_score(x: np.ndarray) -> np.ndarray:
    """Baseline detector: mean of the 3 frames from the centre on minus the mean of the
    3 frames before it, in units of the window's noise std."""
    c = x.shape[1] // 2
    return (x[:, c:c + 3].mean(axis=1) - x[:, c - 3:c].mean(axis=1)) / noise_sigma(x)


def evaluate_classifier(model: SpikeClassifier, windows: Windows) -> dict:
    """ROC AUC on the held-out windows, per dataset and pooled."""
    held = windows.subset(windows.held_out)
    proba = model.predict_proba(held.x)
    baseline = rise_score(held.x)
    label = held.has_spike
    rows = {}
    for d, name in enumerate(held.dataset_names):
        keep = held.dataset == d
        if not keep.any():
            continue
        both = 0 < label[keep].sum() < keep.sum()
        rows[name] = {"n_windows": int(keep.sum()), "n_spike": int(label[keep].sum()),
                      "auc": float(roc_auc_score(label[keep], proba[keep])) if both else None,
                      "auc_rise_baseline": float(roc_auc_score(label[keep], baseline[keep]))
                      if both else None}
    aucs = [r["auc"] for r in rows.values() if r["auc"] is not None]
    base = [r["auc_rise_baseline"] for r in rows.values() if r["auc"] is not None]
    return {"kind": "classifier", "target": "a spike in the centre frame (33 ms at 30 Hz)",
            "datasets": rows,
            "mean_auc": float(np.mean(aucs)), "mean_auc_rise_baseline": float(np.mean(base)),
            "pooled_auc": float(roc_auc_score(label, proba)),
            "train_bce": model.loss(windows.subset(~windows.held_out)),
            "held_out_bce": model.loss(held)}


def evaluate_autoencoder(model: WindowAutoencoder, windows: Windows) -> dict:
    """Reconstruction error in noise units (1 = the variance of the noise) and dF/F^2,
    training and held-out neurons, per dataset (held out), and PCA for reference."""
    def errors(w: Windows) -> tuple[np.ndarray, np.ndarray]:
        reconstruction = model.reconstruct(w.x)
        squared = ((reconstruction - w.x) ** 2).mean(axis=1)
        return squared / noise_sigma(w.x) ** 2, squared

    train, held = windows.subset(~windows.held_out), windows.subset(windows.held_out)
    pca = PCA(model.latent, random_state=0).fit(train.x / noise_sigma(train.x)[:, None])
    z = held.x / noise_sigma(held.x)[:, None]
    pca_noise = ((pca.inverse_transform(pca.transform(z)) - z) ** 2).mean(axis=1)
    result = {"kind": "autoencoder", "latent": model.latent}
    for split, w in (("train", train), ("held_out", held)):
        noise_units, dff = errors(w)
        result[split] = {"n_windows": len(w.x), "mse_noise_units": float(noise_units.mean()),
                         "median_mse_noise_units": float(np.median(noise_units)),
                         "mse_dff": float(dff.mean())}
    result["held_out"]["pca_mse_noise_units"] = float(pca_noise.mean())
    noise_units, dff = errors(held)
    result["datasets"] = {
        name: {"n_windows": int((held.dataset == d).sum()),
               "mse_noise_units": float(noise_units[held.dataset == d].mean()),
               "median_mse_noise_units": float(np.median(noise_units[held.dataset == d])),
               "pca_mse_noise_units": float(pca_noise[held.dataset == d].mean()),
               "rms_dff": float(np.sqrt(dff[held.dataset == d].mean()))}
        for d, name in enumerate(held.dataset_names) if (held.dataset == d).any()}
    return result


# -- GAN ------------------------------------------------------------------------------

def window_features(x: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Features of the two-sample classifier: the window, its frame differences, its
    spikes (so that the fit of the response to the spikes is tested too), and its
    std, noise std, minimum and maximum."""
    dx = np.diff(x, axis=1)
    summary = np.stack([x.std(axis=1), noise_sigma(x), x.min(axis=1), x.max(axis=1)], axis=1)
    return np.concatenate([x, dx, counts, summary], axis=1)


def two_sample_accuracy(real: np.ndarray, fake: np.ndarray, counts: np.ndarray,
                        random_state: int = 0) -> float:
    """5-fold cross-validated accuracy of a gradient-boosting classifier separating
    ``real`` from ``fake`` windows (both (n, window), same ``counts``)."""
    features = np.concatenate([window_features(real, counts), window_features(fake, counts)])
    target = np.r_[np.ones(len(real)), np.zeros(len(fake))]
    classifier = HistGradientBoostingClassifier(max_iter=60, max_leaf_nodes=15,
                                                early_stopping=False, random_state=random_state)
    folds = StratifiedKFold(5, shuffle=True, random_state=random_state)
    return float(cross_val_score(classifier, features, target, cv=folds).mean())


def compute_transient_stats(traces: Sequence[np.ndarray], counts: Sequence[np.ndarray],
                            fps: float, before_s: float = 1.0, after_s: float = 1.5) -> dict:
    """Noise level nu (median over traces), and the average response to an isolated
    single spike (one spike in its frame, none ``before_s`` before or ``after_s``
    after): its amplitude (peak within 1 s minus the mean of the 0.5 s before) and its
    half-decay time (s from the peak to half the peak). None with fewer than 3 spikes."""
    pre, post = int(0.5 * fps), int(2.5 * fps)
    gap_before, gap_after = int(before_s * fps), int(after_s * fps)
    segments = []
    for x, c in zip(traces, counts):
        for f in np.flatnonzero(c == 1):
            if f - max(pre, gap_before) < 0 or f + post > len(x):
                continue
            if c[f - gap_before:f].sum() > 0 or c[f + 1:f + 1 + gap_after].sum() > 0:
                continue
            segments.append(x[f - pre:f + post])
    nu = float(np.nanmedian(np.concatenate([compute_noise_level(x, fps) for x in traces])))
    result = {"nu": nu, "n_isolated_spikes": len(segments), "amplitude": None,
              "half_decay_s": None, "sta": None}
    if len(segments) < 3:
        return result
    sta = np.mean(segments, axis=0)
    sta = sta - sta[:pre - 1].mean()
    peak = pre + int(np.argmax(sta[pre:pre + int(fps)]))
    amplitude = float(sta[peak])
    below = np.flatnonzero(sta[peak:] < amplitude / 2)
    result.update(amplitude=amplitude, sta=[float(f"{v:.4g}") for v in sta],
                  half_decay_s=float(below[0] / fps) if amplitude > 0 and below.size else None)
    return result


def simulator_parameters(dataset: str) -> dict | None:
    for entry in load_indicator_table()["datasets"]:
        if entry["dataset"] == dataset:
            return {k: entry[k] for k in ("tau_rise_s", "tau_decay_s", "amplitude",
                                          "saturation", "noise_level")}
    return None


def simulate_stretches(stretches: Stretches, rows: np.ndarray, params: dict,
                       random_state: int = 0, baseline_window_s: float = 60.0) -> list:
    """The simulator's traces for ``rows``: their spikes, the dataset's fitted kinetics,
    noise at the dataset's nu, running baseline subtracted as for real data."""
    rng = np.random.default_rng(random_state)
    pipeline = Pipeline(fps=stretches.fps, baseline_window_s=baseline_window_s)
    out = []
    params = dict(params)
    nu = params.pop("noise_level")
    for i in rows:
        counts = stretches.counts[i]
        x = simulate_fluorescence([counts_to_spike_times(counts, stretches.fps)], stretches.fps,
                                  len(counts), noise_level=nu, random_state=rng, **params)[0]
        out.append(pipeline.prepare(x, stretches.fps))
    return out


def evaluate_gan(model: ConditionalGAN, stretches: Stretches, held: set[str],
                 simulator: bool = True) -> dict:
    """Per dataset with held-out neurons: two-sample accuracy of the GAN (and of the
    simulator) against real windows of those neurons, and matched statistics."""
    windows = make_windows(stretches, held, 64, model.per_dataset, model.random_state)
    windows = windows.subset(windows.held_out)
    is_held = stretches.is_held_out(held)
    rows_out = {}
    for d, name in enumerate(stretches.dataset_names):
        rows = np.flatnonzero((stretches.dataset == d) & is_held)
        mine = windows.dataset == d
        if not rows.size or mine.sum() < 20:
            continue
        real = [stretches.traces[i] for i in rows]
        counts = [stretches.counts[i] for i in rows]
        generated = {"gan": [model.generate(c, name, random_state=[model.random_state, d, k])
                             for k, c in enumerate(counts)]}
        params = simulator_parameters(name) if simulator else None
        if params is not None:
            # Noise as measured at 30 Hz on the dataset's training neurons (the table's
            # nu is at the native rates; the GAN learns from the same training neurons).
            train_rows = np.flatnonzero((stretches.dataset == d) & ~is_held)
            if train_rows.size:
                params["noise_level"] = float(np.nanmedian(np.concatenate(
                    [compute_noise_level(stretches.traces[i], stretches.fps)
                     for i in train_rows])))
            generated["simulator"] = simulate_stretches(stretches, rows, params,
                                                        model.random_state + d)
        position = {i: k for k, i in enumerate(rows)}
        cut = windows.subset(mine)
        real_x = cut.x
        entry = {"n_neurons": len({stretches.neuron[i] for i in rows}),
                 "n_windows": len(real_x), "real": compute_transient_stats(real, counts, model.fps)}
        for source, traces in generated.items():
            fake_x = np.stack([traces[position[i]][s:s + cut.x.shape[1]]
                               for i, s in zip(cut.stretch, cut.start)])
            entry[source] = {"two_sample_accuracy": two_sample_accuracy(
                real_x, fake_x, cut.counts, model.random_state),
                **compute_transient_stats(traces, counts, model.fps)}
        rows_out[name] = entry
        summary = "  ".join(f"{s} {entry[s]['two_sample_accuracy']:.3f}" for s in generated)
        logger.info("%s: %d windows, two-sample accuracy %s", name, len(real_x), summary)
    result = {"kind": "gan", "datasets": rows_out}
    for source in ("gan", "simulator"):
        acc = [e[source]["two_sample_accuracy"] for e in rows_out.values() if source in e]
        result[f"mean_two_sample_accuracy_{source}"] = float(np.mean(acc)) if acc else None
    return result


def evaluate_model(model, data: Sequence[TraceSet]) -> dict:
    """The evaluation of any of the three models on its held-out neurons of ``data``."""
    stretches, held = model.prepare(data)
    if not held:
        raise InputError("the model was trained on every neuron (held_out_fraction=0); "
                         "there is nothing held out to evaluate on")
    if isinstance(model, ConditionalGAN):
        result = evaluate_gan(model, stretches, held)
    else:
        windows = make_windows(stretches, held, model.window, model.per_dataset,
                               model.random_state)
        result = (evaluate_classifier(model, windows) if isinstance(model, SpikeClassifier)
                  else evaluate_autoencoder(model, windows))
    result["n_held_out_neurons"] = len(held)
    result["training"] = {k: v for k, v in model.training_.items() if k != "history"}
    return result


def format_evaluation(result: dict) -> str:
    """The result of :func:`evaluate_model` as a table."""
    def fmt(v, spec=".3f"):
        return "-" if v is None else format(v, spec)

    kind = result["kind"]
    if kind == "classifier":
        lines = [f"{'dataset':<38}{'windows':>8}{'spikes':>8}{'AUC':>8}{'rise AUC':>10}",
                 "-" * 72]
        for name, r in result["datasets"].items():
            lines.append(f"{name[:38]:<38}{r['n_windows']:>8}{r['n_spike']:>8}"
                         f"{fmt(r['auc']):>8}{fmt(r['auc_rise_baseline']):>10}")
        lines.append(f"{'mean over datasets':<54}{fmt(result['mean_auc']):>8}"
                     f"{fmt(result['mean_auc_rise_baseline']):>10}")
        lines.append(f"{'pooled':<54}{fmt(result['pooled_auc']):>8}")
        return "\n".join(lines)
    if kind == "autoencoder":
        lines = [(f"{'dataset (held-out neurons)':<38}{'windows':>8}{'MSE/noise':>11}"
                  f"{'median':>8}{'PCA':>8}{'RMS dF/F':>10}"), "-" * 83]
        for name, r in result["datasets"].items():
            lines.append(f"{name[:38]:<38}{r['n_windows']:>8}{fmt(r['mse_noise_units']):>11}"
                         f"{fmt(r['median_mse_noise_units']):>8}"
                         f"{fmt(r['pca_mse_noise_units']):>8}{fmt(r['rms_dff'], '.4f'):>10}")
        for split in ("train", "held_out"):
            r = result[split]
            pca = fmt(r.get("pca_mse_noise_units")) if split == "held_out" else ""
            lines.append(f"{split + ' (all windows)':<38}{r['n_windows']:>8}"
                         f"{fmt(r['mse_noise_units']):>11}"
                         f"{fmt(r['median_mse_noise_units']):>8}{pca:>8}")
        return "\n".join(lines)
    lines = [(f"{'dataset':<34}{'win':>5}{'acc GAN':>8}{'acc sim':>8}"
              f"{'nu real/GAN/sim':>17}{'amp real/GAN/sim':>21}{'t1/2 s real/GAN/sim':>21}"),
             "-" * 114]

    def triple(r, key, spec):
        return "/".join(fmt(r[s][key], spec) if s in r else "-"
                        for s in ("real", "gan", "simulator"))

    for name, r in result["datasets"].items():
        sim = r.get("simulator", {}).get("two_sample_accuracy")
        lines.append(f"{name[:34]:<34}{r['n_windows']:>5}"
                     f"{fmt(r['gan']['two_sample_accuracy']):>8}{fmt(sim):>8}"
                     f"{triple(r, 'nu', '.2f'):>17}{triple(r, 'amplitude', '.3f'):>21}"
                     f"{triple(r, 'half_decay_s', '.2f'):>21}")
    lines.append(f"{'mean over datasets':<39}{fmt(result['mean_two_sample_accuracy_gan']):>8}"
                 f"{fmt(result['mean_two_sample_accuracy_simulator']):>8}")
    return "\n".join(lines)
