"""The ESCO stage of ingest: each duty and skill to one ESCO concept, each article to its occupations.

It reuses the passage vectors ingest has just computed (mapped towards query vectors by the matcher's
shipped passage map, one matrix product): duties are matched
against ESCO's skill/competence concepts (phrased as actions, "operate forklift"), skills against
every skill and knowledge concept, and the article against the occupations: by its title (one query
embedding, the only extra model work), else by the mean of its sentence vectors. The matcher's calibrated threshold decides when nothing fits (``kb.esco.match``).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from kb.embedding.embedders import normalize
from kb.records import EscoLink, Item

TOP_OCCUPATIONS = 3
LINKED_KINDS = ("duty", "skill")


def esco_links(matcher, units: Sequence[Item], unit_vectors: np.ndarray, sentence_vectors: np.ndarray,
               title_vector: np.ndarray | None = None) -> tuple[list[EscoLink | None], list[EscoLink]]:
    """The link of each unit (None for sentence parts and where no concept fits) and the article's
    ranked occupations: by its title where that names one, else by the mean of its sentences."""
    links: list[EscoLink | None] = [None] * len(units)
    chosen = [n for n, unit in enumerate(units) if unit.kind in LINKED_KINDS]
    if chosen:
        matches = matcher.link(unit_vectors[chosen], [units[n].kind for n in chosen], passage=True)
        types = _skill_types(matcher)
        for n, match in zip(chosen, matches):
            if match is not None:
                links[n] = EscoLink(match.uri, types.get(match.uri, match.type), float(match.score))
    views = [] if title_vector is None else [(np.asarray(title_vector, dtype=np.float32), False)]
    if len(sentence_vectors):
        views.append((normalize(np.asarray(sentence_vectors, dtype=np.float32).mean(axis=0)), True))
    for view, passage in views:
        (ranked,) = matcher.match_vectors(view[None, :], "occupation", TOP_OCCUPATIONS, passage=passage)
        if ranked:
            return links, [EscoLink(match.uri, "occupation", float(match.score)) for match in ranked]
    return links, []


def embed_title(embedder, title: str) -> np.ndarray | None:
    """The e5 query vector of an article's title for ``esco_links`` (None without a title). One query is
    encoded on one encoder thread: the same vector, 3x faster on 2 shared cores under load, where the
    title's encoding was most of the ESCO stage's time (docs/esco_evaluation.md, Speed)."""
    from kb.threads import one_encoder_thread

    title = title.strip()
    if not title:
        return None
    with one_encoder_thread:
        return embedder.embed_query(title)


_TYPES: dict[int, tuple[object, dict[str, str]]] = {}


def _skill_types(matcher) -> dict[str, str]:
    """skill/competence or knowledge per skill URI, built once per ESCO table set."""
    data = matcher.data
    cached = _TYPES.get(id(data))
    if cached is None or cached[0] is not data:
        cached = _TYPES[id(data)] = (data, {concept.uri: concept.skill_type for concept in data.skills})
    return cached[1]
