import warnings

import numpy as np
import pytest

from spikeinfer import DataWarning, InputError
from spikeinfer.models import OasisModel
from spikeinfer.simulate import simulate_recording


@pytest.fixture(scope="module")
def rec():
    return simulate_recording(n_neurons=6, duration_s=200.0, fps=30.0, rate_hz=0.5,
                              random_state=3)


def test_fit_learns_amplitude_and_delay(rec):
    model = OasisModel().fit([rec])
    # Simulated spikes peak at 0.5 dF/F; a deconvolved spike is of that order.
    assert 0.1 < model.spike_amplitude_dff_ < 1.0
    # The transient peaks ~0.15 s after the spike: the output is late, never early.
    assert 0.0 < model.delay_s_ <= 0.2


def test_delay_correction_improves_correlation(rec):
    from spikeinfer.evaluation import mean_scores, score_neurons

    model = OasisModel().fit([rec])
    corrected = model.predict(rec.traces, rec.fps)
    model.delay_s_ = 0.0
    raw = model.predict(rec.traces, rec.fps)
    truth = rec.spike_counts()
    assert mean_scores(score_neurons(corrected, truth, 30))["corr"] > \
        mean_scores(score_neurons(raw, truth, 30))["corr"] + 0.05


def test_output_is_in_spikes(rec):
    model = OasisModel().fit([rec])
    other = simulate_recording(n_neurons=4, duration_s=200.0, fps=30.0, rate_hz=1.0,
                               random_state=4)
    predicted = np.nansum(model.predict(other.traces, other.fps))
    assert predicted == pytest.approx(sum(len(s) for s in other.spike_times), rel=0.25)


def test_ar2_falls_back_on_stretches_its_solver_rejects(rec):
    model = OasisModel(ar_order=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = model.deconvolve(rec.traces[0, :76], rec.fps)
    assert out.shape == (76,) and np.isfinite(out).all()
    assert any(issubclass(w.category, DataWarning) and "AR(1)" in str(w.message) for w in caught)


def test_ar2_with_fixed_decay_needs_a_rise_time(rec):
    with pytest.raises(InputError, match="tau_rise_s"):
        OasisModel(ar_order=2, tau_decay_s=1.0).deconvolve(rec.traces[0], rec.fps)
    out = OasisModel(ar_order=2, tau_decay_s=0.8, tau_rise_s=0.05).deconvolve(rec.traces[0], 30)
    assert np.isfinite(out).all()
