"""``python -m eval.esco_fit``: fit the matcher's calibration and "no link" threshold on held-out ESCO queries.

Concepts are split in two halves by a seeded hash: the calibration is fitted on queries of one half and
measured on the other. A share of the queries (``UNANSWERABLE``: a quarter of the occupation queries, half of
the skill queries) lose every row of their right concept ("the text names something ESCO lacks"), and random
letter strings are added, so "no link" has examples too.
Writes kb/esco/matcher.json (method + calibrations) and prints the held-out figures.
"""
from __future__ import annotations

import argparse
import json
import random
import string
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from eval.esco import CACHE, Query, _without, build_sets, cached_index, exclusions, lexical_scores
from eval.esco import concept_half as half
from eval.esco_adapter import TEXT_HEAD, fit_shared_map, text_head_inputs, train_text_head
from kb.esco.calibrate import Calibration, fit_logistic, rank_features
from kb.esco.data import load
from kb.esco.embedcache import embed_texts
from kb.esco.match import CONFIG_FILE, VIEW_TARGETS
from kb.esco.scoring import Method, concept_scores, kind_index, short_texts, text_head_scores
from kb.esco.vectors import KINDS

TOP = 10


def nonsense(count: int, seed: int = 7) -> list[str]:
    """Random strings of letters and digits in word-like chunks: texts that no concept fits."""
    rng = random.Random(seed)
    alphabet = string.ascii_lowercase + "åäöąęłńóśźż0123456789"
    return [" ".join("".join(rng.choice(alphabet) for _ in range(rng.randint(2, 9)))
                     for _ in range(rng.randint(1, 4))) for _ in range(count)]


