"""Per (dataset, condition): truth/pred totals and blind features, per neuron and pooled."""
import sys, glob, json, warnings, numpy as np
from collections import defaultdict
from scipy import stats, ndimage, signal
from spikeinfer.preprocess import compute_baseline
from spikeinfer.signals import noise_std, finite_runs, bin_frames
from spikeinfer.evaluation.metrics import score_neurons
warnings.simplefilter("ignore")
TAUS = np.geomspace(0.1, 3.0, 12)

def implied_amplitude(y, p, fps):
    """dF/F per predicted spike: least squares of y on p convolved with exp(-t/tau), best tau."""
    best = (np.nan, np.nan, -np.inf)
    for tau in TAUS:
        k = np.exp(-np.arange(int(5 * tau * fps) + 1) / (tau * fps))
        x = signal.lfilter([1.0], [1.0, -np.exp(-1 / (tau * fps))], p)
        xx = x - x.mean(); yy = y - y.mean()
        d = xx @ xx
        if d <= 0: continue
        a = (xx @ yy) / d
        r2 = 1 - ((yy - a * xx) ** 2).sum() / (yy @ yy)
        if r2 > best[2]: best = (a, tau, r2)
    return best

def varmean(y, fps, sigma, win_s=3.0):
    w = max(4, int(win_s * fps)); n = len(y) // w
    if n < 5: return np.nan
    Y = y[:n * w].reshape(n, w)
    dY = np.diff(Y, axis=1)
    noise = (np.median(np.abs(dY - np.median(dY, 1, keepdims=True)), 1) / 0.6745) ** 2 / 2
    m, v = Y.mean(1), Y.var(1) - noise
    if n > 600:
        idx = np.random.default_rng(0).choice(n, 600, replace=False); m, v = m[idx], v[idx]
    return 2 * stats.theilslopes(v, m)[0]

def quantal_unit(p, fps, sigma_s=0.05):
    """CASCADE-style autocalibration on the output: events of the smoothed output, their sums."""
    s = ndimage.gaussian_filter1d(p, sigma_s * fps)
    # peak of one smoothed spike at this rate
    one = ndimage.gaussian_filter1d(np.r_[np.zeros(50), 1.0, np.zeros(50)], sigma_s * fps).max()
    above = s > one / 2
    lab, n = ndimage.label(above)
    if n == 0: return np.array([])
    sl = ndimage.find_objects(lab)
    sums = np.array([p[max(0, a.start - 2):a.stop + 2].sum() for (a,) in sl])
    return sums

import pickle
from spikeinfer.signals import compute_noise_level
GATED = len(sys.argv) > 3 and sys.argv[3] == "--gate"  # after the silence gate
G = pickle.load(open("experiments/count-unit/work/gate_fn.pkl", "rb")) if GATED else None
NUS, TAB, W_S = (G["nus"], G["tab"], G["w"]) if GATED else (None, None, None)
def mass(p, fps, w_s):
    w = max(1, int(round(w_s * fps)))
    return ndimage.uniform_filter1d(np.nan_to_num(p), w, axis=-1, mode="constant") * w
def gate(p, nu, fps):
    th = np.interp(np.log(nu), np.log(NUS), TAB)
    M = mass(p, fps, W_S)
    keep = ndimage.maximum_filter1d((M >= th).astype(float), max(1, int(round(W_S * fps))), axis=-1) > 0
    return np.where(keep, p, np.where(np.isfinite(p), 0.0, np.nan))
rows = defaultdict(lambda: defaultdict(list))
for f in sorted(glob.glob(sys.argv[1] + "/*.npz")):
    ds, cond, _ = f.split("/")[-1][:-4].split("|")
    z = np.load(f); fps = float(z["fps"]); T, P, S = z["traces"].astype(float), z["pred"].astype(float), z["truth"].astype(float)
    if GATED:
        P = gate(P, compute_noise_level(T, fps)[:, None], fps)
    sc = score_neurons(P, S, fps)
    for t, p, s, c in zip(T, P, S, sc["corr"]):
        keep = np.isfinite(t) & np.isfinite(p) & np.isfinite(s)
        if keep.sum() < fps * 10: continue
        # longest run
        runs = finite_runs(np.where(keep, t, np.nan)); a, b = max(runs, key=lambda r: r[1] - r[0])
        y = t[a:b]; pp = p[a:b]
        base = compute_baseline(y[None], fps)[0]; y = y - base
        sigma = float(noise_std(y))
        amp, tau, r2 = implied_amplitude(y, pp, fps)
        r = rows[(ds, cond)]
        r["pred"].append(p[keep].sum()); r["true"].append(s[keep].sum()); r["corr"].append(c)
        r["dur"].append(keep.sum() / fps); r["implied"].append(amp); r["tau"].append(tau); r["r2"].append(r2)
        r["vm"].append(varmean(y, fps, sigma)); r["sigma"].append(sigma)
        r["nu"].append(np.nanmedian(np.abs(np.diff(y))) / np.sqrt(fps) * 100)
        r["qsums"].append(quantal_unit(pp, fps).tolist())
        r["fps"].append(fps)
out = {f"{k[0]}|{k[1]}": {kk: vv for kk, vv in v.items()} for k, v in rows.items()}
json.dump(out, open(sys.argv[2], "w"), default=float)
