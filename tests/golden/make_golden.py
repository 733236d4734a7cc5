"""Write ``tests/golden/outputs.npz``: fixed inputs and every shipped model's predictions.

Run from the repository root after a deliberate change of a shipped model's weights
(recorded in CHANGELOG.md): ``python tests/golden/make_golden.py``.
"""

from pathlib import Path

import numpy as np

from spikeinfer.models import list_models, load_model
from spikeinfer.simulate import simulate_recording


def golden_inputs() -> dict:
    a = simulate_recording(n_neurons=3, duration_s=60.0, fps=30.0, indicator="GCaMP6s",
                           noise_level=2.0, random_state=1)
    b = simulate_recording(n_neurons=2, duration_s=60.0, fps=12.5, indicator="OGB-1",
                           noise_level=1.0, random_state=2)
    slow = b.traces.copy()
    slow[1, 300:340] = np.nan
    return {"fast": (a.traces.astype(np.float32), 30.0), "slow": (slow.astype(np.float32), 12.5)}


def main() -> None:
    out = {}
    for key, (traces, fps) in golden_inputs().items():
        out[f"input_{key}"] = traces
        out[f"fps_{key}"] = np.array(fps)
        for name in list_models():
            out[f"{name}_{key}"] = load_model(name).predict(traces.astype(np.float64), fps)
    path = Path(__file__).with_name("outputs.npz")
    np.savez_compressed(path, **out)
    print(f"wrote {path} ({', '.join(sorted(out))})")


if __name__ == "__main__":
    main()
