"""The estimator contract, checked on every registered architecture."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_get_params_invariance, check_set_params

from spikeinfer import InputError, NotFittedError
from spikeinfer.embedding import Embedding
from spikeinfer.generative import MODELS as GENERATIVE_MODELS
from spikeinfer.models import ARCHITECTURES, load_model
from spikeinfer.simulate import simulate_recording

# Every architecture (each network for the neural one), with settings small enough for tests.
QUICK = {"steps": 150, "eval_every": 50, "window_s": 10.0, "noise_levels": None,
         "model_fps": 30.0, "batch_size": 16, "learning_rate": 3e-3}
ESTIMATORS = {
    "oasis": lambda: ARCHITECTURES["oasis"](),
    **{f"neural-{net}": (lambda net=net: ARCHITECTURES["neural"].from_flat(network=net, **QUICK))
       for net in ("default", "elephant", "attended", "conv16")},
}
ARCH = sorted(ESTIMATORS)


@pytest.fixture(scope="module")
def recording():
    return simulate_recording(n_neurons=5, duration_s=120.0, fps=30.0, rate_hz=0.7,
                              random_state=7)


@pytest.fixture(scope="module", params=ARCH)
def fitted(request, recording):
    model = ESTIMATORS[request.param]()
    assert model.fit([recording]) is model
    return model


@pytest.mark.parametrize("arch", ARCH)
def test_predict_before_fit_raises(arch, recording):
    with pytest.raises(NotFittedError):
        ESTIMATORS[arch]().predict(recording.traces, recording.fps)


def test_output_has_input_shape_and_finite_values(fitted, recording):
    out = fitted.predict(recording.traces, recording.fps)
    assert out.shape == recording.traces.shape
    assert np.isfinite(out).all() and (out >= 0).all()


def test_one_dimensional_input_gives_one_dimensional_output(fitted, recording):
    out = fitted.predict(recording.traces[0], recording.fps)
    np.testing.assert_allclose(out, fitted.predict(recording.traces, recording.fps)[0])


def test_a_subset_of_neurons_predicts_the_same_rows(fitted, recording):
    full = fitted.predict(recording.traces, recording.fps)
    part = fitted.predict(recording.traces[[3, 1]], recording.fps)
    np.testing.assert_allclose(part, full[[3, 1]])


def test_prediction_is_deterministic(fitted, recording):
    a = fitted.predict(recording.traces, recording.fps)
    b = fitted.predict(recording.traces, recording.fps)
    np.testing.assert_array_equal(a, b)


def test_save_and_load_predict_identically(fitted, recording, tmp_path):
    fitted.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert type(loaded) is type(fitted)
    np.testing.assert_array_equal(loaded.predict(recording.traces, recording.fps),
                                  fitted.predict(recording.traces, recording.fps))


def test_predictions_follow_the_true_spikes(fitted, recording):
    from spikeinfer.evaluation import mean_scores, score_neurons

    scores = mean_scores(score_neurons(fitted.predict(recording.traces, recording.fps),
                                       recording.spike_counts(), recording.fps))
    assert scores["corr"] > 0.3  # chance is 0
    assert abs(scores["bias"]) < 0.5  # calibrated on data of the same kind


def test_nan_stretch_gives_nan_only_there(fitted, recording):
    x = recording.traces.copy()
    x[1, 1000:1100] = np.nan
    out = fitted.predict(x, recording.fps)
    assert np.isnan(out[1, 1000:1100]).all()
    assert np.isfinite(out[1, :1000]).all() and np.isfinite(out[1, 1100:]).all()
    assert np.isfinite(out[[0, 2, 3, 4]]).all()


@pytest.mark.parametrize("fps", [None, 0.0, float("nan"), -30.0])
def test_missing_or_absurd_fps_raises(fitted, recording, fps):
    with pytest.raises(InputError, match="frame rate"):
        fitted.predict(recording.traces, fps)


@pytest.mark.parametrize("make_bad, message", [
    (lambda x: np.where(np.arange(x.shape[1]) == 5, np.inf, x), "infinite"),
    (lambda x: np.full_like(x, np.nan), "all values are NaN"),
    (lambda x: np.ones_like(x), "constant"),
    (lambda x: x[:, :3], "valid frames"),
    (lambda x: x[None], "2-D"),
])
def test_bad_traces_raise(fitted, recording, make_bad, message):
    with pytest.raises(InputError, match=message):
        fitted.predict(make_bad(recording.traces), recording.fps)


def test_shipped_default_model_loads_and_predicts(recording):
    model = load_model("default")
    out = model.predict(recording.traces, recording.fps)
    assert out.shape == recording.traces.shape


@pytest.mark.parametrize("arch", ARCH)
def test_clone_gives_an_unfitted_copy_with_equal_parameters(arch, fitted, recording):
    original = ESTIMATORS[arch]()
    copy = clone(original)
    assert copy is not original
    assert copy.get_params() == original.get_params()
    with pytest.raises(NotFittedError):
        clone(fitted).predict(recording.traces, recording.fps)


@pytest.mark.parametrize("arch", ARCH)
def test_scikit_learn_parameter_checks(arch):
    estimator = ESTIMATORS[arch]()
    check_get_params_invariance(arch, estimator)
    check_set_params(arch, estimator)


@pytest.mark.parametrize("arch", ARCH)
def test_a_parameter_of_the_wrong_type_is_refused_before_fitting(arch, recording):
    bad = ESTIMATORS[arch]().set_params(random_state=-1) if arch != "oasis" else \
        ESTIMATORS[arch]().set_params(ar_order=3)
    with pytest.raises(InputError, match="parameter"):
        bad.fit([recording])


# The other estimators of the package: embeddings and generative window models.
OTHERS = {"embedding": Embedding, **GENERATIVE_MODELS}


@pytest.mark.parametrize("name", sorted(OTHERS))
def test_other_estimators_clone_and_pass_the_parameter_checks(name):
    estimator = OTHERS[name]()
    copy = clone(estimator)
    assert copy is not estimator and copy.get_params() == estimator.get_params()
    check_get_params_invariance(name, estimator)
    check_set_params(name, estimator)


@pytest.mark.parametrize("name", sorted(OTHERS))
def test_other_estimators_refuse_a_bad_parameter_before_fitting(name, recording):
    bad = OTHERS[name]().set_params(random_state=-1)
    with pytest.raises(InputError, match="random_state"):
        bad.fit([recording])
