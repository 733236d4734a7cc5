"""Golden outputs: every shipped model's predictions on fixed inputs, stored in
``tests/golden/outputs.npz`` (written by ``tests/golden/make_golden.py``), so that no
refactoring moves a prediction unnoticed. A deliberate change of a shipped model
regenerates the file and is recorded in CHANGELOG.md with the model's new version.

Tolerance: 1e-5 spikes per frame absolute plus 1e-4 relative, room for float32
round-off between CPUs, far below any change of weights or preprocessing.
"""

from pathlib import Path

import numpy as np
import pytest

from spikeinfer.models import list_models, load_model

GOLDEN = np.load(Path(__file__).parent / "golden" / "outputs.npz")
CASES = [(name, key) for name in list_models() for key in ("fast", "slow")]


def test_every_shipped_model_has_golden_outputs():
    assert {f"{name}_fast" for name in list_models()} <= set(GOLDEN.files)


@pytest.mark.parametrize("name, key", CASES)
def test_shipped_model_reproduces_its_golden_output(name, key):
    traces = GOLDEN[f"input_{key}"].astype(np.float64)
    prediction = load_model(name).predict(traces, float(GOLDEN[f"fps_{key}"]))
    np.testing.assert_allclose(prediction, GOLDEN[f"{name}_{key}"], rtol=1e-4, atol=1e-5)