def candidate_table(scores: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-k sorted scores (k+1 wide), whether each of the top k is right, and the rank features."""
    order = np.argsort(-scores, axis=1)[:, :TOP + 1]
    top = np.take_along_axis(scores, order, 1)
    right = order[:, :TOP] == truth[:, None]
    return top, right, rank_features(top)


def run_kind(kind: str, queries: list[Query], vectors: np.ndarray, rows, index, data, method: Method,
             removed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores of queries of one kind, with every row of the right concept removed where ``removed``."""
    count = len(data.occupations if kind == "occupation" else data.skills)
    prepared = kind_index(index, kind, count, method)
    excluded = exclusions(queries, rows, index.languages)
    concept_rows: dict[int, np.ndarray] = {}
    kind_number = KINDS.index(kind)
    for number, row in enumerate(rows):
        if row.kind == kind_number:
            concept_rows.setdefault(row.concept, []).append(number)
    visible = _without(index, excluded, list(range(len(queries))))
    for n, query in enumerate(queries):
        if removed[n] and query.concept >= 0:
            excluded[n] = np.concatenate([excluded[n], np.array(concept_rows.get(query.concept, []), dtype=np.int64)])
    scores = concept_scores(vectors, prepared, method, excluded)
    # Anything learned is cross-fitted: each query is scored by heads trained on the other half of the concepts.
    halves = np.array([half(kind, c) for c in range(count)])
    query_half = np.array([half(kind, q.concept) if q.concept >= 0 else n % 2 for n, q in enumerate(queries)])
    short = short_texts([q.text for q in queries], method.head_max_words)
    if kind in method.head_types:  # titles and terms
        counts = {"occupation": len(data.occupations), "skill": len(data.skills)}
        for fold in (0, 1):
            head = fit_shared_map(visible, kind, counts, method, halves == fold)
            chosen = np.flatnonzero(short & (query_half != fold))
            scores[chosen] = concept_scores(vectors[chosen], kind_index(index, kind, count, method, adapter=head),
                                            method, [excluded[n] for n in chosen])
    if kind in method.text_head_types and not short.all():  # long texts, by the other half's descriptions
        vectors_in, owners = text_head_inputs(data, "text", CACHE)
        for fold in (0, 1):
            chosen = np.flatnonzero(~short & (query_half != fold))
            for target in VIEW_TARGETS["text"]:
                head = train_text_head(vectors_in, owners, prepared, halves == fold, **TEXT_HEAD, target=target)
                scores[chosen] += method.text_head_weight * text_head_scores(vectors[chosen], prepared, head)
    if method.lexical_weight:
        for set_name in dict.fromkeys(q.set_name for q in queries):
            chosen = [n for n, q in enumerate(queries) if q.set_name == set_name]
            scores[chosen] += method.lexical_weight * lexical_scores(data, [queries[n] for n in chosen])
    if removed.any():  # a concept without any row left cannot be named: its score must not count
        for n in np.flatnonzero(removed):
            if queries[n].concept >= 0:
                scores[n, queries[n].concept] = -np.inf
    truth = np.array([q.concept if not removed[n] else -1 for n, q in enumerate(queries)])
    return candidate_table(scores, truth)


def choose_threshold(probability: np.ndarray, right: np.ndarray, answerable: np.ndarray) -> float:
    """The threshold on the top candidate's probability that makes the most right link/no-link decisions."""
    candidates = np.unique(np.round(probability, 3))
    accuracy = [np.mean(np.where(probability >= t, right, ~answerable)) for t in candidates]
    return float(candidates[int(np.argmax(accuracy))])


def decisions(probability: np.ndarray, right_first: np.ndarray, answerable: np.ndarray, threshold: float) -> dict:
    """How the link/no-link decision fares: accuracy, precision of links, share linked, share of answerable linked right."""
    linked = probability >= threshold
    correct = np.where(linked, right_first, ~answerable)
    return {"decision_accuracy": float(correct.mean()), "link_precision": float(right_first[linked].mean()) if linked.any() else 0.0,
            "linked_share": float(linked.mean()),
            "answerable_linked_right": float((linked & right_first)[answerable].mean()) if answerable.any() else 0.0}


def calibration_error(probability: np.ndarray, right: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width probability bins."""
    edges = np.minimum((probability * bins).astype(int), bins - 1)
    return float(sum(abs(probability[edges == b].mean() - right[edges == b].mean()) * (edges == b).mean()
                     for b in range(bins) if (edges == b).any()))


def fit(method: Method, cache: Path, per_set: int, unanswerable: dict[str, float] | None = None) -> dict:
    """Fit the calibration of each type; returns the config to save and the held-out figures."""
    data = load()
    rows, index = cached_index(data, cache)
    queries = build_sets(data, per_set)
    junk = nonsense(300)
    config, figures = {}, {}
    for kind in ("occupation", "skill"):
        chosen = [q for q in queries if q.kind == kind] + [Query(t, "", kind, -1, "nonsense") for t in junk]
        vectors = embed_texts([q.text for q in chosen], "query", cache_dir=cache)
        rng = np.random.default_rng(5)
        removed = rng.random(len(chosen)) < (unanswerable or UNANSWERABLE)[kind]
        top, right, features = run_kind(kind, chosen, vectors, rows, index, data, method, removed)
        split = np.array([half(kind, q.concept) if q.concept >= 0 else n % 2 for n, q in enumerate(chosen)])
        answerable = np.array([q.concept >= 0 for q in chosen]) & ~removed
        train, test = split == 0, split == 1
        calibration = fit_logistic(features[train].reshape(-1, features.shape[-1]), right[train].reshape(-1))
        probability = calibration.probabilities(top)
        threshold = choose_threshold(probability[train, 0], right[train, 0], answerable[train])
        calibration = Calibration(calibration.weights, calibration.bias, threshold, calibration.mean, calibration.scale)
        config[kind] = calibration.to_dict()
        figures[kind] = {
            "threshold": threshold,
            "test_queries": int(test.sum()),
            "ece_top1": calibration_error(probability[test, 0], right[test, 0]),
            "ece_top10": calibration_error(probability[test].ravel(), right[test].ravel()),
            "brier_top1": float(np.mean((probability[test, 0] - right[test, 0]) ** 2)),
            **decisions(probability[test, 0], right[test, 0], answerable[test], threshold),
            "nonsense_linked": float((probability[:, 0] >= threshold)[[q.concept < 0 for q in chosen]].mean()),
        }
    return {"config": config, "figures": figures}


def main(argv: list[str] | None = None) -> int:
    """Fit, print the held-out figures and write kb/esco/matcher.json."""
    parser = argparse.ArgumentParser(prog="python -m eval.esco_fit", description=__doc__)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--per-set", type=int, default=500)
    parser.add_argument("--method", default="{}", help="JSON of Method fields (default: the chosen method)")
    parser.add_argument("--dry-run", action="store_true", help="print only; do not write matcher.json")
    for kind in ("occupation", "skill"):
        parser.add_argument(f"--unanswerable-{kind}", type=float, default=UNANSWERABLE[kind],
                            help=f"share of {kind} queries whose concept is removed, so that 'no link' is the right "
                                 f"answer for them (default {UNANSWERABLE[kind]})")
    args = parser.parse_args(argv)
    method = Method(**{**CHOSEN, **json.loads(args.method)})
    unanswerable = {"occupation": args.unanswerable_occupation, "skill": args.unanswerable_skill}
    result = fit(method, args.cache, args.per_set, unanswerable)
    print("texts (both channels):", json.dumps(result["figures"], indent=1))
    dense_method = replace(method, lexical_weight=0.0, head_types=())  # vectors alone: no text, no head
    dense = fit(dense_method, args.cache, args.per_set, unanswerable) if dense_method != method else result
    print("vectors alone (dense channel):", json.dumps(dense["figures"], indent=1))
    if not args.dry_run:
        method_dict = {name: list(value) if isinstance(value, tuple) else value
                       for name, value in asdict(method).items()}
        CONFIG_FILE.write_text(json.dumps({"method": method_dict, "calibrations": result["config"],
                                           "vector_calibrations": dense["config"],
                                           "unanswerable": unanswerable,
                                           "fitted_by": "python -m eval.esco_fit"}, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {CONFIG_FILE}")
    return 0


# The share of calibration queries that lose their concept: the prior that a text names nothing ESCO has. An
# article or ad describes a role, and ESCO names most roles, so occupations assume a quarter. A duty or skill
# item is often a fragment that names no concept: a third of the hand-annotated held-out items have none
# (eval/data/esco_items.tsv), and a third gives more right decisions than a half on its ads and its articles
# alike. At a tenth, random strings start to link (docs/esco_evaluation.md, "How often 'no link'").
UNANSWERABLE = {"occupation": 0.25, "skill": 0.33}

CHOSEN = {"center": True, "temperature": 0.0, "description_weight": 0.6, "description_center": True, "languages": (),
          "lexical_weight": 0.4,
          "head_types": ("occupation",), "head_max_words": 8, "text_head_types": ("occupation",),
          "text_head_weight": 1.0}

if __name__ == "__main__":
    raise SystemExit(main())
