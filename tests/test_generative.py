"""Generative models: shapes, short training runs that lower the loss, save/load, seeds."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from spikeinfer.exceptions import InputError, NotFittedError
from spikeinfer.generative import (
    ConditionalGAN,
    SpikeClassifier,
    WindowAutoencoder,
    generate_traces,
    load_generative,
    make_stretches,
    make_windows,
    split_neurons,
    train_gan,
)
from spikeinfer.simulate import simulate_recording

torch.set_num_threads(1)

SMALL = {"per_dataset": 300, "batch_size": 32, "random_state": 3}
GAN_SMALL = {"per_dataset": 300, "batch_size": 16, "window": 64, "warmup": 16, "random_state": 3}


@pytest.fixture(scope="module")
def stretches():
    """Two simulated 'datasets' with different indicators, 6 neurons x 2 min each."""
    recs = [replace(simulate_recording(n_neurons=6, duration_s=120, fps=30, rate_hz=1.0,
                                       indicator=indicator, noise_level=1.0, random_state=i),
                    dataset=f"sim-{indicator}")
            for i, indicator in enumerate(["GCaMP6s", "OGB-1"])]
    return make_stretches(recs)


@pytest.fixture(scope="module")
def windows(stretches):
    held = split_neurons(stretches.neuron, 0.2, 3)
    return make_windows(stretches, held, 64, 300, 3)


@pytest.fixture(scope="module")
def trained(stretches):
    """Each model after 1 step and after a short run, same seed."""
    runs = {}
    for cls, steps, kw in ((SpikeClassifier, 150, SMALL), (WindowAutoencoder, 150, SMALL),
                           (ConditionalGAN, 150, GAN_SMALL)):
        runs[cls.kind] = (cls(steps=1, **kw).fit(stretches), cls(steps=steps, **kw).fit(stretches))
    return runs


def test_split_holds_out_whole_neurons(stretches, windows):
    held = split_neurons(stretches.neuron, 0.2, 3)
    assert len(held) == 2  # one of 6 neurons per dataset (round(0.2 * 6) = 1)
    assert {n.split("/")[0] for n in held} == set(stretches.dataset_names)
    in_windows = {stretches.neuron[i] for i in windows.stretch[windows.held_out]}
    assert in_windows == held
    assert not held & {stretches.neuron[i] for i in windows.stretch[~windows.held_out]}
    # Half the windows have a spike at the centre frame.
    assert 0.4 < windows.has_spike.mean() < 0.6
    assert windows.x.shape == windows.counts.shape == (len(windows.dataset), 64)


def test_generator_output_shapes(trained):
    gan = trained["gan"][1]
    rng = np.random.default_rng(0)
    counts = rng.poisson(0.1, (3, 64)).astype(float)
    assert generate_traces(gan, counts, "sim-GCaMP6s", 0).shape == (3, 64)
    long = rng.poisson(0.1, (2, 1001)).astype(float)  # any length, odd included
    long[1, 500:600] = np.nan
    out = generate_traces(gan, long, "OGB-1", random_state=1)  # an indicator as label
    assert out.shape == (2, 1001)
    assert np.isnan(out[1, 500:600]).all() and np.isfinite(out[0]).all()
    assert generate_traces(gan, long[0], None, 1).shape == (1001,)
    per_row = generate_traces(gan, counts, ["sim-GCaMP6s", "sim-OGB-1", "GCaMP6s"], 2)
    assert per_row.shape == (3, 64)


def test_classifier_training_lowers_loss(trained, windows):
    before, after = trained["classifier"]
    held = windows.subset(windows.held_out)
    assert after.loss(held) < before.loss(held) - 0.1
    assert after.loss(held) < 0.55  # below the 0.693 of a balanced coin
    assert after.predict_proba(held.x).shape == (len(held.x),)


def test_autoencoder_training_lowers_loss(trained, windows):
    before, after = trained["autoencoder"]
    held = windows.subset(windows.held_out)
    assert after.loss(held) < 0.5 * before.loss(held)
    assert after.encode(held.x).shape == (len(held.x), 8)
    assert after.reconstruct(held.x).shape == held.x.shape


def test_gan_training_lowers_conditional_error(trained, windows):
    before, after = trained["gan"]
    held = windows.subset(windows.held_out)
    err_before, err_after = before.conditional_error(held), after.conditional_error(held)
    assert err_after < 0.7 * err_before
    # Better than a generator that outputs nothing: transients sit on the spikes.
    scales = np.array([after._condition(held.dataset_names[d])[1] for d in held.dataset])
    silent = np.abs(held.x[:, 16:] / scales[:, None]).mean()
    assert err_after < 0.8 * silent
    assert len(after.training_["history"]) == 2


@pytest.mark.parametrize("kind", ["classifier", "autoencoder", "gan"])
def test_save_load_identical(trained, windows, kind, tmp_path):
    model = trained[kind][1]
    model.save(tmp_path / kind)
    loaded = load_generative(tmp_path / kind)
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    assert loaded.held_out_neurons_ == model.held_out_neurons_
    x = windows.x[:20]
    if kind == "classifier":
        np.testing.assert_array_equal(loaded.predict_proba(x), model.predict_proba(x))
    elif kind == "autoencoder":
        np.testing.assert_array_equal(loaded.reconstruct(x), model.reconstruct(x))
    else:
        np.testing.assert_array_equal(loaded.generate(windows.counts[:20], "sim-OGB-1", 5),
                                      model.generate(windows.counts[:20], "sim-OGB-1", 5))
    with pytest.raises(InputError, match="pass --force"):
        model.save(tmp_path / kind)


def test_seeded_runs_are_reproducible(stretches):
    a = train_gan(stretches, steps=3, **GAN_SMALL)
    b = train_gan(stretches, steps=3, **GAN_SMALL)
    counts = np.random.default_rng(0).poisson(0.2, (2, 300)).astype(float)
    np.testing.assert_array_equal(a.generate(counts, "sim-GCaMP6s", 7),
                                  b.generate(counts, "sim-GCaMP6s", 7))
    assert not np.array_equal(a.generate(counts, "sim-GCaMP6s", 7),
                              a.generate(counts, "sim-GCaMP6s", 8))
    c1 = SpikeClassifier(steps=3, **SMALL).fit(stretches)
    c2 = SpikeClassifier(steps=3, **SMALL).fit(stretches)
    for p, q in zip(c1.net_.parameters(), c2.net_.parameters()):
        assert torch.equal(p, q)


def test_errors(trained, tmp_path):
    gan = trained["gan"][1]
    with pytest.raises(InputError, match="neither a training dataset"):
        gan.generate(np.zeros((1, 50)), "GCaMP8m")
    with pytest.raises(InputError, match="labels for"):
        gan.generate(np.zeros((2, 50)), ["sim-OGB-1"])
    with pytest.raises(NotFittedError):
        SpikeClassifier().predict_proba(np.zeros((1, 64)))
    with pytest.raises(InputError, match="no model.json"):
        load_generative(tmp_path)
    with pytest.raises(InputError, match="window must be a multiple of 8"):
        WindowAutoencoder(window=60)._validate()


def test_cli_errors(tmp_path):
    from spikeinfer.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["generative", "train", "gan", "-o", str(tmp_path / "m"),
                                  "--param", "bogus=1"])
    assert result.exit_code == 2 and "bogus" in result.stderr
    result = runner.invoke(main, ["generative", "evaluate", str(tmp_path)])
    assert result.exit_code == 2 and "no model.json" in result.stderr
