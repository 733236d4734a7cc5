"""The attended network's learned dataset embeddings (seed 002): how alike the
networks' per-dataset weights are, within and between indicators."""

from __future__ import annotations

import numpy as np

from ..io import dataset_indicator


def embedding_cosine_similarity(model, centred: bool = False) -> tuple[list[str], np.ndarray]:
    """Cosine similarity between a dataset-conditioned network's learned per-dataset
    embeddings (the attended network's ``embedding`` table): ``(dataset_names_,
    matrix)``. ``centred`` subtracts the mean embedding (the unseen-dataset fallback)
    first, so that the shared part does not dominate."""
    table = getattr(getattr(model, "net_", None), "embedding", None)
    if table is None:
        raise TypeError("the model has no learned dataset embedding (an attended network)")
    w = table.weight.detach().cpu().double().numpy()
    if centred:
        w = w - w.mean(axis=0)
    norm = np.linalg.norm(w, axis=1, keepdims=True)
    unit = w / np.where(norm > 0, norm, 1.0)
    matrix = np.clip(unit @ unit.T, -1.0, 1.0)
    np.fill_diagonal(matrix, 1.0)
    return list(model.dataset_names_), matrix


def indicator_cosine_summary(names, matrix: np.ndarray) -> dict:
    """Mean off-diagonal cosine between datasets of the same indicator and of different
    indicators (datasets without a known indicator left out)."""
    indicators = [dataset_indicator(n) for n in names]
    within, between = [], []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if indicators[i] is None or indicators[j] is None:
                continue
            (within if indicators[i] == indicators[j] else between).append(matrix[i, j])
    return {"within": float(np.mean(within)) if within else None, "n_within": len(within),
            "between": float(np.mean(between)) if between else None,
            "n_between": len(between)}
