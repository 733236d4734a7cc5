import json, sys, numpy as np
from spikeinfer.io import cv_folds
from sklearn.linear_model import QuantileRegressor
# screen.py FEATURES.json [--lad]
feat = json.load(open(sys.argv[1]))
LAD = "--lad" in sys.argv
cv = json.load(open("benchmarks/results/cv_summary.json"))["summary"]["default"]
folds = cv_folds(); fold_of = {d: k for k, f in enumerate(folds) for d in f}
conds = {"native": "native", "30Hz_nu4": "degraded"}
D = {}
for key, r in feat.items():
    ds, cond = key.split("|")
    pred, true = np.sum(r["pred"]), np.sum(r["true"])
    w = np.array(r["dur"])
    def wmed(x):
        x = np.log(np.abs(np.array(x, float)));  ok = np.isfinite(x)
        return np.median(x[ok]) if ok.any() else np.nan
    D[key] = dict(ds=ds, cond=cond, y=np.log(pred / true), corr=np.nanmean(r["corr"]),
                  implied=wmed(r["implied"]), vm=wmed(r["vm"]), nu=wmed(r["nu"]), tau=wmed(r["tau"]),
                  sigma=wmed(r["sigma"]), rate=np.log(pred / w.sum()), fold=fold_of[ds])
    ref = cv[conds[cond]]["datasets"][ds]
    D[key]["ref_bias"], D[key]["ref_corr"] = ref["bias"], ref["corr"]
keys = sorted(D)
print("check bias vs cv_summary:", max(abs(np.exp(D[k]["y"]) - 1 - D[k]["ref_bias"]) for k in keys),
      "corr:", max(abs(D[k]["corr"] - D[k]["ref_corr"]) for k in keys))
for c in conds:
    y = np.array([D[k]["y"] for k in keys if D[k]["cond"] == c])
    print(c, "today median|bias|", np.median(np.abs(np.exp(y) - 1)).round(3), "within2x", (np.abs(y) < np.log(2)).sum(), "of", len(y))
def evaluate(cols, label):
    res = {c: [] for c in conds}
    for k in keys:
        d = D[k]
        train = [D[j] for j in keys if D[j]["fold"] != d["fold"]]
        X = np.array([[t[c] for c in cols] + [1] for t in train]); Y = np.array([t["y"] for t in train])
        ok = np.isfinite(X).all(1)
        if LAD:  # median regression
            beta = QuantileRegressor(quantile=0.5, alpha=0.0, fit_intercept=False,
                                     solver="highs").fit(X[ok], Y[ok]).coef_
        else:
            beta = np.linalg.lstsq(X[ok], Y[ok], rcond=None)[0]
        x = np.array([d[c] for c in cols] + [1])
        yhat = x @ beta if np.isfinite(x).all() else 0.0
        res[d["cond"]].append(d["y"] - yhat)
    out = []
    for c in conds:
        e = np.array(res[c]); out.append(f"{c}: med|bias| {np.median(np.abs(np.exp(e)-1)):.3f} within2x {(np.abs(e)<np.log(2)).sum()}")
    print(f"{label:30s}", " | ".join(out))
evaluate([], "constant")
for cols in (["implied"], ["vm"], ["vm", "implied"], ["nu"], ["tau"], ["rate"], ["vm", "implied", "nu"], ["vm", "implied", "tau"], ["vm", "implied", "rate"], ["vm","implied","nu","tau","rate"], ["sigma"], ["sigma","implied"]):
    evaluate(cols, "+".join(cols))
# correlations
y = np.array([D[k]["y"] for k in keys])
for c in ["implied", "vm", "nu", "tau", "rate", "sigma"]:
    x = np.array([D[k][c] for k in keys]); ok = np.isfinite(x)
    print(c, np.corrcoef(x[ok], y[ok])[0, 1].round(3))
x = np.array([D[k]["vm"] - D[k]["implied"] for k in keys]); ok=np.isfinite(x); print("vm-implied", np.corrcoef(x[ok], y[ok])[0,1].round(3))
print()
cal = {d["dataset"]: d for d in json.load(open("benchmarks/results/calibration.json"))["datasets"]}
for k in keys:
    d = D[k]; c = cal.get(d["ds"], {})
    print(f"{k:50s} bias {np.exp(d['y'])-1:+6.2f} impl {np.exp(d['implied']):.3f} vm {np.exp(d['vm']):.3f} Afit {c.get('amplitude_fit',np.nan):.3f} tau {np.exp(d['tau']):.2f} rate {np.exp(d['rate']):.2f} nu {np.exp(d['nu']):.2f}")
