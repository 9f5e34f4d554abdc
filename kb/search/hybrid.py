"""Query -> ranked hits: dense search over sentences, duties and skills, fused with keywords.

The steps, each a pure function over an open ``KnowledgeBase``:

1. embed the query once (``embed_query``: one pass of the model gives the
   vector and, where the rerank runs, the token states of step 5);
2. dense candidates under the chosen bias correction (``kb.search.bias``:
   language subspace removed, hub penalty, by default; the raw index searched
   with the projected query, the candidates scored exactly), with the filters;
3. group the candidates by source sentence: a duty, a skill, the sentence
   they come from and its parts (word windows of a long sentence,
   ``ingest.parts``) are one result, shown by its best-scoring unit, so a short
   duty or part outranks the long sentence that dilutes it and no sentence
   shows twice; a part is shown as its sentence with the part as the span;
4. fuse with keyword search (``kb.storage.fts``, BM25 over rare terms) by reciprocal
   rank fusion; the dense first hit always stays in the results;
5. reorder the first 20 by how well each query word finds its match in the
   result's token states (``kb.search.rerank``);
6. refuse to answer when even the best dense score is below the knowledge
   base's calibrated threshold (``kb.search.calibrate``): no good match, no noise.

``Hit.score`` is the dense score of the shown unit under the correction (a
cosine of projected vectors minus the hub penalty by default; the threshold
applies to it), capped by the score of the hit above so that scores follow the
fused order; ``Hit.extra`` keeps the uncapped ``dense_score`` and the
``fused_score``, and ``alignment``, the token-alignment score of the first 20.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Sequence

import numpy as np

from kb.search import bias
from kb.search.dense import (DEFAULT_OPTIONS, Candidate, SearchOptions, SearchRequest, dense_candidates, is_heading,
                             rescore, searched_kinds, validate)
from kb.search.memo import per_generation
from kb.search.rerank import DEPTH, rerank, reranks
from kb.search.rerank import refresh as refresh_tokens
from kb.records import PART, Hit
from kb.threads import one_blas_thread


def query_language(query: str) -> str | None:
    """The query's language, or None when the detector is not installed.

    The query must be identified by the same detector that labelled the sentences
    (``kb.text.language``), or "other language" means nothing.
    """
    try:
        from kb.text.language import detect_language
    except ImportError:  # fastText missing: literal spellings only
        return None
    return detect_language(query)


def keyword_candidates(kb, request: SearchRequest, query_vector: np.ndarray, options: SearchOptions,
                       known: dict[int, Candidate]) -> list[Candidate]:
    """Units ranked by BM25 over the query's rare terms, each with its dense score."""
    from kb.storage.fts import indexed_count, keyword_search

    kinds = searched_kinds(request, options)
    connection = kb.store.connection
    pairs = keyword_search(connection, request.query, max(options.pool, 10 * request.k),
                           query_lang=query_language(request.query), kinds=kinds, lang=request.lang,
                           doc_id=request.doc_id, total=per_generation(kb, "indexed_count",
                                                                       lambda: indexed_count(connection)))
    missing = [unit_id for unit_id, _ in pairs if unit_id not in known]
    rows = kb.store.units(missing)
    scores = dict(dense_scores(kb, [unit_id for unit_id in missing if unit_id in rows], rows, query_vector,
                               options.correction))
    return [known[unit_id] if unit_id in known else Candidate(unit_id, scores[unit_id], rows[unit_id])
            for unit_id, _ in pairs if unit_id in known or (unit_id in rows and not is_heading(rows[unit_id]))]


def dense_scores(kb, ids: Sequence[int], rows: dict[int, dict], query_vector: np.ndarray,
                 correction: str) -> list[tuple[int, float]]:
    """The dense scores of given units (for keyword hits the dense search did not fetch)."""
    if not ids:
        return []
    scores = bias.unit_scores(kb, ids, query_vector, correction)
    return rescore(kb, list(zip(ids, scores.tolist())), rows, query_vector, correction)


