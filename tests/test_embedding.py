"""Embedding spaces: statistical properties against references, cross-prediction,
embeddings, saving, placing a new recording."""

from dataclasses import replace

import numpy as np
import pytest

from spikeinfer.embedding import (
    PROPERTY_FPS,
    PROPERTY_NAMES,
    PSD_FREQUENCIES_HZ,
    CrossPrediction,
    Embedding,
    compute_autocorrelation,
    compute_cross_prediction,
    compute_dataset_distances,
    compute_hurst_exponents,
    compute_properties,
    compute_relative_psd,
    load_embedding,
    nearest_datasets,
    normalise_cross_prediction,
)
from spikeinfer.exceptions import InputError, NotFittedError
from spikeinfer.signals import noise_std_for_level
from spikeinfer.simulate import simulate_recording

IDX = {name: i for i, name in enumerate(PROPERTY_NAMES)}


def _ar1(phi, n, rng):
    e = rng.normal(size=n)
    x = np.empty(n)
    x[0] = e[0] / np.sqrt(1 - phi ** 2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


# -- statistical properties against references ------------------------------------

def test_hurst_white_noise_is_zero(seed):
    x = np.random.default_rng(seed).normal(size=50_000)
    np.testing.assert_allclose(compute_hurst_exponents(x), 0.0, atol=0.02)


def test_hurst_random_walk_is_one_half(seed):
    rng = np.random.default_rng(seed)
    h = np.mean([compute_hurst_exponents(np.cumsum(rng.normal(size=20_000)))
                 for _ in range(10)], axis=0)
    np.testing.assert_allclose(h, 0.5, atol=0.04)


def test_hurst_of_a_trend_is_one():
    np.testing.assert_allclose(compute_hurst_exponents(np.arange(1000.0)), 1.0, atol=1e-9)


@pytest.mark.parametrize("phi", [0.5, 0.8, 0.95])
def test_autocorrelation_of_ar1_is_phi_to_the_lag(phi, seed):
    x = _ar1(phi, 200_000, np.random.default_rng(seed))
    lags = np.array([0.5, 1.0, 2.0])
    expected = phi ** (lags * PROPERTY_FPS)
    np.testing.assert_allclose(compute_autocorrelation(x, PROPERTY_FPS, tuple(lags)), expected,
                               atol=0.02)


def test_relative_psd_of_white_noise_is_flat(seed):
    x = np.random.default_rng(seed).normal(size=100_000)
    # The variance spreads evenly over 0-4 Hz: 1/4 of it per hertz.
    np.testing.assert_allclose(compute_relative_psd(x, PROPERTY_FPS), np.log10(0.25), atol=0.05)


@pytest.mark.parametrize("freq", [0.4, 1.2, 2.4])
def test_relative_psd_peaks_at_a_sine(freq, seed):
    t = np.arange(20_000) / PROPERTY_FPS
    x = np.sin(2 * np.pi * freq * t) + 0.1 * np.random.default_rng(seed).normal(size=t.size)
    psd = compute_relative_psd(x, PROPERTY_FPS)
    assert PSD_FREQUENCIES_HZ[int(np.argmax(psd))] == freq
    assert psd.max() > psd.min() + 2  # a hundredfold above the noise floor


@pytest.mark.parametrize("draw, kurtosis, skewness", [
    (lambda rng, n: rng.normal(0, 0.3, n), 3.0, 0.0),
    (lambda rng, n: rng.laplace(0, 0.3, n), 6.0, 0.0),
    (lambda rng, n: rng.exponential(0.3, n), 9.0, 2.0),
])
def test_moments_of_known_distributions(draw, kurtosis, skewness, seed):
    x = draw(np.random.default_rng(seed), 400_000)
    props = compute_properties(x[None], PROPERTY_FPS)[0]  # at 8 Hz: no resampling
    np.testing.assert_allclose(props[IDX["log10_kurtosis"]], np.log10(kurtosis), atol=0.03)
    np.testing.assert_allclose(props[IDX["skewness"]], skewness, atol=0.1)
    np.testing.assert_allclose(props[IDX["log10_variance"]], np.log10(np.var(x)), atol=1e-9)


@pytest.mark.parametrize("fps", [10.0, 30.0, 158.3])
def test_noise_level_of_gaussian_noise_at_the_original_rate(fps, seed):
    x = np.random.default_rng(seed).normal(0, noise_std_for_level(3.0, fps), int(fps * 300))
    assert compute_properties(x[None], fps)[0, IDX["noise_level"]] == pytest.approx(3.0, rel=0.03)


def test_properties_do_not_depend_on_frame_rate(seed):
    # The same neurons (same spikes, same noise level) recorded at 30 and at 60 Hz.
    props = {}
    for fps in (30.0, 60.0):
        rec = simulate_recording(n_neurons=20, duration_s=300, fps=fps, indicator="GCaMP6s",
                                 noise_level=2.0, random_state=seed)
        props[fps] = np.nanmean(compute_properties(rec.traces, rec.fps), axis=0)
    tol = np.full(len(PROPERTY_NAMES), 0.05)
    tol[[i for n, i in IDX.items() if n.startswith(("log10", "skew"))]] = 0.15
    tol[IDX["noise_level"]] = 0.2
    np.testing.assert_array_less(np.abs(props[30.0] - props[60.0]), tol)


def test_properties_ignore_nan_padding_and_refuse_short_rows(seed):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(size=600)) * 0.01
    padded = np.full((3, 900), np.nan)
    padded[0, :600] = x
    padded[1, :] = np.concatenate([x, x[:300]])
    padded[2, :50] = x[:50]  # 5 s: too short
    props = compute_properties(padded, 10.0)
    np.testing.assert_allclose(props[0], compute_properties(x[None], 10.0)[0])
    assert np.isfinite(props[1]).all() and np.isnan(props[2]).all()


