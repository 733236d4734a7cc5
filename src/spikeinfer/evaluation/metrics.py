"""The Spikefinder scores, and absolute measures of predicted spike counts.

Protocol (Berens et al. 2018): drop frames where either signal is NaN, sum
into 40 ms bins, then per neuron Pearson correlation (``corr``), Spearman
correlation (``rank``) and ROC AUC of the prediction against spikes > 0
(``auc``). At 100 Hz a bin is 4 frames, exactly as the challenge computed it;
at other rates a bin is the whole number of frames closest to 40 ms.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import ndimage, stats
from sklearn.metrics import roc_auc_score

from ..exceptions import InputError
from ..signals import bin_frames

MEASURES = ("corr", "rank", "auc", "bias", "error")


def score_neuron(prediction: np.ndarray, truth: np.ndarray, fps: float,
                 smoothing_s: float = 0.2) -> dict[str, float]:
    """Scores of one neuron's prediction against its true spike counts per frame.

    Returns ``corr``, ``rank``, ``auc`` (Spikefinder), ``bias`` = (predicted -
    true spikes) / true spikes, and ``error`` = the sum of the absolute difference
    between prediction and smoothed truth over true spikes (CASCADE's normalised
    error; the truth is smoothed with a Gaussian of ``smoothing_s`` seconds).
    Undefined scores are NaN.
    """
    prediction = np.asarray(prediction, dtype=np.float64).ravel()
    truth = np.asarray(truth, dtype=np.float64).ravel()
    if prediction.shape != truth.shape:
        raise InputError(f"prediction has {prediction.size} frames, truth {truth.size}")
    keep = np.isfinite(prediction) & np.isfinite(truth)
    pred_b, true_b = bin_frames(prediction[keep], fps), bin_frames(truth[keep], fps)
    result = dict.fromkeys(MEASURES, np.nan)
    if pred_b.size >= 2 and np.ptp(pred_b) > 0 and np.ptp(true_b) > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result["corr"] = float(np.corrcoef(true_b, pred_b)[0, 1])
            result["rank"] = float(stats.spearmanr(true_b, pred_b)[0])
    if 0 < (true_b > 0).sum() < true_b.size:
        result["auc"] = float(roc_auc_score(true_b > 0, pred_b))
    n_true = truth[keep].sum()
    if n_true > 0:
        result["bias"] = float((prediction[keep].sum() - n_true) / n_true)
        sigma = smoothing_s * fps
        smooth = ndimage.gaussian_filter1d(truth[keep], sigma) if sigma > 0 else truth[keep]
        result["error"] = float(np.abs(prediction[keep] - smooth).sum() / n_true)
    return result


def score_neurons(predictions: np.ndarray, truth: np.ndarray, fps: float) -> dict[str, np.ndarray]:
    """Scores of each row; arrays of shape (n_neurons,) keyed by measure."""
    predictions, truth = np.atleast_2d(predictions), np.atleast_2d(truth)
    if predictions.shape != truth.shape:
        raise InputError(f"predictions of shape {predictions.shape} do not match the "
                         f"ground truth's {truth.shape} (neurons, frames)")
    rows = [score_neuron(p, t, fps) for p, t in zip(predictions, truth)]
    return {m: np.array([r[m] for r in rows]) for m in MEASURES}


def mean_scores(scores: dict[str, np.ndarray]) -> dict[str, float]:
    """Mean of each measure over neurons where it is defined."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return {m: float(np.nanmean(v)) if np.isfinite(v).any() else np.nan
                for m, v in scores.items()}