def group_by_sentence(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The best candidate of each source sentence, in the input order."""
    seen: set[int] = set()
    grouped = []
    for candidate in candidates:
        if candidate.sentence_key not in seen:
            seen.add(candidate.sentence_key)
            grouped.append(candidate)
    return grouped


def fuse(dense: Sequence[Candidate], keyword: Sequence[Candidate], k: int,
         options: SearchOptions = DEFAULT_OPTIONS) -> list[Candidate]:
    """Reciprocal-rank fusion of two grouped rankings; the dense first hit is always kept."""
    scores: dict[int, float] = {}
    shown: dict[int, Candidate] = {}
    for weight, ranking in ((1.0, dense), (options.keyword_weight, keyword)):
        for rank, candidate in enumerate(ranking, start=1):
            key = candidate.sentence_key
            scores[key] = scores.get(key, 0.0) + weight / (options.rrf_k + rank)
            shown.setdefault(key, candidate)  # the dense unit of a sentence wins: it is the better span
    order = sorted(scores, key=lambda key: -scores[key])
    return keep_first([replace(shown[key], fused=scores[key]) for key in order], dense[:1], k)


def keep_first(ranked: Sequence[Candidate], first: Sequence[Candidate], k: int) -> list[Candidate]:
    """The first ``k`` of a ranking, with the dense first hit (``first``, empty or one) in the last place
    if it fell below: fusion and rerank never drop it."""
    chosen = list(ranked[:k])
    if first and all(c.sentence_key != first[0].sentence_key for c in chosen):
        chosen[-1] = next(c for c in ranked if c.sentence_key == first[0].sentence_key)
    return chosen


def shown_kind(row: dict) -> str:
    """A unit's kind as a hit tells it: a sentence part is its sentence (its span marks the part)."""
    return "sentence" if row["kind"] == PART else row["kind"]


def to_hits(candidates: Sequence[Candidate]) -> list[Hit]:
    """Candidates as ranked hits with their source sentences."""
    hits: list[Hit] = []
    for candidate in candidates:
        row = candidate.row
        # a hit that keywords moved up shows the score above it, so scores never rise down the list
        score = min(candidate.score, hits[-1].score) if hits else candidate.score
        hits.append(Hit(rank=len(hits) + 1, score=score, doc_id=row["doc_id"], title=row["title"],
                        lang=row["lang"], kind=shown_kind(row), text=row["text"],
                        sentence=row["sentence"] or row["text"], start=row["start"], end=row["end"],
                        sentence_start=row["sentence_start"] if row["sentence_start"] is not None else row["start"],
                        sentence_end=row["sentence_end"] if row["sentence_end"] is not None else row["end"],
                        subtype=row["subtype"], unit_id=candidate.unit_id,
                        extra={"dense_score": candidate.score, "fused_score": candidate.fused,
                               "alignment": candidate.alignment}))
    return hits


def threshold(kb, options: SearchOptions) -> float:
    """The score below which the best dense hit counts as no match."""
    if options.min_score is not None:
        return options.min_score
    from kb.search.calibrate import stored_threshold

    return stored_threshold(kb, options.correction)


def search_vector(kb, request: SearchRequest, query_vector: np.ndarray,
                  options: SearchOptions = DEFAULT_OPTIONS, query_tokens: np.ndarray | None = None) -> list[Hit]:
    """Answer a request whose query is already embedded (so a caller embeds it once); the rerank
    encodes the query's token states itself unless ``query_tokens`` gives them. Its products are small:
    they run on one BLAS thread (``kb.threads``)."""
    options.check()
    with one_blas_thread:
        return _answer(kb, request, query_vector, options, query_tokens)


def _answer(kb, request: SearchRequest, query_vector: np.ndarray, options: SearchOptions,
            query_tokens: np.ndarray | None) -> list[Hit]:
    dense = dense_candidates(kb, request, query_vector, options)
    if not dense or dense[0].score < threshold(kb, options):
        return []
    known = {candidate.unit_id: candidate for candidate in dense}
    if options.group:
        dense = group_by_sentence(dense)
    depth = max(request.k, DEPTH) if options.rerank else request.k
    if options.hybrid:
        keyword = keyword_candidates(kb, request, query_vector, options, known)
        if options.group:
            keyword = group_by_sentence(keyword)
        ranked = fuse(dense, keyword, depth, options)
    else:
        ranked = dense[:depth]
    if options.rerank:
        ranked = rerank(kb, request.query, ranked, query_tokens=query_tokens)
    return to_hits(keep_first(ranked, dense[:1], request.k))


def search(kb, request: SearchRequest, options: SearchOptions = DEFAULT_OPTIONS) -> list[Hit]:
    """Answer a search request against an open knowledge base (an empty list: no good match)."""
    validate(request)
    vector, tokens = embed_query(kb, request.query, options)
    return search_vector(kb, request, vector, options, query_tokens=tokens)


def embed_query(kb, query: str, options: SearchOptions = DEFAULT_OPTIONS) -> tuple[np.ndarray, np.ndarray | None]:
    """The query's vector and, where the rerank will use them, its token states: one pass of the model.

    Without token states in the knowledge base the vector is the embedder's own, so such a knowledge
    base ranks exactly as with the rerank off (the engine ``kb.embedding.tokens`` builds rounds slightly differently).
    """
    if not (options.rerank and reranks(kb)):
        return kb.embedder.embed_query(query), None
    vectors, tokens = kb.token_encoder.embed([query], is_query=True)
    return vectors[0], tokens[0]


def without_threshold(options: SearchOptions) -> SearchOptions:
    """The same options with the no-match threshold switched off (for evaluation)."""
    return replace(options, min_score=-math.inf)


def refresh_search(kb, options: SearchOptions = DEFAULT_OPTIONS) -> None:
    """Rebuild what search derives from the whole knowledge base (the post-ingest hook)."""
    from kb.search.calibrate import store_thresholds

    bias.refresh(kb, options.correction)
    store_thresholds(kb)
    refresh_tokens(kb)
