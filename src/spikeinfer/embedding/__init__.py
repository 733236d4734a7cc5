"""Embedding spaces of ground-truth datasets (the Spikefinder "Elephant" seed).

- :func:`compute_properties`: statistical properties of each trace at a common rate;
- :func:`compute_cross_prediction`: a tiny network fitted to each single neuron
  predicts every other (:class:`CrossPrediction`), turned into dataset distances by
  :func:`compute_dataset_distances`;
- :class:`Embedding`: statistical and predictive embeddings of the datasets and a
  regressor between them; :func:`nearest_datasets` places a new recording and names
  the closest ground-truth datasets;
- :func:`embedding_cosine_similarity`: cosine similarity of a dataset-conditioned
  network's learned dataset embeddings (figure: :func:`spikeinfer.plotting.save_embedding_cosine`);
- :func:`adapt_model`: a network fine-tuned on the ground truth nearest to a recording.
"""

from ._embedding import (
    DEFAULT_EMBEDDING,
    REGRESSORS,
    SELECTION_METHODS,
    Embedding,
    compute_dataset_properties,
    evaluate_regressors,
    evaluate_selection,
    load_embedding,
    make_regressor,
    nearest_datasets,
)
from ._adapt import adapt_model, recording_noise_range
from ._attended import embedding_cosine_similarity, indicator_cosine_summary
from ._predictive import (
    CrossPrediction,
    compute_cross_prediction,
    compute_dataset_distances,
    normalise_cross_prediction,
    select_neurons,
)
from ._properties import (
    AUTOCORR_LAGS_S,
    HURST_ORDERS,
    PROPERTY_FPS,
    PROPERTY_NAMES,
    PSD_FREQUENCIES_HZ,
    compute_autocorrelation,
    compute_hurst_exponents,
    compute_properties,
    compute_relative_psd,
)

__all__ = ["AUTOCORR_LAGS_S", "DEFAULT_EMBEDDING", "HURST_ORDERS", "PROPERTY_FPS",
           "PROPERTY_NAMES", "PSD_FREQUENCIES_HZ", "REGRESSORS", "SELECTION_METHODS",
           "CrossPrediction", "Embedding", "adapt_model", "compute_autocorrelation",
           "compute_cross_prediction", "compute_dataset_distances", "compute_dataset_properties",
           "compute_hurst_exponents", "compute_properties", "compute_relative_psd",
           "embedding_cosine_similarity", "evaluate_regressors", "evaluate_selection",
           "indicator_cosine_summary", "load_embedding", "make_regressor", "nearest_datasets",
           "normalise_cross_prediction", "recording_noise_range", "select_neurons"]