def test_slow_recordings_have_no_power_above_their_nyquist(seed):
    x = np.random.default_rng(seed).normal(size=1000)
    psd = compute_properties(x[None], 3.0)[0, [IDX[f"log10_psd_{f:g}hz"] for f in
                                               PSD_FREQUENCIES_HZ]]
    np.testing.assert_array_equal(np.isnan(psd), np.array(PSD_FREQUENCIES_HZ) > 1.35)


# -- cross-prediction ---------------------------------------------------------------

def _datasets(seed, indicators=("GCaMP6s", "OGB-1", "GCaMP8f"), n_neurons=2, duration_s=60.0,
              offset=0):
    return [replace(simulate_recording(n_neurons=n_neurons, duration_s=duration_s, fps=30.0,
                                       indicator=name, rate_hz=1.0, noise_level=1.0,
                                       random_state=seed + offset + k), dataset=name)
            for k, name in enumerate(indicators)]


@pytest.fixture(scope="module")
def cross_prediction():
    return compute_cross_prediction(_datasets(7), neurons_per_dataset=2, steps=30,
                                    random_state=0)


def test_cross_prediction_matrix_shape_and_symmetry(cross_prediction):
    cp = cross_prediction
    assert cp.matrix.shape == (6, 6)
    assert sorted(set(cp.datasets)) == ["GCaMP6s", "GCaMP8f", "OGB-1"]
    assert np.all(np.abs(cp.matrix) <= 1) and np.isfinite(cp.matrix).all()
    s = normalise_cross_prediction(cp.matrix)
    np.testing.assert_array_equal(np.isnan(s), np.eye(6, dtype=bool))
    np.testing.assert_allclose(s, s.T)
    off = s[~np.eye(6, dtype=bool)]
    assert off.max() <= 1 + 1e-12
    names, dist = compute_dataset_distances(cp.matrix, cp.datasets)
    assert names == ["GCaMP6s", "GCaMP8f", "OGB-1"] and dist.shape == (3, 3)
    np.testing.assert_allclose(dist, dist.T)
    assert np.all(dist >= 0)


def test_normalisation_divides_each_row_by_its_best_other_model():
    c = np.array([[0.9, 0.4, 0.2], [0.3, 0.8, 0.6], [0.1, 0.2, 0.7]])
    s = normalise_cross_prediction(c)
    rows = np.array([[np.nan, 1.0, 0.5], [0.5, np.nan, 1.0], [0.5, 1.0, np.nan]])
    np.testing.assert_allclose(s, (rows + rows.T) / 2)


