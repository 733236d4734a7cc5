import numpy as np, glob, json, warnings
from scipy import ndimage
from spikeinfer.models import load_model
from spikeinfer.signals import noise_std_for_level, compute_noise_level
from spikeinfer.evaluation.metrics import score_neurons
warnings.simplefilter("ignore")
m = load_model("default"); rng = np.random.default_rng(1); fps = 30.0
NUS = np.array([0.25, 0.5, 1, 2, 4, 8])
def mass(p, fps, w_s):
    w = max(1, int(round(w_s * fps)))
    return ndimage.uniform_filter1d(np.nan_to_num(p), w, axis=-1, mode="constant") * w
noise = {nu: m.predict(rng.normal(0, noise_std_for_level(nu, fps), (40, int(600 * fps))), fps) for nu in NUS}
def table(w_s, q):
    return np.array([np.quantile(mass(noise[nu], fps, w_s), q) for nu in NUS])
def gate(p, nu, fps, w_s, tab):
    th = np.interp(np.log(nu), np.log(NUS), tab)
    M = mass(p, fps, w_s)
    keep = ndimage.maximum_filter1d((M >= th).astype(float), max(1, int(round(w_s * fps))) , axis=-1) > 0
    return np.where(keep, p, np.where(np.isfinite(p), 0.0, np.nan))
import pickle; pickle.dump({"nus": NUS, "tab": table(0.3, 0.999), "w": 0.3}, open("experiments/count-unit/work/gate_fn.pkl","wb"))
