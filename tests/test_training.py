"""Training on real ground truth: noise augmentation, learning, the estimator around it."""

import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch

from spikeinfer import DataWarning, InputError, TraceSet
from spikeinfer.io import load_cascade_dataset
from spikeinfer.models import NeuralModel, load_model, with_settings
from spikeinfer.pipeline import Pipeline
from spikeinfer.preprocess import add_noise_to_level
from spikeinfer.signals import compute_noise_level
from spikeinfer.training import (
    AtEnd,
    AugmentationConfig,
    Checkpoint,
    EarlyStopping,
    History,
    TimeBudget,
    Trainer,
    TrainingConfig,
    TrainingSet,
    make_training_set,
    simulate_twins,
)

P30 = Pipeline(fps=30.0)


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
    training = make_training_set([ts], P30, smoothing_s=0.05, min_frames=10)
    assert training.fps == 30.0
    total = sum(t.sum() for t in training.targets)
    assert total == pytest.approx(sum(len(s) for s in ts.spike_times), rel=0.02)


def test_short_training_on_real_data_raises_validation_correlation(ds09):
    torch.set_num_threads(1)
    model = NeuralModel.from_flat(steps=120, eval_every=40, window_s=10.0, batch_size=16,
                                  learning_rate=2e-3, noise_levels=None, patience=5)
    model.fit([ds09.subset(range(11))])
    history = model.training_["history"]
    assert [h["step"] for h in history] == [40, 80, 120]
    assert max(h["validation_corr"] for h in history) > 0.3
    assert model.training_["validation_corr"] == pytest.approx(
        max(h["validation_corr"] for h in history))


def test_neural_model_is_reproducible_and_round_trips(ds09, tmp_path):
    torch.set_num_threads(1)
    kwargs = dict(network="default", steps=40, eval_every=20, window_s=10.0, batch_size=8,
                  noise_levels=(2.0, 4.0), random_state=5)
    a = NeuralModel.from_flat(**kwargs).fit([ds09.subset(range(6))])
    b = NeuralModel.from_flat(**kwargs).fit([ds09.subset(range(6))])
    x = ds09.traces[6:8, :3000]
    np.testing.assert_array_equal(a.predict(x, ds09.fps), b.predict(x, ds09.fps))
    a.save(tmp_path / "m")
    assert (tmp_path / "m" / "weights.safetensors").exists()
    np.testing.assert_array_equal(load_model(tmp_path / "m").predict(x, ds09.fps),
                                  a.predict(x, ds09.fps))


def test_conditioning_on_an_unknown_dataset_name_raises(ds09):
    model = NeuralModel.from_flat(network="attended", steps=2, eval_every=1, window_s=5.0,
                                  batch_size=2, noise_levels=None).fit([ds09.subset([0, 1, 2])])
    model.dataset = "DS99-unseen"
    with pytest.raises(InputError, match="not in training"):
        model.predict(ds09.traces[:1, :2000], ds09.fps)
    model.dataset = None  # the fallback: mean embedding
    assert np.isfinite(model.predict(ds09.traces[:1, :2000], ds09.fps)).all()


def test_balanced_sampling_draws_each_dataset_equally(ds09):
    long_one = ds09.subset(range(10))
    short_one = replace(ds09.subset([10]), dataset="other")
    training = make_training_set([long_one, short_one], P30, 0.05, 300)
    rng = np.random.default_rng(0)
    _, _, by_length = training.sample_windows(2000, 300, rng)
    _, _, balanced = training.sample_windows(2000, 300, rng, AugmentationConfig(None))
    other = training.dataset_names.index("other")
    assert (by_length == other).mean() < 0.2
    assert (balanced == other).mean() == pytest.approx(0.5, abs=0.05)