def test_cross_prediction_round_trip_cache_and_subset(cross_prediction, tmp_path):
    from joblib import Memory

    path = cross_prediction.save(tmp_path / "cp.npz")
    loaded = CrossPrediction.load(path)
    np.testing.assert_array_equal(loaded.matrix, cross_prediction.matrix)
    assert loaded.neuron_ids == cross_prediction.neuron_ids
    # joblib's cache: the same data and parameters are computed once.
    cached = Memory(str(tmp_path / "cache"), verbose=0).cache(compute_cross_prediction)
    first = cached(_datasets(7), neurons_per_dataset=2, steps=30, random_state=0)
    again = cached(_datasets(7), neurons_per_dataset=2, steps=30, random_state=0)
    assert again.seconds == first.seconds
    np.testing.assert_array_equal(first.matrix, cross_prediction.matrix)
    sub = cross_prediction.subset(["OGB-1", "GCaMP8f"])
    assert sub.matrix.shape == (4, 4) and set(sub.datasets) == {"OGB-1", "GCaMP8f"}


def test_cross_prediction_is_deterministic(cross_prediction):
    again = compute_cross_prediction(_datasets(7), neurons_per_dataset=2, steps=30,
                                     random_state=0)
    np.testing.assert_array_equal(again.matrix, cross_prediction.matrix)


# -- embeddings ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def training_data():
    return _datasets(100, n_neurons=4, duration_s=120.0)


def test_statistical_embedding_places_a_new_recording_of_a_known_kind(training_data):
    emb = Embedding(predictive=False).fit(training_data)
    assert emb.statistical_embedding_.shape == (3, 2) and not emb.has_predictive
    for ts in _datasets(500, n_neurons=4, duration_s=120.0):
        assert emb.nearest_datasets(ts.traces, ts.fps, k=1) == [ts.dataset]


def test_predictive_embedding_and_regressor(training_data, cross_prediction):
    emb = Embedding(regressor="knn").fit(training_data, cross_prediction=cross_prediction)
    assert emb.predictive_datasets_ == ["GCaMP6s", "GCaMP8f", "OGB-1"]
    assert emb.predictive_embedding_.shape == (3, 2)
    assert set(emb.regressor_scores_) == {"tree", "knn", "forest", "ridge", "mean"}
    assert emb.regressor_ == "knn"
    assert set(emb.selection_scores_) == {"predictive", "properties", "statistical", "random"}
    assert emb.selection_ in ("predictive", "properties", "statistical")
    ts = training_data[1]
    for method in ("predictive", "properties", "statistical"):
        nearest = emb.nearest_datasets(ts.traces, ts.fps, k=3, method=method)
        assert sorted(nearest) == emb.predictive_datasets_
    assert emb.place(ts.traces, ts.fps, "predictive").shape == (2,)
    assert emb.place(ts.traces, ts.fps, "properties").shape == (len(PROPERTY_NAMES),)


def test_selection_scores_on_a_known_distance_matrix():
    # Datasets 0-1 and 2-3 predict each other; properties say the same.
    from spikeinfer.embedding import evaluate_selection

    props = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0], [5.0, 5.2]])
    dist = np.array([[0, .1, .9, .9, .9], [.1, 0, .9, .9, .9], [.9, .9, 0, .1, .2],
                     [.9, .9, .1, 0, .2], [.9, .9, .2, .2, 0]])
    coords = props.copy()
    scores = evaluate_selection(props, coords, dist, "knn", k=1)
    for method in ("predictive", "properties", "statistical"):
        assert scores[method]["regret"] <= scores["random"]["regret"]
    assert scores["properties"] == {"hit": 1.0, "regret": 0.0}


def test_subset_refits_without_the_other_datasets(training_data, cross_prediction):
    four = training_data + _datasets(300, indicators=("GCaMP7f",), n_neurons=4,
                                     duration_s=120.0)
    cp4 = compute_cross_prediction(four, neurons_per_dataset=2, steps=5, random_state=0)
    emb = Embedding(regressor="knn").fit(four, cross_prediction=cp4)
    sub = emb.subset(["GCaMP6s", "OGB-1", "GCaMP8f"])
    direct = Embedding(regressor="knn").fit(training_data, cross_prediction=cp4.subset(
        ["GCaMP6s", "OGB-1", "GCaMP8f"]))
    np.testing.assert_allclose(sub.distances_, direct.distances_)
    np.testing.assert_allclose(sub.statistical_embedding_, direct.statistical_embedding_)
    np.testing.assert_allclose(sub.predictive_embedding_, direct.predictive_embedding_)
    assert "GCaMP7f" not in sub.nearest_datasets(four[3].traces, four[3].fps, k=3)
    with pytest.raises(InputError, match="not in this embedding"):
        emb.subset(["DS99"])


