"""Shared fixtures: the ground-truth folder, a seed, and a small simulated recording (also
as a `.npy` file)."""

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"ground truth not found at {DATA}")
    return DATA.resolve()


@pytest.fixture
def seed() -> int:
    return 20261122


@pytest.fixture
def simulated(seed):
    from spikeinfer.simulate import simulate_recording

    return simulate_recording(n_neurons=4, duration_s=60.0, fps=30.0, random_state=seed)


@pytest.fixture
def traces_npy(tmp_path, simulated) -> Path:
    """The simulated recording saved as ``rec.npy``."""
    path = tmp_path / "rec.npy"
    np.save(path, simulated.traces)
    return path
