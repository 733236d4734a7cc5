"""What the shipped attended network learned per dataset: the figures of
docs/embedding.md's "The learned dataset embeddings".

Prints the range of the raw cosines and of the weights, how far the vectors lie from
their mean (the unseen-dataset fallback), the mean cosine between datasets of the same
and of different indicators (raw and centred) with a permutation p-value of their
difference (indicator labels shuffled), and the centred cosine within and across the
excitatory and inhibitory classes; then redraws the figure.

    OMP_NUM_THREADS=1 python experiments/attended_embedding/attended_embedding.py [--model attended]
"""

from __future__ import annotations

import argparse

import numpy as np

from spikeinfer.embedding import embedding_cosine_similarity, indicator_cosine_summary
from spikeinfer.evaluation.groundtruth import is_inhibitory
from spikeinfer.io import dataset_indicator
from spikeinfer.models import load_model
from spikeinfer.plotting.embedding import save_embedding_cosine


def same_minus_different(indicators: list, matrix: np.ndarray) -> float:
    i, j = np.triu_indices(len(indicators), 1)
    same = np.array([indicators[a] == indicators[b] for a, b in zip(i, j)])
    return matrix[i, j][same].mean() - matrix[i, j][~same].mean()


def permutation_p(names, matrix, n_permutations=5000, seed=0) -> float:
    """Two-sided p of the same-minus-different cosine under shuffled indicator labels."""
    keep = [k for k, n in enumerate(names) if dataset_indicator(n) is not None]
    labels = [dataset_indicator(names[k]) for k in keep]
    sub = matrix[np.ix_(keep, keep)]
    observed = same_minus_different(labels, sub)
    rng = np.random.default_rng(seed)
    null = [same_minus_different(list(rng.permutation(labels)), sub)
            for _ in range(n_permutations)]
    return float(np.mean(np.abs(null) >= abs(observed)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="attended")
    parser.add_argument("--figure", default="docs/figures/embedding/attended_cosine.png")
    args = parser.parse_args()
    model = load_model(args.model)
    w = model.net_.embedding.weight.detach().double().numpy()
    print(f"{len(w)} datasets x {w.shape[1]} filters; best step "
          f"{model.training_['best_step']}; weights {w.min():.2f} to {w.max():.2f}; "
          f"mean distance from the mean vector {np.linalg.norm(w - w.mean(0), axis=1).mean():.2f}"
          f", mean norm {np.linalg.norm(w, axis=1).mean():.2f}")
    for centred in (False, True):
        names, cos = embedding_cosine_similarity(model, centred=centred)
        off = cos[np.triu_indices(len(names), 1)]
        s = indicator_cosine_summary(names, cos)
        print(f"{'centred' if centred else 'raw'}: cosine {off.min():.3f} to {off.max():.3f}; "
              f"same indicator {s['within']:.3f} ({s['n_within']} pairs), different "
              f"{s['between']:.3f} ({s['n_between']}); permutation p "
              f"{permutation_p(names, cos):.2f}")
    names, cos = embedding_cosine_similarity(model, centred=True)
    inh = np.array([is_inhibitory(n) for n in names])
    i, j = np.triu_indices(len(names), 1)
    within = inh[i] == inh[j]
    print(f"centred, by cell class: within {cos[i, j][within].mean():.2f}, across "
          f"{cos[i, j][~within].mean():.2f}, among inhibitory "
          f"{cos[i, j][inh[i] & inh[j]].mean():.2f}")
    print("written", save_embedding_cosine(model, args.figure))


if __name__ == "__main__":
    main()
