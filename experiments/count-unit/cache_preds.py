"""Cache held-out predictions of the CV fold models (as in the CV protocol)."""
import sys, warnings, numpy as np
from pathlib import Path
from spikeinfer.evaluation.groundtruth import degrade
from spikeinfer.io import cv_folds, load_ground_truth
from spikeinfer.models import load_model
from spikeinfer.exceptions import DataWarning
warnings.simplefilter("ignore", DataWarning)
out = Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
models = Path("benchmarks/results/cv-models")
folds = cv_folds()
only = [int(x) for x in sys.argv[2].split(",")] if len(sys.argv) > 2 else range(len(folds))
alldata = load_ground_truth("../shared/data")
for k in only:
    held = folds[k]
    model = load_model(models / f"default-fold{k}")
    data = [ts for ts in alldata if ts.dataset in held]
    for cond, (fps, nu) in {"native": (None, None), "30Hz_nu4": (30.0, 4.0)}.items():
        for i, ts in enumerate(data):
            f = out / f"{ts.dataset}|{cond}|{i}.npz"
            if f.exists():
                continue
            rec = degrade(ts, fps, nu, 0 + i)
            pred = model.predict(rec.traces, rec.fps)
            np.savez(f, traces=rec.traces.astype(np.float32), pred=pred.astype(np.float32),
                     truth=rec.spike_counts().astype(np.float32), fps=rec.fps, fold=k)
            print(k, cond, ts.dataset, rec.traces.shape, flush=True)
