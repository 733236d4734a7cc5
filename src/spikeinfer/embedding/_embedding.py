"""Statistical and predictive embeddings of ground-truth datasets, and the map between them.

The statistical embedding is a PCA of the per-dataset mean properties
(:func:`compute_properties`), standardised. The predictive embedding is a PCA of the
dataset x dataset cross-prediction distance matrix (:func:`compute_dataset_distances`).
A regressor maps a dataset's mean properties to its place in the predictive
embedding, so that a recording without ground truth can be placed there. The
ground-truth datasets nearest to a recording are chosen in whichever space
(predictive embedding, standardised properties, statistical embedding) best picked,
leave-one-dataset-out, the datasets that predict a held-out dataset best
(:func:`evaluate_selection`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from numbers import Integral
from pathlib import Path

import numpy as np
from joblib import Memory
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils._param_validation import Interval, StrOptions

from .. import __version__
from ..data import TraceSet
from ..exceptions import InputError, NotFittedError
from ..io import read_artifact, write_artifact
from ..validation import POSITIVE, check_params
from ._predictive import CrossPrediction, compute_cross_prediction, compute_dataset_distances
from ._properties import MIN_DURATION_S, PROPERTY_FPS, PROPERTY_NAMES, compute_properties

#: Regressors from mean properties (standardised) to the predictive embedding.
REGRESSORS = ("tree", "knn", "forest", "ridge")
#: The fitted embedding shipped with the package (``load_embedding("default")``).
DEFAULT_EMBEDDING = Path(__file__).resolve().parent / "fitted"
_FORMAT = 1


def make_regressor(name: str, random_state: int = 0, n_samples: int | None = None):
    """A scikit-learn pipeline: StandardScaler, then the regressor ``name``
    (``"tree"``: DecisionTreeRegressor, ``"knn"``: 3 nearest neighbours (at most
    ``n_samples``, the size of the training set) weighted by distance, ``"forest"``: RandomForestRegressor, ``"ridge"``: Ridge, ``"mean"``: the
    mean of the training targets, a baseline)."""
    makers = {
        "tree": lambda: DecisionTreeRegressor(min_samples_leaf=2, random_state=random_state),
        "knn": lambda: KNeighborsRegressor(n_neighbors=min(3, n_samples or 3),
                                            weights="distance"),
        "forest": lambda: RandomForestRegressor(n_estimators=200, min_samples_leaf=2,
                                                random_state=random_state),
        "ridge": lambda: Ridge(alpha=10.0),
        "mean": lambda: DummyRegressor(strategy="mean"),
    }
    if name not in makers:
        raise InputError(f"unknown regressor {name!r}; choose from {', '.join(makers)}")
    return make_pipeline(StandardScaler(), makers[name]())


def compute_dataset_properties(data: Sequence[TraceSet]) -> tuple[list[str], np.ndarray,
                                                                   np.ndarray]:
    """Mean properties over each dataset's neurons (recordings too short are skipped;
    a property a recording cannot have, such as power above its Nyquist frequency, is
    averaged over the others).

    Returns (sorted dataset names, ndarray (n_datasets, n_properties), number of
    recordings averaged per dataset). A property no recording of a dataset has is NaN.
    """
    rows: dict[str, list[np.ndarray]] = {}
    for ts in data:
        rows.setdefault(ts.dataset, []).append(compute_properties(ts.traces, ts.fps))
    names = sorted(rows)
    means, counts = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        for name in names:
            values = np.concatenate(rows[name])
            values = values[np.isfinite(values[:, 0])]
            means.append(np.nanmean(values, axis=0) if len(values) else
                         np.full(len(PROPERTY_NAMES), np.nan))
            counts.append(len(values))
    return names, np.array(means), np.array(counts)


def _impute(x: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """NaN entries of each column replaced by that column's ``fill``."""
    return np.where(np.isnan(x), fill, x)