def test_correlation_trained_output_is_scaled_to_spikes(ds09):
    torch.set_num_threads(1)
    train = ds09.subset(range(8))
    model = NeuralModel.from_flat(network="default", loss="corr", steps=150, eval_every=50,
                                  window_s=10.0, batch_size=16, noise_levels=None,
                                  learning_rate=3e-3).fit([train])
    assert model.output_scale_ > 0
    predicted = np.nansum(model.predict(train.traces, train.fps))
    true = sum(len(s) for s in train.spike_times)
    assert predicted == pytest.approx(true, rel=0.5)


class _Scaled(torch.nn.Module):
    """A stand-in network whose output is its input times a per-dataset gain."""

    def __init__(self, gains):
        super().__init__()
        self.gains = torch.tensor(gains)

    def forward(self, x, dataset):
        return x[:, 0] * self.gains[dataset][:, None]


def test_output_scale_is_the_geometric_mean_over_datasets():
    # Traces equal to the spike targets, read 4x too high on a sparse dataset and
    # 0.25x on a busy one: the geometric mean of the two ratios is 1, whereas the
    # pooled ratio would follow the busy dataset.
    rng = np.random.default_rng(0)
    sets = []
    for name, rate in (("sparse", 0.02), ("busy", 0.5)):
        counts = rng.poisson(rate, size=(4, 3000)).astype(float)
        spikes = tuple(np.repeat(np.flatnonzero(c) / 30.0 + 1e-4, c[c > 0].astype(int))
                       for c in counts)
        sets.append(TraceSet(counts, 30.0, spike_times=spikes, dataset=name))
    data = make_training_set(sets, P30, 0.0, 300, ["busy", "sparse"])
    model = NeuralModel.from_flat(floor_percentile=None, noise_levels=None)
    model.net_ = _Scaled([0.25, 4.0])
    assert model._spikes_per_output(data, 300) == pytest.approx(1.0, rel=1e-6)
    model.net_ = _Scaled([2.0, 2.0])
    assert model._spikes_per_output(data, 300) == pytest.approx(0.5, rel=1e-6)


def _high_band_power(x: np.ndarray, fps: float, above_hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(x - x.mean(), axis=-1)) ** 2
    freqs = np.fft.rfftfreq(x.shape[-1], 1 / fps)
    return float(spectrum[..., freqs > above_hz].sum() / spectrum.sum())


def _white_noise_set(native_fps: float) -> TrainingSet:
    rng = np.random.default_rng(0)
    trace = rng.normal(0, 0.1, 6000).astype(np.float32)
    return TrainingSet([trace], [np.zeros_like(trace)], ["n0"], np.array([0]), ["white"], 30.0,
                       np.array([native_fps]))


def test_windows_made_as_if_recorded_slower_are_band_limited():
    training = _white_noise_set(30.0)
    rng = np.random.default_rng(1)
    as_is, _, _ = training.sample_windows(64, 600, rng)
    slow, _, _ = training.sample_windows(64, 600, rng, AugmentationConfig(
        noise_levels=None, acquisition_rates=(5.0, 10.0)))
    # White noise keeps half its power above 7.5 Hz; recorded at <= 10 Hz it keeps
    # almost none above 5 Hz (that rate's Nyquist frequency), whatever the draw.
    assert _high_band_power(as_is, 30.0, 7.5) == pytest.approx(0.5, abs=0.05)
    assert _high_band_power(slow, 30.0, 5.0) < 0.02
    # The signal itself is kept below those frequencies.
    assert np.std(slow) > 0.3 * np.std(as_is)


def test_noise_for_a_slow_recording_is_added_at_its_own_rate():
    slow = _white_noise_set(10.0)
    slow.traces[0] = np.zeros(6000, dtype=np.float32)
    x, _, _ = slow.sample_windows(16, 600, np.random.default_rng(2),
                                  AugmentationConfig(noise_levels=(3.0, 3.0)))
    assert _high_band_power(x[:, 0], 30.0, 5.0) < 0.02
    # The level is the one asked for, measured at the recording's rate.
    assert np.median(compute_noise_level(x[:, 0, ::3], 10.0)) == pytest.approx(3.0, rel=0.2)


