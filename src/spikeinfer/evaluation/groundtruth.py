"""Scores on ground-truth datasets, and cross-validation grouped by dataset.

A model is judged on whole datasets it has not seen: the folds of
:func:`cross_validate` hold out datasets, never neurons of a training dataset.
Each held-out dataset is scored at its native rate and in a harder condition
(by default resampled to 30 Hz with noise raised to CASCADE level nu = 4).
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from ..data import TraceSet
from ..exceptions import DataWarning, InputError
from ..io import cv_folds, dataset_group, is_inhibitory, write_atomically
from ..models import NeuralModel, SpikeModel
from ..signals import finite_runs
from ..preprocess import add_noise_to_level, resample_traceset
from .benchmark import _fmt
from .metrics import score_neurons

#: Frame rates (Hz) at which the timing of the output is measured.
LAG_RATES = (30.0, 100.0)

logger = logging.getLogger(__name__)


def degrade(ts: TraceSet, fps: float | None = None, noise_level: float | None = None,
            random_state: int = 0) -> TraceSet:
    """The recordings resampled to ``fps`` with noise raised to level ``noise_level``
    (shot-noise-like, as in training; rows already noisier are unchanged)."""
    if fps is not None:
        ts = resample_traceset(ts, fps)
    if noise_level is None:
        return ts
    rng = np.random.default_rng(random_state)
    traces = ts.traces.copy()
    for row in traces:
        for start, stop in finite_runs(row):
            if stop - start > 2:
                row[start:stop] = add_noise_to_level(row[start:stop], ts.fps, noise_level, rng)
    return replace(ts, traces=traces)


def lag_correlations(predictions: np.ndarray, truth: np.ndarray, max_lag: int) -> np.ndarray:
    """Mean over rows of the frame-level correlation of ``predictions[t + lag]`` with
    ``truth[t]``, for lag = -max_lag..max_lag; a positive best lag means a late output."""
    corr = np.zeros(2 * max_lag + 1)
    n_rows = 0
    for p, t in zip(predictions, truth):
        keep = np.isfinite(p) & np.isfinite(t)
        p, t = p[keep] - p[keep].mean(), t[keep] - t[keep].mean()
        norm = np.linalg.norm(p) * np.linalg.norm(t)
        if len(p) <= 2 * max_lag or norm == 0:
            continue
        n = len(p)
        for i, lag in enumerate(range(-max_lag, max_lag + 1)):
            corr[i] += (np.dot(p[lag:], t[:n - lag]) if lag >= 0
                        else np.dot(p[:n + lag], t[-lag:])) / norm
        n_rows += 1
    return corr / max(n_rows, 1)


def score_datasets(model: SpikeModel, data: Sequence[TraceSet], fps: float | None = None,
                   noise_level: float | None = None, random_state: int = 0,
                   max_lag: int = 0, progress: bool = False) -> dict:
    """Predict and score every recording; per dataset, the mean over its recordings.

    Returns ``{dataset: {"n": recordings, "corr": mean Spikefinder correlation,
    "bias": (predicted - true) / true spikes pooled over the dataset}}`` and, with
    ``max_lag``, ``"lag_corr"`` (see :func:`lag_correlations`) pooled over everything
    and each dataset's ``"lag"``, the frame lag of its best correlation.
    """
    per_dataset: dict[str, dict] = {}
    for i, ts in enumerate(data):
        ts = degrade(ts, fps, noise_level, random_state + i)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # short or flat stretches stay NaN
            prediction = model.predict_traceset(ts, progress=progress)
        truth = ts.spike_counts()
        scores = score_neurons(prediction, truth, ts.fps)
        entry = per_dataset.setdefault(ts.dataset, {"corr": [], "predicted": 0.0, "true": 0.0,
                                                    "lag_sum": np.zeros(2 * max_lag + 1)})
        entry["corr"].extend(scores["corr"].tolist())
        keep = np.isfinite(prediction) & np.isfinite(truth)
        entry["predicted"] += float(prediction[keep].sum())
        entry["true"] += float(truth[keep].sum())
        if max_lag:
            entry["lag_sum"] += lag_correlations(prediction, truth, max_lag) * len(truth)
    result = {}
    for name, e in sorted(per_dataset.items()):
        corr = np.array(e["corr"])
        result[name] = {"n": len(corr),
                        "corr": float(np.nanmean(corr)) if np.isfinite(corr).any() else None,
                        "bias": (e["predicted"] - e["true"]) / e["true"] if e["true"] else None}
        if max_lag:
            result[name]["lag"] = int(np.argmax(e["lag_sum"])) - max_lag
    if max_lag:
        n_rows = sum(e["n"] for e in result.values())
        pooled = sum(e["lag_sum"] for e in per_dataset.values()) / max(n_rows, 1)
        return {"datasets": result, "lag_corr": pooled.tolist()}
    return {"datasets": result}


def make_folds(datasets: Sequence[str], n_folds: int = 5, random_state: int = 0
               ) -> list[list[str]]:
    """Folds of whole dataset groups. For all the catalogue's datasets in five folds at
    seed 0, the folds in use (:func:`spikeinfer.io.cv_folds`), so that results stay
    comparable; any other choice deals the groups with scikit-learn's
    ``StratifiedGroupKFold``, stratified by cell type."""
    groups = sorted({dataset_group(d) for d in datasets})
    if not 2 <= n_folds <= len(groups):
        raise InputError(f"{n_folds} folds for {len(groups)} dataset groups; "
                         f"choose 2 to {len(groups)}")
    datasets = sorted(datasets)
    in_use = cv_folds()
    if n_folds == len(in_use) and random_state == 0 and datasets == sorted(
            d for fold in in_use for d in fold):
        return in_use
    labels = np.array([is_inhibitory(d) for d in datasets])
    splitter = StratifiedGroupKFold(n_folds, shuffle=True, random_state=random_state)
    return [sorted(np.array(datasets)[test].tolist()) for _, test in
            splitter.split(np.zeros(len(datasets)), labels, [dataset_group(d) for d in datasets])]


def cross_validate(make_model: Callable[[str], SpikeModel], model_names: Sequence[str],
                   data: Sequence[TraceSet], n_folds: int = 5, fps: float = 30.0,
                   noise_level: float = 4.0, random_state: int = 0, results_dir=None,
                   only_folds: Sequence[int] | None = None, progress: bool = False,
                   models_dir=None) -> dict:
    """Train each model on all but one fold of datasets, score the held-out fold.

    For every fold and model: the held-out datasets' scores at their native rate
    (``"native"``) and resampled to ``fps`` with noise level ``noise_level``
    (``"degraded"``), the lag curves at 30 and 100 Hz (native noise), and the
    training time. With ``results_dir``, each (model, fold) result is stored there
    as JSON with the model's hyper-parameters and reused by later runs with the same
    folds and hyper-parameters, so that long runs can be split between processes
    (``only_folds``: run just these, take the others from ``results_dir`` where they
    are) and resumed. With ``models_dir``, each fold's fitted model is saved there as
    ``NAME-foldK`` (for later analyses of held-out predictions).
    """
    datasets = sorted({ts.dataset for ts in data})
    folds = make_folds(datasets, n_folds, random_state)
    results: dict = {"folds": folds, "fps": fps, "noise_level": noise_level, "models": {}}
    for name in model_names:
        model = make_model(name)
        params, defaults = _stored_params(model)
        per_fold = []
        for k, held_out in enumerate(folds):
            path = Path(results_dir) / f"{name}-fold{k}.json" if results_dir else None
            if path is not None and path.exists():
                stored = json.loads(path.read_text())
                if stored["held_out"] == held_out and _same_params(stored.get("params"), params,
                                                                   defaults):
                    per_fold.append(stored)
                    continue
                logger.info("%s: other folds or hyper-parameters; not reused", path)
            if only_folds is not None and k not in only_folds:
                continue
            model = make_model(name)
            result = _run_fold(model, data, held_out, fps, noise_level,
                               random_state, progress, f"{name} fold {k}")
            if models_dir is not None:
                model.save(Path(models_dir) / f"{name}-fold{k}",
                           notes=f"cross-validation fold {k}: held out {', '.join(held_out)}")
            per_fold.append({**result, "params": params})
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_atomically(path, lambda tmp, doc=per_fold[-1]: tmp.write_text(
                    json.dumps(doc, indent=1)), force=True)
        results["models"][name] = per_fold
    return results


def _stored_params(model: SpikeModel) -> tuple[dict, dict]:
    """A model's hyper-parameters as stored with its results (flat names, JSON values),
    and the defaults of its class."""
    def flat(m):
        return m.flat_params() if isinstance(m, NeuralModel) else m.get_params()

    return (json.loads(json.dumps(flat(model))),
            json.loads(json.dumps(flat(type(model)()))))


def _same_params(stored: dict | None, params: dict, defaults: dict) -> bool:
    """Stored hyper-parameters equal ``params``; one added to the model since the result
    was stored (absent from ``stored``) matches when it is at its default."""
    return stored is not None and all(
        stored.get(k, defaults.get(k)) == v for k, v in params.items())


def _run_fold(model, data, held_out, fps, noise_level, random_state, progress, label):
    train = [ts for ts in data if ts.dataset not in held_out]
    test = [ts for ts in data if ts.dataset in held_out]
    logger.info("%s: training on %d datasets, holding out %s", label,
                len({ts.dataset for ts in train}), ", ".join(held_out))
    start = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - start
    native = score_datasets(model, test, random_state=random_state, progress=progress)
    degraded = score_datasets(model, test, fps, noise_level, random_state,
                              max_lag=int(round(0.1 * fps)), progress=progress)
    lags = {}
    for rate in LAG_RATES:
        curve = degraded["lag_corr"] if rate == fps else score_datasets(
            model, test, rate, None, random_state, max_lag=int(round(0.1 * rate)),
            progress=progress)["lag_corr"]
        lags[f"{rate:g}"] = int(np.argmax(curve)) - (len(curve) - 1) // 2
    logger.info("%s: fit %.0f s, best lag %s frames, total %.0f s", label, fit_s, lags,
                time.perf_counter() - start)
    return {"held_out": held_out, "native": native["datasets"],
            "degraded": degraded["datasets"], "lag_frames": lags, "fit_s": round(fit_s, 1)}


def summarise_cv(results: dict) -> dict:
    """Per model and condition: dataset -> score, and means over all, excitatory and
    inhibitory datasets (each dataset weighted equally)."""
    summary = {}
    for name, per_fold in results["models"].items():
        entry = {}
        for condition in ("native", "degraded"):
            scores = {d: s for fold in per_fold for d, s in fold[condition].items()}
            entry[condition] = {"datasets": scores, **_means(scores)}
        entry["lag_frames"] = [fold["lag_frames"] for fold in per_fold]
        entry["fit_s"] = [fold["fit_s"] for fold in per_fold]
        entry["n_folds"] = len(per_fold)
        summary[name] = entry
    return summary


def _means(scores: dict) -> dict:
    def mean(measure, keep):
        values = [s[measure] for d, s in scores.items() if keep(d) and s[measure] is not None]
        return float(np.mean(values)) if values else None

    out = {}
    for measure in ("corr", "bias"):
        out[f"mean_{measure}"] = mean(measure, lambda d: True)
        out[f"excitatory_{measure}"] = mean(measure, lambda d: not is_inhibitory(d))
        out[f"inhibitory_{measure}"] = mean(measure, is_inhibitory)
    return out


def read_cv_scores(path, model_name: str) -> dict:
    """One model's cross-validated means from a ``benchmark cv --json`` file (for its
    model card)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
        summary = doc["summary"][model_name]
        scores = {"n_folds": summary["n_folds"], "folds": doc["folds"],
                  "degraded_condition": doc["condition"]}
        for condition in ("native", "degraded"):
            scores[condition] = summary[condition]["mean_corr"]
            for group in ("excitatory", "inhibitory"):
                scores[f"{condition}_{group}"] = summary[condition][f"{group}_corr"]
            scores[f"{condition}_bias"] = summary[condition]["mean_bias"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as err:
        raise InputError(f"{path}: no cross-validation summary of {model_name} "
                         f"({type(err).__name__}: {err})") from None
    return scores


def format_cv(summary: dict, fps: float, noise_level: float) -> str:
    """Dataset x (model, condition) table of correlations, then means, bias and lags."""
    names = list(summary)
    conditions = (("native", "native"), ("degraded", f"{fps:g}Hz/nu{noise_level:g}"))
    datasets = sorted({d for s in summary.values() for d in s["native"]["datasets"]},
                      key=lambda d: (is_inhibitory(d), d))
    lines = []
    for condition, title in conditions:
        header = f"{'corr, ' + title:<38}" + "".join(f"{n:>10}" for n in names)
        lines += [header, "-" * len(header)]
        for d in datasets:
            row = [summary[n][condition]["datasets"].get(d, {}).get("corr") for n in names]
            mark = " (inh)" if is_inhibitory(d) else ""
            lines.append(f"{(d[:32] + mark):<38}" + "".join(f"{_fmt(v):>10}" for v in row))
        for label, key in (("mean, all datasets", "mean"), ("mean, excitatory", "excitatory"),
                           ("mean, inhibitory", "inhibitory")):
            lines.append(f"{label:<38}" + "".join(
                f"{_fmt(summary[n][condition][key + '_corr']):>10}" for n in names))
        lines.append(f"{'bias, mean over datasets':<38}" + "".join(
            f"{_fmt(summary[n][condition]['mean_bias']):>10}" for n in names))
        lines.append("")
    lines.append(f"{'folds scored':<38}" + "".join(
        f"{summary[n]['n_folds']:>10}" for n in names))
    lines.append(f"{'training time per fold (s), median':<38}" + "".join(
        f"{np.median(summary[n]['fit_s']):>10.0f}" for n in names))
    lines.append("best lag of the output, frames, fold by fold (positive: late)")
    for n in names:
        lags = "; ".join(f"{rate:g} Hz: " + " ".join(f"{f[f'{rate:g}']:+d}" for f in
                                                    summary[n]["lag_frames"])
                         for rate in LAG_RATES)
        lines.append(f"  {n:<36}{lags}")
    return "\n".join(lines)


def format_datasets(result: dict, model_name: str) -> str:
    """Per-dataset table of :func:`score_datasets`."""
    scores = result["datasets"]
    with_lag = all("lag" in s for s in scores.values())
    lines = [f"{'dataset':<40}{'n':>5}{'corr':>8}{'bias':>8}" + ("  lag" if with_lag else ""),
             "-" * (61 + 5 * with_lag)]
    for d, s in scores.items():
        lines.append(f"{d[:40]:<40}{s['n']:>5}{_fmt(s['corr']):>8}{_fmt(s['bias']):>8}"
                     + (f"{s['lag']:>+5d}" if with_lag else ""))
    means = _means(scores)
    lines.append(f"{'mean over datasets (' + model_name + ')':<45}{_fmt(means['mean_corr']):>8}"
                 f"{_fmt(means['mean_bias']):>8}")
    return "\n".join(lines)
