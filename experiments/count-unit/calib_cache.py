import glob, json, warnings, numpy as np
from spikeinfer.calibration import calibrate
from spikeinfer.counts import gate_silence
from spikeinfer.models import load_model
warnings.simplefilter("ignore")
silence = load_model("default").silence_
from scipy import signal
TAUS = np.geomspace(0.1, 3.0, 12)
def implied(y, p, fps, tau):
    x = signal.lfilter([1.0], [1.0, -np.exp(-1 / (tau * fps))], p)
    xx, yy = x - x.mean(), y - y.mean()
    return (xx @ yy) / (xx @ xx) if xx @ xx > 0 else np.nan
out = {}
for f in sorted(glob.glob("experiments/count-unit/work/cvcache/*.npz")):
    z = np.load(f); fps = float(z["fps"]); T, P, S = z["traces"].astype(float), z["pred"].astype(float), z["truth"]
    c = calibrate(T, fps, n_jobs=1)
    G = gate_silence(P, c.noise_level, fps, silence)
    imp = []
    for t, p in zip(T, G):
        k = np.isfinite(t) & np.isfinite(p)
        imp.append(implied(np.where(k, t, 0) - np.nanmedian(t), np.where(k, p, 0), fps, c.tau_decay_s) if k.sum() > fps * 10 else np.nan)
    keep = np.isfinite(G) & np.isfinite(S)
    out[f.split("/")[-1]] = dict(pred=[float(G[i][keep[i]].sum()) for i in range(len(G))], true=[float(S[i][keep[i]].sum()) for i in range(len(G))],
        amp=c.amplitude.tolist(), own=c.amplitude_own.tolist(), conf=c.confident.tolist(), rec_amp=c.recording_amplitude,
        n_conf=c.n_confident, implied=imp, tau=c.tau_decay_s, nu=c.noise_level.tolist())
    print(f, c.n_confident, len(T), c.recording_amplitude, flush=True)
json.dump(out, open("experiments/count-unit/work/calib.json", "w"), default=float)
