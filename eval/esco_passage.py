"""Ingest's passage vectors against ESCO's query-prefixed label vectors: a map from one to the other.

Ingest embeds duties and skills with e5's ``passage:`` prefix (for search) and links them to ESCO with those
same vectors, while the label vectors and the calibration were made with ``query:``. Passage vectors score
about 0.1 lower against every label, so the calibrated matcher declines most links. Re-embedding every item
as a query would add model time to ingest; instead a ridge map (384 x 384, one matrix product) is learned
from ESCO labels embedded both ways, cross-fitted on halves of the concepts (``python -m eval.esco --passage``)
and, fitted on all of them, shipped as ``kb/esco/passage_map.npy`` (``python -m eval.esco_passage``).
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np

from kb.esco.calibrate import Calibration
from kb.esco.embedcache import embed_texts
from kb.esco.match import PASSAGE_MAP_FILE
from kb.esco.vectors import IndexRow

TRAINING_LABELS = 6000
RIDGE = 0.1


def training_rows(rows: list[IndexRow], halves: np.ndarray | None, fold: int | None, seed: int = 3,
                  size: int = TRAINING_LABELS) -> list[int]:
    """Label rows (no descriptions) to learn the map from, only concepts of ``fold`` where given."""
    chosen = [n for n, row in enumerate(rows) if row.field != 2
              and (fold is None or halves[row.kind][row.concept] == fold)]
    return sorted(random.Random(seed).sample(chosen, min(size, len(chosen))))


def fit_passage_map(passages: np.ndarray, targets: np.ndarray, ridge: float = RIDGE) -> np.ndarray:
    """W minimizing |P W - Q|^2 + ridge * n/dim * |W - I|^2 (shrunk towards leaving vectors as they are)."""
    x, y = passages.astype(np.float64), targets.astype(np.float64)
    dim = x.shape[1]
    weight = ridge * len(x) / dim
    return np.linalg.solve(x.T @ x + weight * np.eye(dim), x.T @ y + weight * np.eye(dim)).astype(np.float32)


def apply_map(vectors: np.ndarray, passage_map: np.ndarray) -> np.ndarray:
    """Mapped, renormalized vectors."""
    mapped = vectors @ passage_map
    return mapped / np.maximum(np.linalg.norm(mapped, axis=1, keepdims=True), 1e-12)


def link_figures(scores: np.ndarray, truth: np.ndarray, calibration: Calibration) -> dict[str, float]:
    """Under the shipped calibration: the share of queries linked to the right concept, and to a wrong one."""
    top = -np.sort(-scores, axis=1)[:, :11]
    top = np.where(np.isfinite(top), top, -1.0)
    linked = calibration.probabilities(top)[:, 0] >= calibration.threshold
    right = np.argmax(scores, axis=1) == truth
    return {"linked_right": float((linked & right).mean()), "linked_wrong": float((linked & ~right).mean())}


PASSAGE_SETS = ("a-sv", "a-pl", "b-pl-body", "c-sv", "c-pl")


def passage_report(data, rows: list[IndexRow], index, queries: list, query_vectors: np.ndarray,
                   cache: Path) -> dict[str, dict[str, dict[str, float]]]:
    """The shipped method and calibration on query: vectors, on passage: vectors and on mapped passage: vectors
    (the map cross-fitted: learned on labels of the other half of the concepts); prints a table."""
    from eval.esco import concept_half, exclusions, metrics, ranks
    from kb.esco.match import MatcherConfig
    from kb.esco.scoring import concept_scores, kind_index

    config = MatcherConfig.load()
    chosen = [n for n, query in enumerate(queries) if query.set_name in PASSAGE_SETS]
    subset = [queries[n] for n in chosen]
    passages = embed_texts([query.text for query in subset], "passage", cache_dir=cache)
    halves = [np.array([concept_half(kind, c) for c in range(len(concepts))])
              for kind, concepts in (("occupation", data.occupations), ("skill", data.skills))]
    train = np.array(training_rows(rows, None, None))
    train_passages = embed_texts([rows[n].text for n in train], "passage", cache_dir=cache)
    fold_of = np.array([halves[rows[n].kind][rows[n].concept] for n in train])
    maps = [fit_passage_map(train_passages[fold_of == fold], index.vectors[train[fold_of == fold]]) for fold in (0, 1)]
    kind_number = {"occupation": 0, "skill": 1}
    mapped = np.vstack([apply_map(vector[None], maps[1 - halves[kind_number[q.kind]][q.concept]])
                        for q, vector in zip(subset, passages)])
    excluded = exclusions(subset, rows, index.languages)
    variants = {"query: (kb esco match)": query_vectors[chosen], "passage: (ingest, old)": passages,
                "passage: + map (ingest, new)": mapped}
    figures: dict[str, dict[str, dict[str, float]]] = {}
    for name, vectors in variants.items():
        figures[name] = {}
        for set_name in PASSAGE_SETS:
            members = [n for n, query in enumerate(subset) if query.set_name == set_name]
            kind = subset[members[0]].kind
            count = len(data.occupations if kind == "occupation" else data.skills)
            scores = concept_scores(vectors[members], kind_index(index, kind, count, config.method), config.method,
                                    [excluded[n] for n in members])
            truth = np.array([subset[n].concept for n in members])
            figures[name][set_name] = {**metrics(ranks(scores, truth)),
                                       **link_figures(scores, truth, config.vector_calibrations[kind])}
    print("| shipped method on | " + " | ".join(f"{s} MRR / linked right / wrong" for s in PASSAGE_SETS) + " |")
    print("|---|" + "---|" * len(PASSAGE_SETS))
    for name, table in figures.items():
        print(f"| {name} | " + " | ".join(f"{table[s]['MRR']:.3f} / {table[s]['linked_right']:.3f} / "
                                          f"{table[s]['linked_wrong']:.3f}" for s in PASSAGE_SETS) + " |")
    return figures


def main(argv: list[str] | None = None) -> int:
    """Fit the map on labels of every concept and write it next to the matcher."""
    from eval.esco import CACHE, cached_index
    from kb.esco.data import load

    parser = argparse.ArgumentParser(prog="python -m eval.esco_passage", description=__doc__)
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    rows, index = cached_index(load(), args.cache)
    chosen = training_rows(rows, None, None)
    passages = embed_texts([rows[n].text for n in chosen], "passage", cache_dir=args.cache)
    passage_map = fit_passage_map(passages, index.vectors[chosen])
    np.save(PASSAGE_MAP_FILE, passage_map.astype(np.float16), allow_pickle=False)
    print(f"wrote {PASSAGE_MAP_FILE} from {len(chosen)} ESCO labels")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
