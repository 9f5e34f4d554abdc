"""Fitting of the matcher's adapter (language directions to remove, a ridge map for queries) on ESCO labels.

Training pairs are labels of the same concept in different languages, so the adapter learns what
separates languages and how a label relates to the rest of its concept. The evaluation cross-fits it:
trained on one half of the concepts, measured on the other.
"""
from __future__ import annotations

import numpy as np

from kb.esco.scoring import Adapter, Method, _unit, kind_index
from kb.esco.vectors import KINDS, LabelVectors


def fit_adapter(index: LabelVectors, kind: str, count: int, method: Method, train: np.ndarray,
                directions: int = 8, ridge: float | None = 1.0) -> Adapter:
    """Fit on the concepts where ``train`` (bool per concept) is true; ``ridge=None``: no query map."""
    own = index.kind == KINDS.index(kind)
    keep = np.zeros(len(index.concept), dtype=bool)
    keep[own] = train[index.concept[own]]
    prepared = kind_index(index, kind, count, method, keep=keep)
    labels, concept, lang = prepared.labels, prepared.label_concept, prepared.label_lang
    basis = np.zeros((0, labels.shape[1]), dtype=np.float32)
    if directions:
        basis = _language_directions(labels, concept, lang, directions)
    adapter = Adapter(basis)
    if ridge is None:
        return adapter
    projected = adapter.project(labels)
    sums = np.zeros((count, labels.shape[1]), dtype=np.float64)
    np.add.at(sums, concept, projected)
    sizes = np.bincount(concept, minlength=count)
    alone = sizes[concept] < 2
    targets = _unit((sums[concept] - projected) / np.maximum(sizes[concept] - 1, 1)[:, None])
    x, y = projected[~alone].astype(np.float64), targets[~alone]
    dim = x.shape[1]
    weight = ridge * len(x) / dim
    query_map = np.linalg.solve(x.T @ x + weight * np.eye(dim), x.T @ y + weight * np.eye(dim))
    return Adapter(basis, query_map.astype(np.float32))


def _language_directions(labels: np.ndarray, concept: np.ndarray, lang: np.ndarray, count: int) -> np.ndarray:
    """Top principal directions of (language mean - other language mean) differences within concepts."""
    languages = np.unique(lang)
    means = {}
    for language in languages:
        rows = lang == language
        sums = np.zeros((int(concept.max()) + 1, labels.shape[1]))
        np.add.at(sums, concept[rows], labels[rows])
        sizes = np.bincount(concept[rows], minlength=len(sums))
        means[language] = (sums / np.maximum(sizes, 1)[:, None], sizes > 0)
    differences = []
    for first in languages:
        for second in languages:
            if first < second:
                both = means[first][1] & means[second][1]
                differences.append(means[first][0][both] - means[second][0][both])
    stacked = np.vstack(differences)
    _, _, vt = np.linalg.svd(stacked - stacked.mean(axis=0), full_matrices=False)
    return vt[:count].astype(np.float32)
