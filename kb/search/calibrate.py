"""The no-match threshold: below it, the best dense score means "nothing here answers that".

Each knowledge base has its own noise level: the mean best score of generic
off-topic queries (``kb.search.bias.HUB_PROBES``) against it, which moves with the
knowledge base's size and languages. The threshold is that level plus an
offset.

e5 scores are compressed (a right answer about 0.87, a wrong one about 0.79),
so a fixed cut such as 0.5 means nothing. The threshold is learned from the
labelled query set (``tests/data/queries.jsonl``: answerable queries and
queries about absent topics) by ``python -m eval.search --calibrate``: the
offset whose cut on the best dense score has the lowest cost, where refusing
an answerable query costs ``MISS_COST`` times more than showing hits for an
unanswerable one (the two score ranges overlap, and a threshold learned on one
knowledge base must not silence good queries on another), for each embedder
and correction. It is written to ``kb/calibration.json``;
after every ingest each knowledge base's threshold is computed and kept in its
meta table (``search.threshold.<correction>``), where a user may set their own.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from kb.search.bias import HUB_PROBES, probe_vectors
from kb.search.dense import DEFAULT_OPTIONS, SearchOptions, SearchRequest, dense_candidates

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
META_KEY = "search.threshold.{correction}"
# Refusing a query that has an answer is worse than showing a weak match for one that has none.
MISS_COST = 10.0


def calibration_defaults() -> dict:
    """The shipped offsets above the null level: {embedder: {correction: offset}}."""
    try:
        return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def null_level(kb, correction: str) -> float:
    """Mean best dense score of off-topic probe queries on this knowledge base (its noise level)."""

    options = SearchOptions(correction=correction, hybrid=False)
    tops = [dense_candidates(kb, SearchRequest(text, k=1), vector, options)
            for text, vector in zip(HUB_PROBES, probe_vectors(kb))]
    return float(np.mean([candidates[0].score for candidates in tops if candidates] or [-math.inf]))


def stored_threshold(kb, correction: str) -> float:
    """The knowledge base's threshold: its meta row if current, else null level + shipped offset, else none."""
    key = META_KEY.format(correction=correction)
    generation = kb.store.generation
    try:
        saved = json.loads(kb.store.get_meta(key) or "{}")
    except ValueError:
        saved = {}
    if isinstance(saved, dict) and "value" in saved and saved.get("generation") in (generation, None):
        return float(saved["value"])
    offset = calibration_defaults().get(kb.settings.embedder, {}).get(correction)
    if offset is None:
        return -math.inf
    value = null_level(kb, correction) + float(offset)
    kb.store.set_meta(key, json.dumps({"value": value, "generation": generation}))
    return value


def store_thresholds(kb) -> None:
    """Compute the thresholds of the shipped corrections for this knowledge base (post-ingest)."""
    for correction in calibration_defaults().get(kb.settings.embedder, {}):
        kb.store.set_meta(META_KEY.format(correction=correction), "")
        stored_threshold(kb, correction)


def best_threshold(answerable: Sequence[float], unanswerable: Sequence[float], miss_cost: float = MISS_COST) -> float:
    """The cut with the lowest cost (refused answerable rate x miss_cost + shown unanswerable rate).

    Midway between neighbouring scores; the lowest cut on ties, so that a
    knowledge base unlike the calibration one errs toward answering.
    """
    if not answerable or not unanswerable:
        return -math.inf
    scores = sorted(set(answerable) | set(unanswerable))
    cuts = [scores[0] - 1e-6] + [(low + high) / 2 for low, high in zip(scores, scores[1:])]
    positives, negatives = np.array(answerable), np.array(unanswerable)

    def cost(cut: float) -> float:
        return float(miss_cost * (positives < cut).mean() + (negatives >= cut).mean())

    return min(cuts, key=lambda cut: (round(cost(cut), 9), cut))


def top_scores(kb, items: Sequence[tuple[str, bool, np.ndarray]], correction: str) -> tuple[list, list]:
    """Best dense scores of answerable and of unanswerable queries ((query, answerable, vector) items)."""

    options = SearchOptions(correction=correction, hybrid=False)
    answerable, unanswerable = [], []
    for query, has_answer, vector in items:
        candidates = dense_candidates(kb, SearchRequest(query, k=1), vector, options)
        (answerable if has_answer else unanswerable).append(candidates[0].score if candidates else -math.inf)
    return answerable, unanswerable


def evaluate_threshold(kb, items: Sequence[tuple[str, bool, np.ndarray]], correction: str | None = None) -> dict:
    """How the stored threshold and the query set's best one sort answerable and unanswerable queries."""

    correction = correction or DEFAULT_OPTIONS.correction
    answerable, unanswerable = top_scores(kb, items, correction)
    stored = stored_threshold(kb, correction)
    noise = null_level(kb, correction)
    best = best_threshold(answerable, unanswerable)

    def rates(cut: float) -> dict:
        return {"threshold": round(cut, 4), "offset_above_null": round(cut - noise, 4),
                "unanswerable_refused": f"{sum(s < cut for s in unanswerable)}/{len(unanswerable)}",
                "answerable_refused": f"{sum(s < cut for s in answerable)}/{len(answerable)}"}

    return {"correction": correction, "null_level": round(noise, 4), "stored": rates(stored),
            "best_on_query_set": rates(best),
            "answerable_top_score_p10_p50": [round(float(v), 4) for v in np.percentile(answerable, [10, 50])],
            "unanswerable_top_score_p50_max": [round(float(v), 4) for v in np.percentile(unanswerable, [50, 100])]}


def write_calibration(embedder: str, correction: str, offset: float) -> None:
    """Record an offset above the null level in the shipped calibration file."""
    data = calibration_defaults()
    data.setdefault(embedder, {})[correction] = round(float(offset), 4)
    CALIBRATION_FILE.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
