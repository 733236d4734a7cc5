import csv
from collections import defaultdict

import numpy as np
import pytest

from spikeinfer.evaluation import mean_scores, score_neuron, score_neurons
from spikeinfer.signals import bin_frames
from spikeinfer.io import load_counts


def test_published_spikefinder_scores_are_reproduced(data_dir):
    """Every per-cell corr, rank and auc the organisers published, within 1e-4."""
    peers = data_dir / "spikefinder" / "peers"
    published = defaultdict(dict)
    with open(peers / "published_scores_train_25Hz.csv") as fh:
        for row in csv.DictReader(fh):
            if row["measure"] in ("corr", "rank", "auc"):
                published[(row["algo"], row["dset"])][(int(row["cell"]), row["measure"])] = \
                    float(row["value"])
    checked, worst = 0, 0.0
    for (algo, dset), values in published.items():
        truth, _ = load_counts(data_dir / "spikefinder" / "train" / f"{dset}.train.spikes.csv")
        pred, _ = load_counts(peers / algo / f"{dset}.train.spikes.csv")
        scores = score_neurons(pred, truth, fps=100.0)
        for (cell, measure), value in values.items():
            worst = max(worst, abs(scores[measure][cell] - value))
            checked += 1
    assert checked == 225
    assert worst < 1e-4, worst


def test_binning_matches_challenge_definition():
    x = np.arange(23, dtype=float)
    expected = np.convolve(x, np.ones(4), "valid")[::4]
    np.testing.assert_allclose(bin_frames(x, 100.0), expected)


@pytest.mark.parametrize("fps, frames", [(100.0, 4), (30.0, 1), (60.0, 2), (158.28, 6),
                                         (500.0, 20), (7.8, 1)])
def test_bins_are_whole_frames_closest_to_40_ms(fps, frames):
    x = np.arange(11 * frames - 1, dtype=float)  # the last, incomplete bin is dropped
    binned = bin_frames(x, fps)
    assert len(binned) == 10
    np.testing.assert_allclose(binned, x[: 10 * frames].reshape(10, frames).sum(1))


@pytest.mark.parametrize("fps", [30.0, 60.0, 121.95, 158.28])
def test_independent_signals_score_zero_at_any_rate(fps):
    """Bins of unequal frame counts would correlate any two positive signals."""
    rng = np.random.default_rng(0)
    corr = [score_neuron(rng.random(3000), rng.poisson(0.1, 3000), fps)["corr"]
            for _ in range(60)]
    assert abs(np.mean(corr)) < 0.02


def test_low_frame_rates_are_scored_per_frame():
    x = np.arange(10.0)
    np.testing.assert_array_equal(bin_frames(x, 10.0), x)


def test_perfect_prediction_scores():
    rng = np.random.default_rng(0)
    truth = rng.poisson(0.1, 2000).astype(float)
    s = score_neuron(truth, truth, 100.0, smoothing_s=0.0)
    assert s["corr"] == pytest.approx(1.0)
    assert s["auc"] == pytest.approx(1.0)
    assert s["bias"] == pytest.approx(0.0)
    assert s["error"] == pytest.approx(0.0)


def test_bias_counts_excess_spikes():
    truth = np.zeros(400)
    truth[::40] = 1
    s = score_neuron(2 * truth, truth, 100.0)
    assert s["bias"] == pytest.approx(1.0)
    assert s["error"] > 0


def test_nan_frames_are_dropped_like_the_challenge():
    rng = np.random.default_rng(1)
    truth = rng.poisson(0.2, 800).astype(float)
    pred = truth + rng.normal(0, 0.3, 800)
    padded_t = np.concatenate([truth, np.full(37, np.nan)])
    padded_p = np.concatenate([pred, np.full(37, np.nan)])
    a = score_neuron(pred, truth, 100.0)
    b = score_neuron(padded_p, padded_t, 100.0)
    assert a == b


def test_mismatched_shapes_raise():
    from spikeinfer import InputError

    with pytest.raises(InputError, match="do not match"):
        score_neurons(np.zeros((2, 200)), np.zeros((2, 300)), 100.0)


def test_undefined_scores_are_nan_and_ignored_in_means():
    truth = np.zeros(100)
    s = score_neurons(np.vstack([np.ones(100), np.arange(100.0)]),
                      np.vstack([truth, np.arange(100.0) % 7 == 0]), 100.0)
    assert np.isnan(s["corr"][0]) and np.isfinite(s["corr"][1])
    assert mean_scores(s)["corr"] == pytest.approx(s["corr"][1])
