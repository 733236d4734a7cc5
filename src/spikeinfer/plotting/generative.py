"""Figures of the generative models (seed 001), written as small PNGs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from sklearn.decomposition import PCA

from ..data import TraceSet
from ..exceptions import InputError
from ..generative import (
    ConditionalGAN,
    SpikeClassifier,
    WindowAutoencoder,
    evaluate_model,
    make_windows,
    simulate_stretches,
    simulator_parameters,
)
from ._figure import new_figure, save_figure

#: Datasets shown in the GAN's example and response figures (where present).
EXAMPLE_DATASETS = ("DS02-OGB1-2-m-V1", "DS09-GCaMP6f-m-V1", "DS14-GCaMP6s-m-V1",
                    "DS18-R-CaMP-m-CA3", "DS30-GCaMP8f-m-V1", "DS32-GCaMP8s-m-V1")


def _save(fig, path: Path, force: bool) -> Path:
    return save_figure(fig, path, dpi=80, force=force)


def _evaluation(model, data, evaluation_path) -> dict:
    if evaluation_path is not None and Path(evaluation_path).is_file():
        return json.loads(Path(evaluation_path).read_text())
    return evaluate_model(model, data)


def _short(name: str) -> str:
    return name.replace("-neuropil-corrected", "-np").replace("spikefinder", "SF")[:28]


def plot_model(model, data: Sequence[TraceSet], output: Path, evaluation_path=None,
               force: bool = False) -> list[Path]:
    """Write the figures of ``model`` into folder ``output``; returns their paths."""
    output = Path(output)
    if not output.is_dir():
        raise InputError(f"{output}: not a folder")
    if isinstance(model, SpikeClassifier):
        return [plot_classifier_auc(_evaluation(model, data, evaluation_path),
                                    output / "classifier_auc.png", force)]
    stretches, held = model.prepare(data)
    if isinstance(model, WindowAutoencoder):
        windows = make_windows(stretches, held, model.window, model.per_dataset,
                               model.random_state)
        return [plot_latent_space(model, windows, output / "autoencoder_latent.png", force),
                plot_reconstructions(model, windows, output / "autoencoder_reconstructions.png",
                                     force)]
    if isinstance(model, ConditionalGAN):
        evaluation = _evaluation(model, data, evaluation_path)
        return [plot_gan_examples(model, stretches, held, output / "gan_examples.png", force),
                plot_two_sample(evaluation, output / "gan_two_sample.png", force),
                plot_responses(evaluation, model.fps, output / "gan_responses.png", force)]
    raise InputError(f"no figures for {type(model).__name__}")


def plot_classifier_auc(evaluation: dict, path: Path, force: bool = False) -> Path:
    """Held-out ROC AUC per dataset: the CNN beside the rise baseline."""
    rows = {k: v for k, v in evaluation["datasets"].items() if v["auc"] is not None}
    names = list(rows)
    y = np.arange(len(names))
    fig, ax = new_figure(figsize=(6.5, 0.22 * len(names) + 1.2))
    ax.barh(y + 0.2, [rows[n]["auc"] for n in names], 0.4, label="CNN classifier")
    ax.barh(y - 0.2, [rows[n]["auc_rise_baseline"] for n in names], 0.4, color="0.7",
            label="rise baseline")
    ax.set_yticks(y, [_short(n) for n in names], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0.4, 1.0)
    ax.axvline(0.5, color="k", lw=0.5)
    ax.set_xlabel("ROC AUC, held-out neurons (spike in centre frame)")
    ax.set_title(f"classifier: mean AUC {evaluation['mean_auc']:.3f} "
                 f"(baseline {evaluation['mean_auc_rise_baseline']:.3f})", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return _save(fig, path, force)


def plot_latent_space(model: WindowAutoencoder, windows, path: Path, force: bool = False,
                      n: int = 4000) -> Path:
    """PCA of the codes of held-out and training windows, coloured by spikes in the
    window and by dataset."""
    rng = np.random.default_rng(0)
    keep = rng.choice(len(windows.x), size=min(n, len(windows.x)), replace=False)
    codes = model.encode(windows.x[keep])
    # Codes grow with a transient's size in noise units: a few huge transients would
    # fill the view, so each dimension is robustly standardised and clipped first.
    median = np.median(codes, axis=0)
    spread = np.subtract(*np.percentile(codes, [75, 25], axis=0)) + 1e-9
    xy = PCA(2, random_state=0).fit_transform(np.clip((codes - median) / spread, -4, 4))
    spikes = windows.counts[keep].sum(axis=1)
    fig, axes = new_figure(1, 2, figsize=(10, 4.4))
    order = np.argsort(spikes)
    sc = axes[0].scatter(xy[order, 0], xy[order, 1], c=np.log2(1 + spikes[order]), s=3,
                         cmap="viridis", rasterized=True)
    cbar = fig.colorbar(sc, ax=axes[0])
    cbar.set_label("log2(1 + spikes in window)")
    axes[0].set_title("latent space (PCA of robustly scaled 8-d codes): spikes", fontsize=9)
    cmap = colormaps["nipy_spectral"]
    n_sets = len(windows.dataset_names)
    d = windows.dataset[keep]
    axes[1].scatter(xy[:, 0], xy[:, 1], c=[cmap(i / max(n_sets - 1, 1)) for i in d], s=3,
                    rasterized=True)
    axes[1].set_title(f"same points: dataset ({n_sets} datasets, one colour each)", fontsize=9)
    for ax in axes:
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
    fig.tight_layout()
    return _save(fig, path, force)


def plot_reconstructions(model: WindowAutoencoder, windows, path: Path,
                         force: bool = False) -> Path:
    """Six held-out windows (three with a spike at the centre) and their reconstructions."""
    held = windows.subset(windows.held_out)
    rng = np.random.default_rng(1)
    picks = np.r_[rng.choice(np.flatnonzero(held.has_spike), 3, replace=False),
                  rng.choice(np.flatnonzero(~held.has_spike), 3, replace=False)]
    reconstruction = model.reconstruct(held.x[picks])
    t = np.arange(held.x.shape[1]) / held.fps
    fig, axes = new_figure(2, 3, figsize=(10, 4.6))
    for ax, i, r in zip(axes.flat, picks, reconstruction):
        ax.plot(t, held.x[i], color="0.5", lw=0.8, label="held-out window")
        ax.plot(t, r, color="C3", lw=1.2, label="reconstruction (8-d code)")
        for f in np.flatnonzero(held.counts[i]):
            ax.axvline(t[f], ymin=0, ymax=0.08, color="k", lw=1)
        ax.set_title(_short(held.dataset_names[held.dataset[i]]), fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7)
    axes[1, 0].set_xlabel("time (s); ticks at the bottom: spikes")
    axes[1, 0].set_ylabel("dF/F minus baseline")
    fig.tight_layout()
    return _save(fig, path, force)


def plot_gan_examples(model: ConditionalGAN, stretches, held: set, path: Path,
                      force: bool = False, seconds: float = 20.0) -> Path:
    """For a few datasets, 20 s of a held-out neuron: real, the GAN's rendering of the
    same spikes, and the simulator's (the dataset's fitted kinetics and noise)."""
    is_held = stretches.is_held_out(held)
    names = [n for n in EXAMPLE_DATASETS[1::2] + EXAMPLE_DATASETS[:1]
             if n in stretches.dataset_names] or stretches.dataset_names[:4]
    frames = int(seconds * stretches.fps)
    fig, axes = new_figure(len(names), 1, figsize=(9, 1.6 * len(names) + 0.5), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        d = stretches.dataset_names.index(name)
        rows = np.flatnonzero((stretches.dataset == d) & is_held)
        if not rows.size:
            continue
        # The held-out stretch with the most spikes in its busiest 20 s.
        best = max(rows, key=lambda i: np.convolve(stretches.counts[i], np.ones(frames),
                                                   "valid").max(initial=0))
        c = stretches.counts[best]
        start = int(np.argmax(np.convolve(c, np.ones(frames), "valid"))) if len(c) > frames else 0
        span = slice(start, start + frames)
        t = np.arange(frames)[:len(c[span])] / stretches.fps
        real = stretches.traces[best]
        gan = model.generate(c, name, random_state=0)
        traces = [("real", real, "k"), ("GAN", gan, "C3")]
        params = simulator_parameters(name)
        if params is not None:
            traces.append(("simulator", simulate_stretches(stretches, [best], params)[0], "C0"))
        spread = 1.2 * max(np.percentile(real, 99.5) - np.percentile(real, 0.5), 1e-3)
        for k, (label, x, color) in enumerate(traces):
            ax.plot(t, x[span] - k * spread, color=color, lw=0.7, label=label)
        for f in np.flatnonzero(c[span]):
            ax.axvline(t[f], ymin=0, ymax=0.05, color="k", lw=0.8)
        ax.set_title(f"{name}, held-out neuron", fontsize=8, loc="left")
        ax.set_yticks([])
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7, loc="upper right", ncol=3)
    axes[-1, 0].set_xlabel("time (s); ticks: true spikes")
    fig.tight_layout()
    return _save(fig, path, force)


def plot_two_sample(evaluation: dict, path: Path, force: bool = False) -> Path:
    """Two-sample accuracy per dataset, GAN beside simulator (0.5 = indistinguishable)."""
    rows = evaluation["datasets"]
    names = list(rows)
    y = np.arange(len(names))
    fig, ax = new_figure(figsize=(6.5, 0.22 * len(names) + 1.2))
    ax.barh(y + 0.2, [rows[n]["gan"]["two_sample_accuracy"] for n in names], 0.4,
            color="C3", label="GAN")
    ax.barh(y - 0.2, [rows[n].get("simulator", {}).get("two_sample_accuracy", np.nan)
                      for n in names], 0.4, color="C0", label="simulator")
    ax.axvline(0.5, color="k", lw=0.8)
    ax.set_yticks(y, [_short(n) for n in names], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0.4, 1.0)
    ax.set_xlabel("accuracy of a classifier telling real from generated (0.5 is best)")
    gan, sim = (evaluation["mean_two_sample_accuracy_gan"],
                evaluation["mean_two_sample_accuracy_simulator"])
    ax.set_title(f"two-sample test, held-out neurons: mean GAN {gan:.3f}, simulator "
                 f"{sim:.3f}", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return _save(fig, path, force)


def plot_responses(evaluation: dict, fps: float, path: Path, force: bool = False) -> Path:
    """Average response to an isolated spike: real, GAN, simulator."""
    rows = evaluation["datasets"]
    names = [n for n in EXAMPLE_DATASETS if n in rows and rows[n]["real"]["sta"]] or \
        [n for n in rows if rows[n]["real"]["sta"]][:6]
    fig, axes = new_figure(2, 3, figsize=(10, 5), squeeze=False)
    for ax, name in zip(axes.flat, names):
        for source, color in (("real", "k"), ("gan", "C3"), ("simulator", "C0")):
            sta = rows[name].get(source, {}).get("sta")
            if sta:
                t = (np.arange(len(sta)) - int(0.5 * fps)) / fps
                ax.plot(t, sta, color=color, label=source)
        ax.set_title(f"{_short(name)} ({rows[name]['real']['n_isolated_spikes']} spikes)",
                     fontsize=8)
        ax.axvline(0, color="0.7", lw=0.5)
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7)
    axes[1, 0].set_xlabel("time from an isolated spike (s)")
    axes[1, 0].set_ylabel("mean dF/F")
    fig.tight_layout()
    return _save(fig, path, force)
