"""Figures of the embeddings (seed 000): the cross-prediction matrix, the dataset
distance matrix, both embeddings, the mean properties, the regressor's placements."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..embedding import (
    PROPERTY_NAMES,
    CrossPrediction,
    Embedding,
    embedding_cosine_similarity,
    indicator_cosine_summary,
    make_regressor,
)
from ..io import is_inhibitory
from ..models import load_model
from ._figure import new_figure, save_figure

_EXCITATORY, _INHIBITORY = "tab:blue", "tab:red"


def short_name(dataset: str) -> str:
    """``DS09-GCaMP6f-m-V1`` -> ``DS09``; ``spikefinder-4`` -> ``SF4``."""
    if dataset.startswith("spikefinder-"):
        return "SF" + dataset.split("-", 1)[1]
    return dataset.split("-")[0]


def _colour(dataset: str) -> str:
    return _INHIBITORY if is_inhibitory(dataset) else _EXCITATORY


def _block_ticks(ax, labels, axis: str) -> None:
    """Dataset names at the middle of each run of equal labels, lines between runs."""
    labels = list(labels)
    starts = [0] + [i for i in range(1, len(labels)) if labels[i] != labels[i - 1]]
    ends = starts[1:] + [len(labels)]
    centres = [(a + b - 1) / 2 for a, b in zip(starts, ends)]
    names = [short_name(labels[a]) for a in starts]
    for a in starts[1:]:
        (ax.axhline if axis == "y" else ax.axvline)(a - 0.5, color="w", lw=0.4)
    if axis == "y":
        ax.set_yticks(centres, names, fontsize=5)
    else:
        ax.set_xticks(centres, names, fontsize=5, rotation=90)


def plot_cross_prediction(cp: CrossPrediction, ax=None):
    """The correlation matrix: row = predicted neuron, column = the neuron whose model
    predicts, grouped by dataset."""
    ax = ax or new_figure()[1]
    im = ax.imshow(cp.matrix, cmap="viridis", vmin=0, vmax=max(float(np.nanmax(cp.matrix)), 0.1),
                   interpolation="nearest")
    _block_ticks(ax, cp.datasets, "y")
    _block_ticks(ax, cp.datasets, "x")
    ax.set_ylabel("predicted neuron")
    ax.set_xlabel("model fitted to neuron")
    ax.figure.colorbar(im, ax=ax, shrink=0.8, label="correlation")
    return ax



def _label_datasets(ax, names, fontsize):
    """Both axes of a dataset x dataset matrix, labels coloured by cell type."""
    ticks = np.arange(len(names))
    labels = [short_name(n) for n in names]
    ax.set_xticks(ticks, labels, fontsize=fontsize, rotation=90)
    ax.set_yticks(ticks, labels, fontsize=fontsize)
    for label, name in zip(ax.get_xticklabels(), names):
        label.set_color(_colour(name))
    for label, name in zip(ax.get_yticklabels(), names):
        label.set_color(_colour(name))

def plot_distance_matrix(emb: Embedding, ax=None):
    """Dataset x dataset distance (1 - normalised, symmetrised cross-prediction)."""
    ax = ax or new_figure()[1]
    names = emb.predictive_datasets_
    im = ax.imshow(emb.distances_, cmap="magma_r", interpolation="nearest")
    _label_datasets(ax, names, fontsize=6)
    ax.figure.colorbar(im, ax=ax, shrink=0.8, label="distance")
    return ax


def plot_embedding(coordinates: np.ndarray, datasets, ax=None, title: str = "",
                   explained=None):
    """First two coordinates, one labelled point per dataset (blue excitatory, red
    inhibitory)."""
    ax = ax or new_figure()[1]
    coordinates = np.asarray(coordinates)
    y = coordinates[:, 1] if coordinates.shape[1] > 1 else np.zeros(len(coordinates))
    colours = [_colour(d) for d in datasets]
    ax.scatter(coordinates[:, 0], y, c=colours, s=18)
    for (x0, y0), d in zip(np.c_[coordinates[:, 0], y], datasets):
        ax.annotate(short_name(d), (x0, y0), fontsize=6, xytext=(2, 2),
                    textcoords="offset points")
    pc = [f"PC{i + 1}" + (f" ({explained[i]:.0%})" if explained is not None and
                          len(explained) > i else "") for i in range(2)]
    ax.set_xlabel(pc[0])
    ax.set_ylabel(pc[1])
    ax.set_title(title, fontsize=9)
    ax.scatter([], [], c=_EXCITATORY, s=18, label="excitatory")
    ax.scatter([], [], c=_INHIBITORY, s=18, label="inhibitory")
    ax.legend(fontsize=6, loc="best")
    return ax


def plot_properties(emb: Embedding, ax=None):
    """Mean properties per dataset, standardised over datasets (the seed's Subfig. E)."""
    ax = ax or new_figure()[1]
    z = (emb.properties_ - emb.scaler_mean_) / emb.scaler_scale_
    im = ax.imshow(z, cmap="RdBu_r", vmin=-3, vmax=3, aspect="auto", interpolation="nearest")
    ax.set_yticks(np.arange(len(emb.datasets_)), [short_name(d) for d in emb.datasets_],
                  fontsize=6)
    ax.set_xticks(np.arange(len(PROPERTY_NAMES)), PROPERTY_NAMES, fontsize=6, rotation=90)
    ax.figure.colorbar(im, ax=ax, shrink=0.8, label="z-score over datasets")
    return ax


def plot_placements(emb: Embedding, ax=None):
    """Leave-one-dataset-out placements by the chosen regressor (arrow from the
    dataset's true place in the predictive embedding to where its properties put it)."""
    ax = ax or new_figure()[1]
    names = emb.predictive_datasets_
    x = emb.properties_[[emb.datasets_.index(d) for d in names]]
    y = emb.predictive_embedding_
    placed = np.empty_like(y)
    for i in range(len(names)):
        keep = np.arange(len(names)) != i
        placed[i] = make_regressor(emb.regressor_, emb.random_state, len(names) - 1).fit(
            x[keep], y[keep]).predict(x[i:i + 1])[0]
    for i, d in enumerate(names):
        ax.annotate("", placed[i, :2], y[i, :2],
                    arrowprops={"arrowstyle": "->", "color": "0.6", "lw": 0.6})
    plot_embedding(y, names, ax, f"{emb.regressor_}: leave-one-dataset-out placements")
    return ax


def save_figures(emb: Embedding, folder, dpi: int = 110) -> list[Path]:
    """Write the figures as PNG into ``folder``; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    figures = {}
    fig, ax = new_figure(figsize=(5.5, 4.5))
    plot_properties(emb, ax)
    figures["properties.png"] = fig
    fig, ax = new_figure(figsize=(5, 4.5))
    plot_embedding(emb.statistical_embedding_, emb.datasets_, ax, "statistical embedding",
                   emb.statistical_explained_)
    figures["statistical_embedding.png"] = fig
    if emb.has_predictive:
        if getattr(emb, "cross_prediction_", None) is not None:
            fig, ax = new_figure(figsize=(6.5, 5.5))
            plot_cross_prediction(emb.cross_prediction_, ax)
            figures["cross_prediction.png"] = fig
        fig, ax = new_figure(figsize=(5.5, 4.8))
        plot_distance_matrix(emb, ax)
        figures["distance_matrix.png"] = fig
        fig, ax = new_figure(figsize=(5, 4.5))
        plot_embedding(emb.predictive_embedding_, emb.predictive_datasets_, ax,
                       "predictive embedding", emb.predictive_explained_)
        figures["predictive_embedding.png"] = fig
        fig, ax = new_figure(figsize=(5, 4.5))
        plot_placements(emb, ax)
        figures["placements.png"] = fig
    paths = []
    for name, fig in figures.items():
        fig.tight_layout()
        paths.append(save_figure(fig, folder / name, dpi=dpi, force=True, palette=True))
    return paths


def plot_embedding_cosine(model, ax=None, centred: bool = False):
    """The cosine-similarity matrix of the learned dataset embeddings (labels coloured
    blue excitatory, red inhibitory)."""
    ax = ax or new_figure()[1]
    names, matrix = embedding_cosine_similarity(model, centred)
    low = -1.0 if centred else float(np.floor(matrix.min() * 10) / 10)
    im = ax.imshow(matrix, cmap="RdBu_r" if centred else "viridis", vmin=low, vmax=1.0,
                   interpolation="nearest")
    _label_datasets(ax, names, fontsize=5)
    s = indicator_cosine_summary(names, matrix)
    ax.set_title(("centred (minus mean embedding)" if centred else "raw") + "\nmean "
                 f"off-diagonal: same indicator {s['within']:.3f}, different {s['between']:.3f}",
                 fontsize=8)
    ax.figure.colorbar(im, ax=ax, shrink=0.7, label="cosine similarity")
    return ax


def save_embedding_cosine(model="attended", path="docs/figures/embedding/attended_cosine.png",
                          dpi: int = 110) -> Path:
    """Write the raw and centred cosine-similarity matrices of a dataset-conditioned
    model's learned embeddings (a model, or a name/folder for ``load_model``) as PNG."""
    if isinstance(model, str | Path):
        model = load_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = new_figure(1, 2, figsize=(11, 5))
    plot_embedding_cosine(model, axes[0])
    plot_embedding_cosine(model, axes[1], centred=True)
    fig.tight_layout()
    return save_figure(fig, path, dpi=dpi, force=True, palette=True)