def test_cosine_schedule_decays_the_learning_rate_to_zero(ds09, monkeypatch):
    torch.set_num_threads(1)
    seen = []
    original = torch.optim.Adam.step

    def step(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", step)
    NeuralModel.from_flat(steps=10, batch_size=4, eval_every=5, window_s=10.0,
                          noise_levels=None, lr_schedule="cosine").fit([ds09.subset(range(4))])
    assert seen[0] == pytest.approx(1e-3)
    assert np.all(np.diff(seen) < 0) and seen[-1] < 1e-4


def test_output_floor_removes_the_silent_level_and_keeps_correlation(ds09):
    from spikeinfer.evaluation.metrics import score_neurons

    torch.set_num_threads(1)
    model = NeuralModel.from_flat(network="default", steps=60, eval_every=30, window_s=10.0,
                                  batch_size=8, noise_levels=None).fit([ds09.subset(range(6))])
    x, truth = ds09.traces[6:9, :6000], ds09.spike_counts()[6:9, :6000]
    floored = model.predict(x, ds09.fps)
    model.set_params(pipeline=replace(model.resolved_pipeline, floor_percentile=None))
    raw = model.predict(x, ds09.fps)
    # The quietest 10% of every trace is (close to) zero, not the raw silent level.
    quiet_floored = np.percentile(floored, 9, axis=1)
    quiet_raw = np.percentile(raw, 9, axis=1)
    assert (quiet_raw > 0).all() and (quiet_floored < 0.05 * quiet_raw).all()
    assert floored.sum() < raw.sum()
    np.testing.assert_allclose(score_neurons(floored, truth, ds09.fps)["corr"],
                               score_neurons(raw, truth, ds09.fps)["corr"], atol=0.02)


def test_simulated_twins_keep_spikes_and_noise_and_change_kinetics(ds09):
    real = ds09.subset([0, 1, 2])
    twins = simulate_twins([real], random_state=3)
    (twin,) = twins
    assert twin.dataset == "synthetic:" + real.dataset
    for a, b in zip(twin.spike_times, real.spike_times):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(twin.lengths, real.lengths)
    nu_twin, nu_real = (compute_noise_level(t.traces, t.fps) for t in (twin, real))
    assert np.all(nu_twin >= 0.9 * nu_real) and np.all(nu_twin < 2 * nu_real)
    # Each neuron has its own kinetics: the spike-triggered responses differ.
    assert not np.allclose(twin.traces[0, :real.lengths[0]], real.traces[0, :real.lengths[0]])
    np.testing.assert_array_equal(simulate_twins([real], random_state=3)[0].traces, twin.traces)


def test_synthetic_windows_are_drawn_for_the_requested_fraction(ds09):
    real = make_training_set([ds09.subset(range(4))], P30, 0.05, 300)
    twins = make_training_set([replace(ds09.subset([4]), dataset="synthetic:x")], P30, 0.05,
                              300, dataset_names=real.dataset_names)
    joined = real.join(twins, fraction=0.3)
    assert joined.subset(np.arange(len(joined.traces))).synthetic_fraction == 0.3
    _, _, d = joined.sample_windows(4000, 300, np.random.default_rng(0), AugmentationConfig(None))
    assert (d == -1).mean() == pytest.approx(0.3, abs=0.03)


def test_synthetic_twins_are_made_of_training_neurons_only(ds09):
    model = NeuralModel.from_flat(synthetic="simulator")
    names = [ds09.dataset]
    held = {f"{ds09.dataset}/{nid.split(':')[0]}" for nid in ds09.neuron_ids[:3]}
    twins = model._synthetic_set([ds09], held, names, window=300)
    assert twins.traces and set(twins.dataset) == {-1}
    assert not {n.split("/", 1)[1] for n in twins.neuron} & {h.split("/", 1)[1] for h in held}
    with pytest.raises(InputError, match="synthetic"):
        NeuralModel.from_flat(synthetic="gan-ish")


def test_warm_start_goes_on_from_the_fitted_weights(ds09):
    torch.set_num_threads(1)
    data = [ds09.subset(range(6))]
    model = NeuralModel.from_flat(steps=20, eval_every=10, batch_size=8, random_state=0).fit(data)
    before = {k: v.clone() for k, v in model.net_.state_dict().items()}
    with_settings(model, learning_rate=1e-12, steps=2, eval_every=1).set_params(
        warm_start=True, random_state=5)
    model.fit([ds09.subset(range(6, 11))])
    after = model.net_.state_dict()
    assert all(torch.allclose(before[k], after[k], atol=1e-6) for k in before)
    model.set_params(warm_start=False)
    model.fit([ds09.subset(range(6, 11))])
    assert not all(torch.allclose(before[k], model.net_.state_dict()[k]) for k in before)
    with pytest.raises(ValueError, match="Invalid parameter 'warmstart'"):
        model.set_params(warmstart=True)
    with pytest.raises(InputError, match="no setting 'stepz'"):
        with_settings(model, stepz=3)


def test_prediction_on_threads_matches_one_thread_and_restores_torch():
    model = load_model("default")
    x = np.random.default_rng(0).normal(0, 0.1, (5, 3000))
    x[1, 2000:] = np.nan
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = model.predict(x, 30.0)
        torch.set_num_threads(3)
        threaded = model.predict(x, 30.0)
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_array_equal(np.isnan(one), np.isnan(x))
    np.testing.assert_allclose(threaded, one, rtol=1e-6, atol=1e-9)


def _periodic_spikes_set(period: int = 100, tau: float = 10.0) -> TrainingSet:
    """A neuron firing every ``period`` frames, each spike a decay of ``tau`` frames."""
    target = np.zeros(6000, dtype=np.float32)
    target[::period] = 1.0
    kernel = np.exp(-np.arange(200) / tau)
    trace = np.convolve(target, kernel)[:6000].astype(np.float32)
    return TrainingSet([trace], [target], ["n0"], np.array([0]), ["periodic"], 30.0,
                       np.array([30.0]))


def _period(x: np.ndarray) -> int:
    """The lag (frames) of the highest autocorrelation past the first decay."""
    x = x - x.mean()
    corr = np.correlate(x, x, "full")[len(x) - 1:]
    return int(np.argmax(corr[20:300]) + 20)


@pytest.mark.parametrize("stretch, spikes, period", [(2.0, 12, 50), (0.5, 3, 200)])
def test_time_stretch_speeds_up_or_slows_down_windows_keeping_spikes(stretch, spikes, period):
    training = _periodic_spikes_set()
    x, y, _ = training.sample_windows(8, 600, np.random.default_rng(0), AugmentationConfig(
        noise_levels=None, time_stretch=(stretch, stretch)))
    x = x[:, 0]
    # Twice (half) the recording in a window: twice (half) the spikes, and the firing
    # period (and so the decay) in half (twice) the frames.
    np.testing.assert_allclose(y.sum(axis=1), spikes, atol=1.0)
    assert all(abs(_period(row) - period) <= 1 for row in x)
    # Without a stretch, windows are the recording's own frames.
    x, y, _ = training.sample_windows(8, 600, np.random.default_rng(0))
    x = x[:, 0]
    np.testing.assert_allclose(y.sum(axis=1), 6, atol=1.0)
    assert all(_period(row) == 100 for row in x)


# -- the one trainer and its callbacks -------------------------------------------------

class _Quadratic(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([3.0]))


def _quadratic_step(net, optimizer, targets):
    """A step towards the next target: the loss goes down, then up again."""
    def step(k):
        loss = (net.w - targets[min(k - 1, len(targets) - 1)]) ** 2
        optimizer.zero_grad()
        loss.sum().backward()
        optimizer.step()
        return {"loss": float(loss.detach())}
    return step


def test_early_stopping_keeps_the_best_weights_and_stops_after_patience():
    net = _Quadratic()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    scores = iter([0.1, 0.5, 0.4, 0.3, 0.2, 0.1])
    seen = {}

    def evaluate():
        seen[len(seen)] = float(net.w.detach())
        return next(scores)

    trainer = Trainer(_quadratic_step(net, optimizer, [0.0] * 100), 100,
                      [EarlyStopping(net, evaluate, every=2, patience=3)])
    result = trainer.fit()
    assert result.steps == 10 and result.stopped_by == "early stopping"
    assert result.best_step == 4 and result.best_score == 0.5
    assert float(net.w) == pytest.approx(seen[1])  # the weights of the best evaluation
    assert [h["step"] for h in result.history] == [2, 4, 6, 8, 10]


def test_time_budget_stops_and_history_averages_the_losses(tmp_path):
    net = _Quadratic()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    result = Trainer(_quadratic_step(net, optimizer, [0.0] * 10), 10, [History(every=4)]).fit()
    assert [h["step"] for h in result.history] == [4, 8, 10]
    assert result.history[0]["loss"] > result.history[1]["loss"] > result.history[2]["loss"]
    ticks = iter(range(1000))

    class Clock(TimeBudget):
        def on_step_end(self, trainer, step, logs):
            trainer.start_time = -float(next(ticks))  # one "second" per step
            super().on_step_end(trainer, step, logs)

    result = Trainer(_quadratic_step(net, optimizer, [0.0]), 50, [Clock(3.5)]).fit()
    assert result.stopped_by == "time budget" and result.steps < 50


def test_checkpoint_writes_the_best_weights_and_at_end_runs_after_restoring(tmp_path):
    from safetensors.torch import load_file

    net = _Quadratic()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    scores = iter([0.1, 0.9, 0.2, 0.3])
    ended = []
    Trainer(_quadratic_step(net, optimizer, [0.0] * 8), 8,
            [EarlyStopping(net, lambda: next(scores), every=2, patience=10),
             Checkpoint(net, tmp_path / "best.safetensors"),
             AtEnd(lambda trainer: ended.append(float(net.w)))]).fit()
    saved = load_file(str(tmp_path / "best.safetensors"))["w"]
    assert float(saved) == pytest.approx(float(net.w)) == pytest.approx(ended[0])


@pytest.mark.parametrize("config, message", [
    (lambda: TrainingConfig(steps=0), "steps"), (lambda: TrainingConfig(loss="l1"), "loss"),
    (lambda: TrainingConfig(max_seconds=-1.0), "max_seconds"),
    (lambda: AugmentationConfig(noise_levels=(4.0, 1.0)), "noise_levels"),
    (lambda: AugmentationConfig(synthetic_fraction=1.0), "synthetic_fraction"),
    (lambda: Pipeline(fps=0.5), "fps"), (lambda: Pipeline(normalise="spikes"), "normalise")])
def test_settings_are_checked_when_made(config, message):
    with pytest.raises(InputError, match=message):
        config()


def test_flat_settings_go_to_their_section():
    model = NeuralModel.from_flat(network="elephant", steps=7, noise_levels=[1, 2], fps=60,
                                  floor_percentile=None, random_state=3)
    assert model.training.steps == 7 and model.augmentation.noise_levels == (1.0, 2.0)
    assert model.pipeline.fps == 60 and model.pipeline.floor_percentile is None
    assert model.random_state == 3
    assert model.flat_params()["model_fps"] == 60 and model.flat_params()["steps"] == 7
    assert NeuralModel.from_flat(network="elephant").flat_params()["model_fps"] is None
    with pytest.raises(InputError, match="no hyper-parameter 'stepz'"):
        NeuralModel.from_flat(stepz=1)
