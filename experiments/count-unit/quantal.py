import json, numpy as np
feat = json.load(open("experiments/count-unit/work/feat.json"))
from sklearn.mixture import GaussianMixture
def unit_mixture(s, kmax=5):
    """ML unit of a mixture with components at k*u (sd grows with sqrt(k)), weights free; grid over u."""
    s = s[s > 0]
    if len(s) < 20: return np.nan, 0
    best = (-np.inf, np.nan)
    for u in np.geomspace(np.percentile(s, 2), np.percentile(s, 60), 60):
        for cv in (0.25, 0.4):
            k = np.arange(1, kmax + 1)
            mu, sd = k * u, np.sqrt(k) * cv * u
            w = np.ones(kmax) / kmax
            for _ in range(30):
                L = w * np.exp(-0.5 * ((s[:, None] - mu) / sd) ** 2) / sd
                tot = L.sum(1, keepdims=True) + 1e-300
                w = (L / tot).mean(0)
            ll = np.log(tot).sum()
            if ll > best[0]: best = (ll, u, w[0])
    return best[1], best[2]
res = {}
for key, r in feat.items():
    s = np.concatenate([np.array(q) for q in r["qsums"]]) if r["qsums"] else np.array([])
    y = np.log(np.sum(r["pred"]) / np.sum(r["true"]))
    u, w1 = unit_mixture(s)
    res[key] = (y, np.log(u) if u == u else np.nan, np.log(np.median(s)) if len(s) else np.nan, w1, len(s))
    print(f"{key:50s} y {np.exp(y):5.2f} unit {u:6.2f} w1 {w1:.2f} med {np.median(s) if len(s) else np.nan:6.2f} n {len(s)}")
json.dump(res, open("experiments/count-unit/work/quantal.json", "w"), default=float)
Y = np.array([v[0] for v in res.values()]); U = np.array([v[1] for v in res.values()]); M = np.array([v[2] for v in res.values()])
ok = np.isfinite(U); print("corr log unit vs y", np.corrcoef(U[ok], Y[ok])[0,1], "median", np.corrcoef(M[ok], Y[ok])[0,1])
e = Y[ok] - U[ok]; print("divide by unit: med|bias|", np.median(np.abs(np.exp(e)-1)), "within2x", (abs(e)<np.log(2)).sum(), "of", ok.sum())
