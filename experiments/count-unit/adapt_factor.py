import json, glob, numpy as np
sil = json.load(open("benchmarks/results/silence.json"))["datasets"]
rows = {"native": [], "degraded": []}
for f in sorted(glob.glob("benchmarks/results/adaptation/fold*.json")):
    d = json.load(open(f))
    for ds, e in d["datasets"].items():
        for cond, key in (("native", "native"), ("degraded", "30Hz_nu4")):
            g, a = e[cond]["generic"]["bias"], e[cond]["adapted"]["bias"]
            s = sil[f"{ds}|{key}"]
            factor = (1 + a) / (1 + g)
            rows[cond].append((ds, s["bias_raw"], s["bias_gated"], (1 + s["bias_gated"]) * factor - 1, a))
for cond, r in rows.items():
    r = np.array([x[1:] for x in r])
    for j, name in enumerate(["default", "default+gate", "default+gate x adapt factor", "adapted model itself"]):
        b = r[:, j]
        print(f"{cond:9s} {name:30s} n {len(b)} med|bias| {np.median(np.abs(b)):.3f} within2x {(np.abs(np.log1p(b)) < np.log(2)).sum()}")
