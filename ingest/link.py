"""The ESCO stage of ingest: each duty and skill to one ESCO concept, each article to its occupations.

It reuses the passage vectors ingest has just computed (mapped towards query vectors by the matcher's
shipped passage map, one matrix product), with each item's text for the character n-gram channel (on the
dense channel's best ``LINK_LEXICAL_TOP`` concepts; ``python -m eval.esco_items``): duties are matched
against ESCO's skill/competence concepts (phrased as actions, "operate forklift"), skills against
every skill and knowledge concept, and the article against the occupations by its title and its body
together (``Matcher.match_articles``): the title as ``kb esco match`` reads it (one query embedding, the only
extra model work; the character n-gram channel, the title head and, for a title that names no occupation as a
whole, its word runs, pooled from the title's own encoding), and the body by the mean of its sentence vectors
(with the text head); an article with only one of them, by that one. The matcher's calibrated threshold
decides when nothing fits (``kb.esco.match``).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from kb.embedding.embedders import normalize
from kb.records import EscoLink, Item

TOP_OCCUPATIONS = 3
LINKED_KINDS = ("duty", "skill")


def esco_links(matcher, units: Sequence[Item], unit_vectors: np.ndarray, sentence_vectors: np.ndarray,
               title_vector: np.ndarray | None = None, title: str = "", encoder=None
               ) -> tuple[list[EscoLink | None], list[EscoLink]]:
    """The link of each unit (None for sentence parts and where no concept fits) and the article's
    ranked occupations, by its title (matched as ``kb esco match`` matches the title's text: with the character
    n-gram channel, the title head and, with the token ``encoder``, the title's word runs) and the mean of its
    sentences together (``Matcher.match_articles``)."""
    return esco_links_many(matcher, [(units, unit_vectors, sentence_vectors, title_vector, title)], encoder)[0]


def esco_links_many(matcher, articles: Sequence[tuple[Sequence[Item], np.ndarray, np.ndarray, np.ndarray | None, str]],
                    encoder=None) -> list[tuple[list[EscoLink | None], list[EscoLink]]]:
    """``esco_links`` of several articles (each: units, their vectors, sentence vectors, title vector or None,
    title text), with each of the matcher's products done once for all of them: a product reads all of ESCO's
    label vectors (45 MB), so for a short article it cost the same as for a hundred."""
    links: list[list[EscoLink | None]] = [[None] * len(units) for units, *_ in articles]
    chosen = [(a, n) for a, (units, *_) in enumerate(articles) for n, unit in enumerate(units)
              if unit.kind in LINKED_KINDS]
    if chosen:
        matches = matcher.link(np.vstack([articles[a][1][n] for a, n in chosen]),
                               [articles[a][0][n].kind for a, n in chosen], passage=True,
                               texts=[articles[a][0][n].text for a, n in chosen])
        types = _skill_types(matcher)
        for (a, n), match in zip(chosen, matches):
            if match is not None:
                links[a][n] = EscoLink(match.uri, types.get(match.uri, match.type), float(match.score))
    occupations: list[list[EscoLink]] = [[] for _ in articles]
    views = [(a, _view(article, False), _view(article, True)) for a, article in enumerate(articles)]
    both = [(a, title, body) for a, title, body in views if title is not None and body is not None]
    if both:  # the title and the body together (``Matcher.match_articles``)
        ranked_all = matcher.match_articles(np.vstack([title for _, title, _ in both]),
                                            [articles[a][4].strip() for a, _, _ in both],
                                            np.vstack([body for _, _, body in both]), TOP_OCCUPATIONS,
                                            encoder=encoder)
        for (a, _, _), ranked in zip(both, ranked_all):
            occupations[a] = _occupation_links(ranked)
    for passage in (False, True):  # an article with a title or a body only: that one
        alone = [(a, title if not passage else body) for a, title, body in views
                 if (title is None) != (body is None) and (body if passage else title) is not None]
        if alone:
            texts = None if passage else [articles[a][4].strip() for a, _ in alone]
            ranked_all = matcher.match_vectors(np.vstack([view for _, view in alone]), "occupation",
                                               TOP_OCCUPATIONS, passage=passage, texts=texts,
                                               encoder=None if passage else encoder)
            for (a, _), ranked in zip(alone, ranked_all):
                occupations[a] = _occupation_links(ranked)
    return list(zip(links, occupations))


def _occupation_links(ranked) -> list[EscoLink]:
    """An article's stored occupations from its ranked matches."""
    return [EscoLink(match.uri, "occupation", float(match.score)) for match in ranked]


def _view(article: tuple[Sequence[Item], np.ndarray, np.ndarray, np.ndarray | None, str], passage: bool
          ) -> np.ndarray | None:
    """The vector an article is matched to occupations by: its title's (query), or its sentences' mean (passage)."""
    _, _, sentence_vectors, title_vector, _ = article
    if not passage:
        return None if title_vector is None else np.asarray(title_vector, dtype=np.float32)
    if not len(sentence_vectors):
        return None
    return normalize(np.asarray(sentence_vectors, dtype=np.float32).mean(axis=0))


def title_runs_reader(embedder):
    """What reads a title's word runs for ``esco_links``: the memo itself where it has a token encoder (it keeps
    the final-layer states of the titles it prefetched, so the runs cost no second pass), else None (no runs)."""
    return embedder if getattr(embedder, "encoder", None) is not None else None


def embed_title(embedder, title: str) -> np.ndarray | None:
    """The e5 query vector of an article's title for ``esco_links`` (None without a title). One query is
    encoded on one encoder thread: the same vector, 3x faster on 2 shared cores under load, where the
    title's encoding was most of the ESCO stage's time (docs/esco_evaluation.md, Speed)."""
    from kb.threads import one_query_thread

    title = title.strip()
    if not title:
        return None
    with one_query_thread(embedder):
        return embedder.embed_query(title)


_TYPES: dict[int, tuple[object, dict[str, str]]] = {}


def _skill_types(matcher) -> dict[str, str]:
    """skill/competence or knowledge per skill URI, built once per ESCO table set."""
    data = matcher.data
    cached = _TYPES.get(id(data))
    if cached is None or cached[0] is not data:
        cached = _TYPES[id(data)] = (data, {concept.uri: concept.skill_type for concept in data.skills})
    return cached[1]