@pytest.mark.parametrize("predictive", [False, True])
def test_save_load_round_trip(training_data, cross_prediction, tmp_path, predictive):
    emb = Embedding(predictive=predictive).fit(training_data, cross_prediction=cross_prediction)
    emb.save(tmp_path / "emb")
    loaded = load_embedding(tmp_path / "emb")
    assert loaded.get_params() == emb.get_params()
    ts = _datasets(900, n_neurons=2)[2]
    np.testing.assert_allclose(loaded.place(ts.traces, ts.fps), emb.place(ts.traces, ts.fps))
    assert nearest_datasets(ts.traces, ts.fps, 2, embedding=tmp_path / "emb") == \
        emb.nearest_datasets(ts.traces, ts.fps, 2)
    assert not list((tmp_path / "emb").glob("*.pkl"))
    with pytest.raises(InputError, match="already exists"):
        emb.save(tmp_path / "emb")


def test_errors(training_data, tmp_path):
    ts = training_data[0]
    with pytest.raises(NotFittedError, match="not fitted"):
        Embedding().nearest_datasets(ts.traces, ts.fps)
    with pytest.raises(InputError, match="regressor"):
        Embedding(regressor="svm").fit(training_data)
    emb = Embedding(predictive=False).fit(training_data)
    with pytest.raises(InputError, match="8 s"):
        emb.nearest_datasets(ts.traces[:, :100], ts.fps)
    with pytest.raises(InputError, match="k must be"):
        emb.nearest_datasets(ts.traces, ts.fps, k=0)
    with pytest.raises(InputError, match="no model.json"):
        load_embedding(tmp_path)


def test_shipped_embedding_loads():
    emb = load_embedding("default")
    assert emb.has_predictive and len(emb.predictive_datasets_) >= 30
    rec = simulate_recording(n_neurons=5, duration_s=120, fps=30, indicator="GCaMP6s",
                             random_state=0)
    assert len(nearest_datasets(rec.traces, rec.fps, k=3)) == 3


def test_cli_place(training_data, tmp_path):
    from click.testing import CliRunner

    from spikeinfer.cli import main

    Embedding(predictive=False).fit(training_data).save(tmp_path / "emb")
    ts = training_data[1]
    np.save(tmp_path / "rec.npy", ts.traces)
    runner = CliRunner()
    result = runner.invoke(main, ["embedding", "place", str(tmp_path / "rec.npy"), "--fps", "30",
                                  "--embedding", str(tmp_path / "emb"), "-k", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].split()[0] == "OGB-1"
    result = runner.invoke(main, ["embedding", "place", str(tmp_path / "rec.npy"),
                                  "--embedding", str(tmp_path / "emb")])
    assert result.exit_code == 2 and "frame rate" in result.output


# -- the attended network's learned dataset embeddings ----------------------------------

@pytest.mark.parametrize("centred", [False, True])
def test_cosine_similarity_of_the_shipped_attended_embeddings(centred):
    from spikeinfer.embedding import embedding_cosine_similarity, indicator_cosine_summary
    from spikeinfer.models import load_model

    model = load_model("attended")
    names, matrix = embedding_cosine_similarity(model, centred=centred)
    assert names == model.dataset_names_
    assert matrix.shape == (len(names), len(names))
    np.testing.assert_allclose(matrix, matrix.T, atol=1e-12)
    np.testing.assert_allclose(np.diag(matrix), 1.0)
    assert np.all((matrix >= -1.0) & (matrix <= 1.0))
    summary = indicator_cosine_summary(names, matrix)
    assert -1.0 <= summary["within"] <= 1.0 and -1.0 <= summary["between"] <= 1.0
    assert summary["n_within"] > 0 and summary["n_between"] > 0


def test_cosine_similarity_needs_a_dataset_embedding():
    from spikeinfer.embedding import embedding_cosine_similarity

    with pytest.raises(TypeError):
        embedding_cosine_similarity(object())
