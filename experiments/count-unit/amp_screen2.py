import json, numpy as np
from spikeinfer.io import cv_folds
feat = json.load(open("experiments/count-unit/work/feat3.json"))
cal = {d["dataset"]: d for d in json.load(open("benchmarks/results/calibration.json"))["datasets"]}
folds = cv_folds(); fold_of = {d: k for k, f in enumerate(folds) for d in f}
rows = []
for key, r in feat.items():
    ds, cond = key.split("|")
    y = np.log(np.sum(r["pred"]) / np.sum(r["true"]))
    impl = np.nanmedian(np.array(r["implied"], float))
    a = cal[ds]["amplitude_estimate" if cond == "native" else "amplitude_estimate_30hz_nu4"]
    afit = cal[ds]["amplitude_fit"]
    vm = np.nanmedian(np.where(np.array(r["vm"], float) > 0, r["vm"], np.nan))
    rows.append((ds, cond, y, np.log(a) if a else np.nan, np.log(impl), np.log(afit), fold_of[ds], np.log(vm), 0.5*(np.log(vm)+np.log(a) if a else np.log(vm))))
for name, col in (("blind A", 3), ("spikes-known A", 5), ("var-mean A", 7), ("geo mean", 8)):
    for cond in ("native", "30Hz_nu4"):
        e_all = []
        for ds, c, y, la, li, lf, k, *_ in rows:
            if c != cond: continue
            x = [r for r in rows if r[0]==ds and r[1]==c][0][col] - li
            train = [(r[2], (r[col]) - r[4]) for r in rows if r[6] != k and np.isfinite(r[col])]
            off = np.median([t[0] - t[1] for t in train])
            e_all.append(y - (x + off) if np.isfinite(x) else y)
        e = np.array(e_all)
        print(f"{name:15s} {cond:9s} slope-1 model: med|bias| {np.median(np.abs(np.exp(e)-1)):.3f} within2x {(abs(e)<np.log(2)).sum()}")
