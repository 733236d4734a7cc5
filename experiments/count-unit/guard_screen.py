import json, numpy as np
from collections import defaultdict
from spikeinfer.io import cv_folds
C = json.load(open("experiments/count-unit/work/calib.json"))
folds = cv_folds(); fold_of = {d: k for k, f in enumerate(folds) for d in f}
D = defaultdict(lambda: defaultdict(list))
for f, r in C.items():
    ds, cond, _ = f[:-4].split("|")
    d = D[(ds, cond)]
    for key in ("pred", "true", "amp", "own", "conf", "implied"):
        d[key] += r[key]
    d["n"].append(len(r["pred"])); d["nconf"].append(r["n_conf"]); d["rec_amp"].append(r["rec_amp"])
rows = []
for (ds, cond), d in D.items():
    pred, true = np.array(d["pred"]), np.array(d["true"])
    conf = np.array(d["conf"], bool); amp = np.array(d["amp"], float); imp = np.array(d["implied"], float)
    y = np.log(pred.sum() / true.sum())
    frac = conf.mean()
    ok = np.isfinite(amp) & np.isfinite(imp) & (imp > 0) & (amp > 0)
    x = np.log(np.median(amp[ok])) - np.log(np.median(imp[ok])) if ok.any() else np.nan
    rows.append(dict(ds=ds, cond=cond, y=y, x=x, frac=frac, fold=fold_of[ds]))
for min_frac in (0.0, 0.3, 0.5, 0.7, 0.9, 1.01):
    line = []
    for cond in ("native", "30Hz_nu4"):
        e = []
        n_applied = 0
        for r in rows:
            if r["cond"] != cond: continue
            train = [t for t in rows if t["fold"] != r["fold"] and np.isfinite(t["x"]) and t["frac"] >= min_frac]
            off = np.median([t["y"] - t["x"] for t in train]) if train else 0
            if r["frac"] >= min_frac and np.isfinite(r["x"]) and train:
                e.append(r["y"] - r["x"] - off); n_applied += 1
            else:
                e.append(r["y"])
        e = np.array(e)
        line.append(f"{cond}: applied {n_applied:2d} med|bias| {np.median(np.abs(np.exp(e)-1)):.3f} within2x {(abs(e)<np.log(2)).sum()}")
    print(f"guard frac>={min_frac}:", " | ".join(line))
for r in sorted(rows, key=lambda r: (r["cond"], r["ds"])):
    print(f"{r['ds']:40s} {r['cond']:9s} y {np.exp(r['y']):5.2f} A/impl {np.exp(r['x']):6.2f} conf {r['frac']:.2f}")
