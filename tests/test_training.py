"""Training on real ground truth: noise augmentation, learning, the estimator around it."""

import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch

from spikeinfer import DataWarning, InputError
from spikeinfer.io import load_cascade_dataset
from spikeinfer.models import NeuralModel, load_model
from spikeinfer.nn import DefaultNet
from spikeinfer.preprocess import add_noise_to_level, compute_noise_level
from spikeinfer.training import make_training_set, train_network
from spikeinfer.training.loop import _to_tensors, validation_score


@pytest.fixture(scope="module")
def ds09(data_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        (ts,) = load_cascade_dataset(data_dir / "cascade_gt" / "DS09-GCaMP6f-m-V1")
    return ts


def test_noise_is_added_up_to_the_requested_level():
    rng = np.random.default_rng(0)
    clean = np.sin(np.arange(20_000) / 50.0) * 0.2 + rng.normal(0, 0.005, 20_000)
    noisy = add_noise_to_level(clean, 30.0, 4.0, rng)
    assert compute_noise_level(noisy, 30.0)[0] == pytest.approx(4.0, rel=0.1)
    # Already noisier than asked: unchanged.
    np.testing.assert_array_equal(add_noise_to_level(noisy, 30.0, 1.0, rng), noisy)


def test_training_set_conserves_spikes(ds09):
    ts = ds09.subset([0, 1])
    training = make_training_set([ts], 30.0, smoothing_s=0.05, min_frames=10)
    assert training.fps == 30.0
    total = sum(t.sum() for t in training.targets)
    assert total == pytest.approx(sum(len(s) for s in ts.spike_times), rel=0.02)


def test_short_training_on_real_data_raises_validation_correlation(ds09):
    torch.set_num_threads(1)
    train = make_training_set([ds09.subset(range(0, 8))], 30.0, 0.1, 300)
    val = make_training_set([ds09.subset(range(8, 11))], 30.0, 0.1, 300)
    torch.manual_seed(0)
    net = DefaultNet()
    batch = _to_tensors(*val.sample_windows(64, 300, np.random.default_rng(1), None))
    before = validation_score(net, batch, 1)
    result = train_network(net, train, val, window=300, batch_size=16, steps=120,
                           learning_rate=2e-3, loss="mse", noise_levels=None, eval_every=40,
                           progress=False)
    after = validation_score(net, batch, 1)
    assert after > before + 0.2
    assert result.best_validation_corr == pytest.approx(max(h["validation_corr"]
                                                            for h in result.history))


def test_neural_model_is_reproducible_and_round_trips(ds09, tmp_path):
    torch.set_num_threads(1)
    kwargs = dict(network="default", steps=40, eval_every=20, window_s=10.0, batch_size=8,
                  noise_levels=(2.0, 4.0), random_state=5)
    a = NeuralModel(**kwargs).fit([ds09.subset(range(6))])
    b = NeuralModel(**kwargs).fit([ds09.subset(range(6))])
    x = ds09.traces[6:8, :3000]
    np.testing.assert_array_equal(a.predict(x, ds09.fps), b.predict(x, ds09.fps))
    a.save(tmp_path / "m")
    assert (tmp_path / "m" / "weights.safetensors").exists()
    np.testing.assert_array_equal(load_model(tmp_path / "m").predict(x, ds09.fps),
                                  a.predict(x, ds09.fps))


def test_conditioning_on_an_unknown_dataset_name_raises(ds09):
    model = NeuralModel(network="attended", steps=2, eval_every=1, window_s=5.0,
                        batch_size=2, noise_levels=None).fit([ds09.subset([0, 1, 2])])
    model.dataset = "DS99-unseen"
    with pytest.raises(InputError, match="not in training"):
        model.predict(ds09.traces[:1, :2000], ds09.fps)
    model.dataset = None  # the fallback: mean embedding
    assert np.isfinite(model.predict(ds09.traces[:1, :2000], ds09.fps)).all()


def test_balanced_sampling_draws_each_dataset_equally(ds09):
    long_one = ds09.subset(range(0, 10))
    short_one = replace(ds09.subset([10]), dataset="other")
    training = make_training_set([long_one, short_one], 30.0, 0.05, 300)
    rng = np.random.default_rng(0)
    _, _, by_length = training.sample_windows(2000, 300, rng)
    _, _, balanced = training.sample_windows(2000, 300, rng, balance_datasets=True)
    other = training.dataset_names.index("other")
    assert (by_length == other).mean() < 0.2
    assert (balanced == other).mean() == pytest.approx(0.5, abs=0.05)


def test_correlation_trained_output_is_scaled_to_spikes(ds09):
    torch.set_num_threads(1)
    train = ds09.subset(range(0, 8))
    model = NeuralModel(network="default", loss="corr", steps=150, eval_every=50,
                        window_s=10.0, batch_size=16, noise_levels=None,
                        learning_rate=3e-3).fit([train])
    assert model.output_scale_ > 0
    predicted = np.nansum(model.predict(train.traces, train.fps))
    true = sum(len(s) for s in train.spike_times)
    assert predicted == pytest.approx(true, rel=0.5)