def _pca(x: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """(mean, components, explained variance ratio, coordinates) of scikit-learn's PCA,
    signs fixed so that each component's largest loading is positive (reproducible)."""
    pca = PCA(n_components=min(n_components, *x.shape), svd_solver="full").fit(x)
    components = pca.components_
    k = len(components)
    signs = np.sign(components[np.arange(k), np.argmax(np.abs(components), axis=1)])
    components = components * signs[:, None]
    return pca.mean_, components, pca.explained_variance_ratio_, (x - pca.mean_) @ components.T


def evaluate_regressors(properties: np.ndarray, coordinates: np.ndarray,
                        distances: np.ndarray | None = None,
                        names: Sequence[str] = (*REGRESSORS, "mean"), k: int = 3,
                        random_state: int = 0) -> dict[str, dict[str, float]]:
    """Leave-one-dataset-out scores of regressors from mean properties to coordinates.

    For each dataset in turn, a regressor fitted on the others places it. ``error`` is
    the mean Euclidean distance of the placement to the dataset's true coordinates
    (in the units of the embedding). With ``distances`` (the dataset x dataset
    cross-prediction distances), ``hit`` is the fraction of datasets whose best
    predictor (the other dataset at the smallest distance) is among the ``k``
    datasets nearest to the placement, and ``regret`` the mean of (distance of the
    best of those ``k`` - distance of the best predictor): what choosing by the
    placement costs in normalised cross-prediction (0 is perfect).
    """
    n = len(properties)
    out = {}
    for name in names:
        placed = np.empty_like(coordinates)
        for i in range(n):
            train = np.arange(n) != i
            model = make_regressor(name, random_state, n - 1).fit(properties[train],
                                                                  coordinates[train])
            placed[i] = model.predict(properties[i:i + 1])[0]
        scores = {"error": float(np.mean(np.linalg.norm(placed - coordinates, axis=1)))}
        if distances is not None:
            hits, regrets = [], []
            for i in range(n):
                others = np.flatnonzero(np.arange(n) != i)
                best = others[np.argmin(distances[i, others])]
                near = others[np.argsort(np.linalg.norm(coordinates[others] - placed[i],
                                                        axis=1))[:k]]
                hits.append(best in near)
                regrets.append(distances[i, near].min() - distances[i, best])
            scores["hit"] = float(np.mean(hits))
            scores["regret"] = float(np.mean(regrets))
        out[name] = scores
    return out


#: Ways of choosing the ground-truth datasets nearest to a recording.
SELECTION_METHODS = ("predictive", "properties", "statistical")


def _selection_scores(distances: np.ndarray, chosen: Sequence[np.ndarray]) -> dict[str, float]:
    """``hit``: how often dataset i's best predictor is among ``chosen[i]``; ``regret``:
    mean distance of the best chosen minus that of the best predictor."""
    n = len(distances)
    hits, regrets = [], []
    for i in range(n):
        others = np.flatnonzero(np.arange(n) != i)
        best = others[np.argmin(distances[i, others])]
        hits.append(best in chosen[i])
        regrets.append(distances[i, chosen[i]].min() - distances[i, best])
    return {"hit": float(np.mean(hits)), "regret": float(np.mean(regrets))}


def evaluate_selection(properties: np.ndarray, coordinates: np.ndarray, distances: np.ndarray,
                       regressor: str, n_components: int = 2, k: int = 3,
                       random_state: int = 0) -> dict[str, dict[str, float]]:
    """Leave-one-dataset-out: how well each method picks, for a dataset it has not seen,
    the ``k`` datasets that predict it best (scores of :func:`evaluate_regressors`).

    Methods (everything refitted without the held-out dataset): ``"predictive"``
    places it with ``regressor`` in the predictive embedding and takes the nearest
    datasets there; ``"properties"`` takes the nearest in standardised mean-property
    space; ``"statistical"`` the nearest in the statistical embedding (PCA of those);
    ``"random"`` is the expectation for ``k`` datasets drawn at random.
    """
    n = len(properties)
    k = min(k, n - 1)
    chosen: dict[str, list[np.ndarray]] = {m: [] for m in SELECTION_METHODS}
    for i in range(n):
        others = np.flatnonzero(np.arange(n) != i)
        model = make_regressor(regressor, random_state, n - 1).fit(properties[others],
                                                                   coordinates[others])
        placed = model.predict(properties[i:i + 1])[0]
        scale = properties[others].std(axis=0)
        z = (properties - properties[others].mean(axis=0)) / np.where(scale > 0, scale, 1.0)
        mean, components, _, stat = _pca(z[others], n_components)
        point = (z[i] - mean) @ components.T
        for method, dist in (("predictive", np.linalg.norm(coordinates[others] - placed, axis=1)),
                             ("properties", np.linalg.norm(z[others] - z[i], axis=1)),
                             ("statistical", np.linalg.norm(stat - point, axis=1))):
            chosen[method].append(others[np.argsort(dist)[:k]])
    out = {m: _selection_scores(distances, c) for m, c in chosen.items()}
    rng = np.random.default_rng(random_state)
    draws = [_selection_scores(distances, [rng.choice(np.flatnonzero(np.arange(n) != i), k,
                                                      replace=False) for i in range(n)])
             for _ in range(200)]
    out["random"] = {m: float(np.mean([d[m] for d in draws])) for m in ("hit", "regret")}
    return out


class Embedding(BaseEstimator):
    """Where ground-truth datasets lie, statistically and by how well they predict each
    other, and a map from the first to the second (the seed's embedding spaces).

    Parameters
    ----------
    n_components : int, default=2
        Dimensions of both embeddings.
    predictive : bool, default=True
        Also fit the predictive embedding (minutes: one small network per selected
        neuron); False keeps the statistical part only (seconds), and places new
        recordings in the statistical embedding.
    neurons_per_dataset : int, default=4
        Neurons per dataset in the cross-prediction.
    regressor : {"auto", "tree", "knn", "forest", "ridge"}, default="auto"
        Map from mean properties to the predictive embedding; "auto" takes the one with
        the smallest leave-one-dataset-out error (:func:`evaluate_regressors`).
    selection : {"auto", "predictive", "properties", "statistical"}, default="auto"
        How :meth:`nearest_datasets` chooses: nearest in the predictive embedding
        (through the regressor), in standardised mean-property space, or in the
        statistical embedding (:func:`evaluate_selection`). "auto" takes the one that
        best picks the datasets predicting a held-out dataset best (smallest
        leave-one-dataset-out regret); without the predictive part, "properties".
    budget_s : float, default=None
        Time limit of the cross-prediction's training.
    random_state : int, default=0

    Attributes
    ----------
    datasets_ : list of str
    properties_ : ndarray of shape (n_datasets, n_properties)
        Mean properties (:data:`PROPERTY_NAMES`) per dataset.
    statistical_embedding_ : ndarray of shape (n_datasets, n_components)
    predictive_datasets_ : list of str
        Datasets with enough ground truth for the cross-prediction.
    distances_ : ndarray of shape (n_predictive, n_predictive)
    predictive_embedding_ : ndarray of shape (n_predictive, n_components)
    regressor_ : str
    regressor_scores_ : dict
        Leave-one-dataset-out scores of every candidate regressor.
    selection_ : str
        The method :meth:`nearest_datasets` uses.
    selection_scores_ : dict
        Leave-one-dataset-out scores of every selection method (with the predictive part).

    Examples
    --------
    >>> from dataclasses import replace
    >>> from spikeinfer.simulate import simulate_recording
    >>> data = [replace(simulate_recording(3, 60, 30, indicator=name, random_state=0),
    ...                 dataset=name) for name in ("GCaMP6s", "OGB-1", "GCaMP8f")]
    >>> emb = Embedding(predictive=False).fit(data)
    >>> emb.nearest_datasets(data[1].traces, data[1].fps, k=1)
    ['OGB-1']
    """

    def __init__(self, n_components: int = 2, predictive: bool = True,
                 neurons_per_dataset: int = 4, regressor: str = "auto",
                 selection: str = "auto", budget_s: float | None = None,
                 random_state: int = 0):
        self.n_components = n_components
        self.predictive = predictive
        self.neurons_per_dataset = neurons_per_dataset
        self.regressor = regressor
        self.selection = selection
        self.budget_s = budget_s
        self.random_state = random_state

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "predictive": ["boolean"],
        "neurons_per_dataset": [Interval(Integral, 2, None, closed="left")],
        "regressor": [StrOptions({"auto", *REGRESSORS})],
        "selection": [StrOptions({"auto", *SELECTION_METHODS})],
        "budget_s": [POSITIVE, None], "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    # -- fitting ------------------------------------------------------------------

    def fit(self, data: Sequence[TraceSet], cross_prediction: CrossPrediction | None = None,
            memory=None) -> Embedding:
        """Fit on ground-truth recordings (any rates); returns self.

        ``cross_prediction`` (e.g. ``CrossPrediction.load(...).subset(datasets)``)
        is used instead of computing one; its datasets must be among ``data``'s.
        ``memory`` (a ``joblib.Memory`` or a folder for one) caches the
        cross-prediction by its inputs, so that a refit with the same data and
        parameters takes seconds.
        """
        check_params(self.get_params(), self._parameter_constraints, type(self).__name__)
        data = [data] if isinstance(data, TraceSet) else list(data)
        names, props, counts = compute_dataset_properties(data)
        if self.predictive and cross_prediction is None:
            with_gt = [ts for ts in data if ts.has_ground_truth]
            compute = (compute_cross_prediction if memory is None else
                       _as_memory(memory).cache(compute_cross_prediction))
            cross_prediction = compute(with_gt, self.neurons_per_dataset,
                                       budget_s=self.budget_s, random_state=self.random_state)
        return self._fit_from(names, props, counts,
                              cross_prediction if self.predictive else None)

    def subset(self, datasets: Sequence[str]) -> Embedding:
        """A new embedding fitted on these datasets only, from the stored mean properties
        and cross-prediction (nothing recomputed: for cross-validation folds)."""
        self._check_fitted()
        datasets = set(datasets)
        unknown = datasets - set(self.datasets_)
        if unknown:
            raise InputError(f"datasets not in this embedding: {', '.join(sorted(unknown))}")
        cp = None
        if self.has_predictive:
            if getattr(self, "cross_prediction_", None) is None:
                raise InputError("no cross_prediction.npz beside this embedding; the predictive "
                                 "part cannot be refitted")
            cp = self.cross_prediction_.subset(datasets)
        keep = [i for i, d in enumerate(self.datasets_) if d in datasets]
        emb = Embedding(**{**self.get_params(), "predictive": cp is not None})
        return emb._fit_from([self.datasets_[i] for i in keep], self.properties_[keep],
                             np.asarray(self.n_recordings_)[keep], cp)

    def _fit_from(self, names: list[str], props: np.ndarray, counts: np.ndarray,
                  cross_prediction: CrossPrediction | None) -> Embedding:
        usable = np.asarray(counts) > 0
        if usable.sum() < 2:
            raise InputError(f"{int(usable.sum())} datasets with traces of at least "
                             f"{MIN_DURATION_S:g} s; an embedding needs two or more")
        self.datasets_ = [n for n, u in zip(names, usable) if u]
        self.properties_ = _impute(props[usable], np.nanmean(props[usable], axis=0))
        self.n_recordings_ = np.asarray(counts)[usable].tolist()
        self.scaler_mean_ = self.properties_.mean(axis=0)
        self.scaler_scale_ = self.properties_.std(axis=0)
        self.scaler_scale_[self.scaler_scale_ == 0] = 1.0
        (self.statistical_mean_, self.statistical_components_, self.statistical_explained_,
         self.statistical_embedding_) = _pca(self._standardise(self.properties_),
                                             self.n_components)
        self.predictive_datasets_ = None
        self.selection_ = "properties" if self.selection in ("auto", "predictive") else \
            self.selection
        if cross_prediction is None:
            return self
        unknown = set(cross_prediction.datasets) - set(self.datasets_)
        if unknown:
            raise InputError(f"cross-prediction holds datasets not in the data: "
                             f"{', '.join(sorted(unknown))}")
        self.cross_prediction_ = cross_prediction
        self.cross_prediction_params_ = cross_prediction.params
        pnames, self.distances_ = compute_dataset_distances(cross_prediction.matrix,
                                                            cross_prediction.datasets)
        if len(pnames) < 3:
            raise InputError(f"{len(pnames)} datasets in the cross-prediction; the predictive "
                             "embedding needs three or more")
        self.predictive_datasets_ = pnames
        (self.predictive_mean_, self.predictive_components_, self.predictive_explained_,
         self.predictive_embedding_) = _pca(self.distances_, self.n_components)
        x = self._predictive_properties()
        self.regressor_scores_ = evaluate_regressors(x, self.predictive_embedding_,
                                                     self.distances_,
                                                     random_state=self.random_state)
        self.regressor_ = (min(REGRESSORS, key=lambda r: self.regressor_scores_[r]["error"])
                           if self.regressor == "auto" else self.regressor)
        self._fit_regressor()
        self.selection_scores_ = evaluate_selection(
            x, self.predictive_embedding_, self.distances_, self.regressor_, self.n_components,
            random_state=self.random_state)
        self.selection_ = (min(SELECTION_METHODS,
                               key=lambda m: self.selection_scores_[m]["regret"])
                           if self.selection == "auto" else self.selection)
        return self

    def _predictive_properties(self) -> np.ndarray:
        return self.properties_[[self.datasets_.index(d) for d in self.predictive_datasets_]]

    def _fit_regressor(self) -> None:
        x = self._predictive_properties()
        self.regressor_model_ = make_regressor(self.regressor_, self.random_state, len(x)).fit(
            x, self.predictive_embedding_)

    def _standardise(self, props: np.ndarray) -> np.ndarray:
        return (props - self.scaler_mean_) / self.scaler_scale_

    def _check_fitted(self) -> None:
        if not hasattr(self, "properties_"):
            raise NotFittedError("this Embedding is not fitted; call fit(data) or "
                                 "load_embedding(folder) first")

    # -- placing new recordings ------------------------------------------------------

    @property
    def has_predictive(self) -> bool:
        return getattr(self, "predictive_datasets_", None) is not None

    def compute_mean_properties(self, traces: np.ndarray, fps: float) -> np.ndarray:
        """Mean properties over a recording's neurons; InputError if none is usable."""
        self._check_fitted()
        props = compute_properties(traces, fps)
        props = props[np.isfinite(props[:, 0])]
        if len(props) == 0:
            raise InputError(f"no trace has {MIN_DURATION_S:g} s of finite, non-constant "
                             "frames; cannot compute its statistical properties")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            mean = np.nanmean(props, axis=0)
        if np.isnan(mean).any():
            missing = [n for n, m in zip(PROPERTY_NAMES, mean) if np.isnan(m)]
            warnings.warn(f"at {fps:g} Hz the recording has no {', '.join(missing)}; the "
                          "ground truth's mean is taken instead", UserWarning, stacklevel=3)
        return _impute(mean[None], self.scaler_mean_)[0]

    def transform_statistical(self, properties: np.ndarray) -> np.ndarray:
        """Mean properties (n, n_properties) -> statistical embedding (n, n_components)."""
        self._check_fitted()
        z = self._standardise(np.atleast_2d(properties))
        return (z - self.statistical_mean_) @ self.statistical_components_.T

    def place(self, traces: np.ndarray, fps: float, method: str | None = None) -> np.ndarray:
        """A recording's place: in the predictive embedding (``method="predictive"``,
        through the regressor; needs the predictive part), the statistical embedding
        (``"statistical"``), or standardised mean-property space (``"properties"``);
        None uses :attr:`selection_`."""
        self._check_fitted()
        return self._place(self.compute_mean_properties(traces, fps), method or self.selection_)

    def _place(self, props: np.ndarray, method: str) -> np.ndarray:
        if method == "predictive":
            if not self.has_predictive:
                raise InputError("this embedding was fitted without its predictive part; "
                                 "use method 'properties' or 'statistical'")
            return self.regressor_model_.predict(props[None])[0]
        if method == "statistical":
            return self.transform_statistical(props[None])[0]
        if method == "properties":
            return self._standardise(props)
        raise InputError(f"method must be one of {', '.join(SELECTION_METHODS)}, got {method!r}")

    def _reference(self, method: str) -> tuple[list[str], np.ndarray]:
        if method == "predictive":
            return self.predictive_datasets_, self.predictive_embedding_
        if method == "statistical":
            return self.datasets_, self.statistical_embedding_
        return self.datasets_, self._standardise(self.properties_)

    def distances_to_datasets(self, traces: np.ndarray, fps: float,
                              method: str | None = None) -> dict[str, float]:
        """Euclidean distance of the recording to every dataset, nearest first, in the
        space of ``method`` (default: :attr:`selection_`, see ``selection``)."""
        self._check_fitted()
        method = method or self.selection_
        point = self.place(traces, fps, method)
        names, coords = self._reference(method)
        dist = np.linalg.norm(coords - point, axis=1)
        return {names[i]: float(dist[i]) for i in np.argsort(dist)}

    def nearest_datasets(self, traces: np.ndarray, fps: float, k: int = 3,
                         method: str | None = None) -> list[str]:
        """The ``k`` ground-truth datasets nearest to the recording (see
        :meth:`distances_to_datasets`)."""
        if not (isinstance(k, int | np.integer) and k >= 1):
            raise InputError(f"k must be a positive integer, got {k!r}")
        return list(self.distances_to_datasets(traces, fps, method))[:k]

    # -- saving -------------------------------------------------------------------

    def save(self, folder, force: bool = False, info: dict | None = None) -> Path:
        """Write the artifact ``model.json`` (kind ``embedding``; and
        ``cross_prediction.npz`` when there is one) into ``folder``; no pickles. The
        regressor is refitted on loading from the stored properties and coordinates
        (milliseconds, deterministic). ``info`` (e.g. the command and its wall time) is
        stored as it is under ``"info"``."""
        self._check_fitted()
        folder = Path(folder)
        if (folder / "model.json").exists() and not force:
            raise InputError(f"{folder / 'model.json'}: already exists; pass --force to overwrite")
        doc = {"kind": "embedding", "format": _FORMAT, "spikeinfer_version": __version__,
               "params": self.get_params(), "info": info or {}, "selection": self.selection_,
               "property_names": list(PROPERTY_NAMES),
               "property_fps": PROPERTY_FPS, "datasets": self.datasets_,
               "n_recordings": self.n_recordings_, "properties": self.properties_.tolist(),
               "scaler_mean": self.scaler_mean_.tolist(),
               "scaler_scale": self.scaler_scale_.tolist(),
               "statistical": {"mean": self.statistical_mean_.tolist(),
                               "components": self.statistical_components_.tolist(),
                               "explained_variance_ratio": self.statistical_explained_.tolist(),
                               "coordinates": self.statistical_embedding_.tolist()}}
        if self.has_predictive:
            doc["predictive"] = {
                "datasets": self.predictive_datasets_, "distances": self.distances_.tolist(),
                "mean": self.predictive_mean_.tolist(),
                "components": self.predictive_components_.tolist(),
                "explained_variance_ratio": self.predictive_explained_.tolist(),
                "coordinates": self.predictive_embedding_.tolist(),
                "regressor": self.regressor_, "regressor_scores": self.regressor_scores_,
                "selection_scores": self.selection_scores_,
                "cross_prediction_params": self.cross_prediction_params_}
            if getattr(self, "cross_prediction_", None) is not None:
                folder.mkdir(parents=True, exist_ok=True)
                self.cross_prediction_.save(folder / "cross_prediction.npz")
        return write_artifact(folder, doc)

    @classmethod
    def load(cls, folder) -> Embedding:
        """Read an embedding written by :meth:`save`."""
        folder = Path(folder)
        path = folder / "model.json"
        if not path.exists():
            raise InputError(f"{folder}: no model.json; fit an embedding with "
                             "'spikeinfer embedding fit'")
        doc, _ = read_artifact(folder, "embedding")
        try:
            if doc.get("format") != _FORMAT:
                raise InputError(f"{path}: embedding format {doc.get('format')!r}, "
                                 f"expected {_FORMAT}")
            if doc["property_names"] != list(PROPERTY_NAMES) or doc["property_fps"] != PROPERTY_FPS:
                raise InputError(f"{path}: computed with other statistical properties; refit it")
            emb = cls(**doc["params"])
            emb.datasets_ = list(doc["datasets"])
            emb.n_recordings_ = list(doc["n_recordings"])
            emb.properties_ = np.array(doc["properties"], dtype=np.float64)
            emb.scaler_mean_ = np.array(doc["scaler_mean"], dtype=np.float64)
            emb.scaler_scale_ = np.array(doc["scaler_scale"], dtype=np.float64)
            stat = doc["statistical"]
            emb.statistical_mean_ = np.array(stat["mean"], dtype=np.float64)
            emb.statistical_components_ = np.array(stat["components"], dtype=np.float64)
            emb.statistical_explained_ = np.array(stat["explained_variance_ratio"])
            emb.statistical_embedding_ = np.array(stat["coordinates"], dtype=np.float64)
            emb.predictive_datasets_ = None
            emb.selection_ = doc["selection"]
            if "predictive" in doc:
                pred = doc["predictive"]
                emb.predictive_datasets_ = list(pred["datasets"])
                emb.distances_ = np.array(pred["distances"], dtype=np.float64)
                emb.predictive_mean_ = np.array(pred["mean"], dtype=np.float64)
                emb.predictive_components_ = np.array(pred["components"], dtype=np.float64)
                emb.predictive_explained_ = np.array(pred["explained_variance_ratio"])
                emb.predictive_embedding_ = np.array(pred["coordinates"], dtype=np.float64)
                emb.regressor_ = pred["regressor"]
                emb.regressor_scores_ = pred["regressor_scores"]
                emb.selection_scores_ = pred["selection_scores"]
                emb.cross_prediction_params_ = pred["cross_prediction_params"]
                npz = folder / "cross_prediction.npz"
                emb.cross_prediction_ = CrossPrediction.load(npz) if npz.exists() else None
                emb._fit_regressor()
        except (KeyError, TypeError, ValueError) as err:
            if isinstance(err, InputError):
                raise
            raise InputError(f"{path}: not a valid embedding ({type(err).__name__}: {err})"
                             ) from None
        return emb


def load_embedding(folder="default") -> Embedding:
    """An embedding saved by :meth:`Embedding.save`, or ``"default"``: the one fitted on
    all ground truth and shipped with the package."""
    return Embedding.load(DEFAULT_EMBEDDING if str(folder) == "default" else folder)


def nearest_datasets(traces: np.ndarray, fps: float, k: int = 3,
                     embedding: Embedding | str | Path = "default",
                     method: str | None = None) -> list[str]:
    """The ``k`` ground-truth datasets nearest to a recording, by the embedding's
    selection method (measured best: see :func:`evaluate_selection`) or ``method``
    ("predictive", "properties", "statistical").

    Parameters
    ----------
    traces : ndarray of shape (n_neurons, n_frames)
        dF/F of the new recording; NaN padding allowed; at least one trace of 16 s.
    fps : float
        Frame rate in Hz.
    k : int, default=3
    embedding : Embedding, path or "default", default="default"
    method : str, default=None
        None uses ``embedding.selection_``.

    Returns
    -------
    list of str, nearest first.
    """
    if not isinstance(embedding, Embedding):
        embedding = load_embedding(embedding)
    return embedding.nearest_datasets(traces, fps, k, method)


def _as_memory(memory) -> Memory:
    """A ``joblib.Memory``: ``memory`` itself, or one caching in the folder ``memory``."""
    return memory if isinstance(memory, Memory) else Memory(str(memory), verbose=0)
