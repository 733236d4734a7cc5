"""Ground-truth benchmarks: folds grouped by dataset, degradation, lag, cross-validation."""

from dataclasses import replace

import numpy as np
import pytest

from spikeinfer import InputError
from spikeinfer.evaluation.groundtruth import (
    cross_validate,
    dataset_group,
    degrade,
    lag_correlations,
    make_folds,
    score_datasets,
    summarise_cv,
)
from spikeinfer.models import OasisModel
from spikeinfer.signals import compute_noise_level
from spikeinfer.simulate import simulate_recording

NAMES = ["DS01-a", "DS02-b", "DS16-c", "spikefinder-5", "DS22-inh", "DS24-inh", "DS30-d",
         "spikefinder-4"]


def test_folds_hold_whole_groups_once_and_spread_inhibitory_datasets():
    folds = make_folds(NAMES, 3, random_state=1)
    assert sorted(d for fold in folds for d in fold) == sorted(NAMES)
    for fold in folds:
        # Spikefinder set 5 is DS16's neurons: never on opposite sides of a split.
        assert ("DS16-c" in fold) == ("spikefinder-5" in fold)
    inhibitory_folds = [i for i, fold in enumerate(folds) if {"DS22-inh", "DS24-inh"} & set(fold)]
    assert len(inhibitory_folds) == 2
    assert make_folds(NAMES, 3, random_state=1) == folds
    assert make_folds(NAMES, 3, random_state=2) != folds


def test_dataset_groups():
    assert dataset_group("DS16-GCaMP6s-m-V1") == "DS16"
    assert dataset_group("spikefinder-6") == "DS17"
    assert dataset_group("spikefinder-4") == "spikefinder-4"


def test_too_many_folds_raise():
    with pytest.raises(InputError, match="folds"):
        make_folds(NAMES[:3], 5)


@pytest.mark.parametrize("shift", [-3, 0, 2])
def test_lag_of_a_shifted_copy_is_found(shift):
    rng = np.random.default_rng(0)
    truth = (rng.random((3, 2000)) < 0.05).astype(float)
    prediction = np.roll(truth, shift, axis=1)  # prediction[t + shift] = truth[t]
    curve = lag_correlations(prediction, truth, max_lag=5)
    assert np.argmax(curve) - 5 == shift
    assert curve.max() == pytest.approx(1.0, abs=0.01)


def test_degrade_resamples_and_raises_noise_to_the_level():
    ts = simulate_recording(n_neurons=3, duration_s=120.0, fps=100.0, noise_level=1.0,
                            random_state=0)
    out = degrade(ts, fps=30.0, noise_level=4.0, random_state=0)
    assert out.fps == 30.0 and out.n_frames == 3600
    np.testing.assert_allclose(compute_noise_level(out.traces, 30.0), 4.0, rtol=0.1)
    # The ground truth is untouched: the same spikes, counted at the new rate.
    assert np.nansum(out.spike_counts()) == np.nansum(ts.spike_counts())
    np.testing.assert_array_equal(degrade(ts, fps=30.0, noise_level=4.0).traces, out.traces)


@pytest.fixture(scope="module")
def datasets():
    return [replace(simulate_recording(n_neurons=3, duration_s=90.0, fps=30.0, noise_level=1.0,
                                       random_state=i), dataset=f"DS{i:02d}-sim")
            for i in range(1, 4)]


def test_score_datasets_reports_each_dataset(datasets):
    model = OasisModel().fit(datasets)
    result = score_datasets(model, datasets, max_lag=3)
    assert list(result["datasets"]) == ["DS01-sim", "DS02-sim", "DS03-sim"]
    for scores in result["datasets"].values():
        assert scores["n"] == 3
        assert scores["corr"] > 0.4  # single-frame bins at 30 Hz: spike timing counts
        assert abs(scores["bias"]) < 0.5
        assert abs(scores["lag"]) <= 1
    assert abs(int(np.argmax(result["lag_corr"])) - 3) <= 1


class LateModel(OasisModel):
    """The true spikes, ``late`` frames late (a model with a known timing error)."""

    late = 2

    def predict_traceset(self, ts, progress=False):
        counts = np.nan_to_num(ts.spike_counts())
        return np.pad(counts, ((0, 0), (self.late, 0)))[:, :ts.n_frames]


def test_each_dataset_reports_the_lag_of_its_output(datasets):
    result = score_datasets(LateModel(), datasets, max_lag=4)
    assert [s["lag"] for s in result["datasets"].values()] == [2, 2, 2]
    assert int(np.argmax(result["lag_corr"])) - 4 == 2
    assert "lag" not in score_datasets(LateModel(), datasets)["datasets"]["DS01-sim"]


class CountingOasis(OasisModel):
    fits = 0

    def fit(self, data, **kwargs):
        CountingOasis.fits += 1
        return super().fit(data, **kwargs)


def test_cross_validation_scores_every_dataset_once_and_reuses_results(datasets, tmp_path):
    def run(**params):
        return cross_validate(lambda name: CountingOasis(**params), ["oasis"], datasets,
                              n_folds=3, results_dir=tmp_path)

    results = run()
    assert CountingOasis.fits == 3
    summary = summarise_cv(results)["oasis"]
    for condition in ("native", "degraded"):
        assert sorted(summary[condition]["datasets"]) == ["DS01-sim", "DS02-sim", "DS03-sim"]
        assert summary[condition]["inhibitory_corr"] is None
    assert summary["native"]["mean_corr"] > summary["degraded"]["mean_corr"]  # nu 1 -> 4
    assert len(summary["lag_frames"]) == 3
    again = run()
    assert CountingOasis.fits == 3  # every fold came from results_dir
    assert summarise_cv(again) == summarise_cv(results)
    run(smoothing_s=0.1)  # other hyper-parameters: nothing is reused
    assert CountingOasis.fits == 6


def test_a_hyper_parameter_added_later_at_its_default_keeps_stored_results():
    from spikeinfer.evaluation.groundtruth import _same_params

    defaults = {"a": 1, "new": None}
    assert _same_params({"a": 1}, {"a": 1, "new": None}, defaults)
    assert not _same_params({"a": 1}, {"a": 1, "new": "gan"}, defaults)
    assert not _same_params({"a": 2, "new": None}, {"a": 1, "new": None}, defaults)
    assert not _same_params(None, {"a": 1}, defaults)
