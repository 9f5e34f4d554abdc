"""Dense candidates: the request and ranking options, and units ranked by vector similarity with filters."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from kb.errors import KBError
from kb.records import KINDS, PART, STORED_KINDS
from kb.search import bias
from kb.storage.vectors import UnitFilter

KIND_CHOICES = KINDS + ("all",)
UNIT_CHOICES = ("all", "sentence")
HEADING_MAX_WORDS = 4
# The longest query searched, in characters: a query costs model time in proportion to its length (a 100,000
# character one took 12-47 s of CPU), and a job title or a duty fits in far less. The app's search box
# takes no more; the CLI and the API refuse a longer one.
MAX_QUERY_CHARS = 1000
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SearchRequest:
    """A query with its filters."""

    query: str
    k: int = 10
    lang: str | None = None
    kind: str = "all"
    doc_id: str | None = None

    def kinds(self) -> tuple[str, ...]:
        """The unit kinds this request searches."""
        if self.kind not in KIND_CHOICES:
            raise KBError(f"unknown kind {self.kind!r}", hint=f"use one of {', '.join(KIND_CHOICES)}")
        return KINDS if self.kind == "all" else (self.kind,)


@dataclass(frozen=True)
class SearchOptions:
    """How to rank: the method chosen by ``python -m eval.search`` is the default."""

    units: str = "all"  # "sentence": the plain sentence index (the baseline)
    parts: bool = True  # match the parts of long sentences too (ingest.parts), shown as their sentence
    correction: str = "project_hub"  # see kb.search.bias.CORRECTIONS
    hybrid: bool = True  # fuse keyword (BM25) hits
    rerank: bool = True  # reorder the first results by token alignment (kb.search.rerank)
    group: bool = True  # one result per source sentence
    min_score: float | None = None  # None: the knowledge base's calibrated threshold; -inf: never refuse
    pool: int = 100  # dense candidates fetched before grouping and fusion (at least 10 k)
    rrf_k: float = 60.0
    keyword_weight: float = 1.0

    def check(self) -> "SearchOptions":
        """Refuse unknown option values, listing the valid ones."""
        if self.units not in UNIT_CHOICES:
            raise KBError(f"unknown unit set {self.units!r}", hint=f"use one of {', '.join(UNIT_CHOICES)}")
        bias.check_correction(self.correction)
        return self


DEFAULT_OPTIONS = SearchOptions()


@dataclass(frozen=True)
class Candidate:
    """A unit found by dense or keyword search, with its row from the store."""

    unit_id: int
    score: float  # dense similarity under the correction
    row: dict
    fused: float | None = None  # reciprocal-rank-fusion score, once fused
    alignment: float | None = None  # token-alignment score, once reranked (kb.search.rerank)

    @property
    def sentence_key(self) -> int:
        """The id of the sentence the unit belongs to (a sentence is its own)."""
        return int(self.row["sentence_id"] or self.row["id"])


def validate(request: SearchRequest) -> None:
    """Refuse requests a user got wrong, with what to do."""
    if len(request.query) > MAX_QUERY_CHARS:
        raise KBError(f"the query is {len(request.query):,} characters long, over the limit of {MAX_QUERY_CHARS:,}",
                      hint="shorten it to the words that matter")
    try:
        request.query.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate ("\ud800"): no text, and the tokenizer cannot take it
        raise KBError(f"the query holds an invalid character ({error.object[error.start]!r}, not Unicode text) "
                      f"at position {error.start}", hint="retype the query or paste it again") from None
    if not request.query.strip():
        raise KBError("empty query", hint="type what you are looking for, in any language")
    if not _WORD.search(request.query):  # emoji or punctuation alone: every unit would be as near as any other
        raise KBError(f"the query {request.query.strip()!r} has no words",
                      hint="type what you are looking for in words, in any language")
    if request.k < 1:
        raise KBError(f"-k must be at least 1, not {request.k}")
    request.kinds()


def searched_kinds(request: SearchRequest, options: SearchOptions) -> tuple[str, ...]:
    """The stored kinds to search: the request's (limited to sentences for the sentence-only baseline),
    with the sentence parts wherever sentences are searched."""
    kinds = request.kinds()
    if options.units == "sentence":
        kinds = tuple(kind for kind in kinds if kind == "sentence")
    return kinds + (PART,) if options.parts and "sentence" in kinds else kinds


def unit_filter(request: SearchRequest, kinds: Sequence[str]) -> UnitFilter | None:
    """The request's filters for the vector engine, or None when nothing is filtered."""
    if set(kinds) == set(STORED_KINDS) and not request.lang and not request.doc_id:
        return None
    return UnitFilter(kinds=tuple(kinds), lang=request.lang, doc_id=request.doc_id)


def rescore(kb, pairs: Sequence[tuple[int, float]], rows: dict[int, dict], query_vector: np.ndarray,
            correction: str) -> list[tuple[int, float]]:
    """Index scores turned into the correction's scores (z-scores per language for ``znorm``), best first."""
    if correction != "znorm":
        return list(pairs)
    stats = bias.language_stats(kb, covariances=True)
    means, stds = bias.znorm_params(query_vector, stats)
    scored = []
    for unit_id, score in pairs:
        row = stats.row(rows[unit_id]["lang"]) if unit_id in rows else None
        scored.append((unit_id, score if row is None else float((score - means[row]) / stds[row])))
    return sorted(scored, key=lambda pair: -pair[1])


def dense_candidates(kb, request: SearchRequest, query_vector: np.ndarray,
                     options: SearchOptions = DEFAULT_OPTIONS) -> list[Candidate]:
    """Units ranked by dense similarity under the options' correction, with the filters."""
    kinds = searched_kinds(request, options)
    if not kinds:
        return []
    pairs = bias.search(kb, query_vector, options.correction, max(options.pool, 10 * request.k),
                        where=unit_filter(request, kinds))
    rows = kb.store.units(unit_id for unit_id, _ in pairs)
    pairs = rescore(kb, pairs, rows, query_vector, options.correction)
    # a row missing from the store means the index is ahead of it: skip, never crash
    return [Candidate(unit_id, score, rows[unit_id]) for unit_id, score in pairs
            if unit_id in rows and not is_heading(rows[unit_id])]


def is_heading(row: dict) -> bool:
    """A heading line stored as a sentence ("Wymagania:", "Arbetsuppgifter") answers no query:
    a sentence of one word, or of a few words ending in a colon."""
    if row["kind"] != "sentence":
        return False
    words = len(_WORD.findall(row["text"]))
    return words < 2 or (words <= HEADING_MAX_WORDS and row["text"].rstrip().endswith(":"))
