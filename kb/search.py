"""Query -> embedding -> FAISS -> ranked hits from the store."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from kb.errors import KBError
from kb.records import KINDS, Hit

KIND_CHOICES = KINDS + ("all",)


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


def validate(request: SearchRequest) -> None:
    """Refuse requests a user got wrong, with what to do."""
    if not request.query.strip():
        raise KBError("empty query", hint="type what you are looking for, in any language")
    if request.k < 1:
        raise KBError(f"-k must be at least 1, not {request.k}")
    request.kinds()


def dense_search(kb, request: SearchRequest, query_vector: np.ndarray) -> list[Hit]:
    """Rank units by cosine similarity to the query vector, with the request's filters."""
    filtered = request.kind != "all" or request.lang or request.doc_id
    allowed = kb.store.unit_ids(kinds=request.kinds(), lang=request.lang, doc_id=request.doc_id) if filtered else None
    pairs = kb.index.search(query_vector, request.k, allowed=allowed)
    return to_hits(kb, pairs)


def to_hits(kb, pairs: Sequence[tuple[int, float]]) -> list[Hit]:
    """Turn (unit id, score) pairs into ranked hits with their sentences."""
    rows = kb.store.units(unit_id for unit_id, _ in pairs)
    hits = []
    for unit_id, score in pairs:
        row = rows.get(unit_id)
        if row is None:  # the index is ahead of the store: skip, never crash
            continue
        hits.append(Hit(rank=len(hits) + 1, score=score, doc_id=row["doc_id"], title=row["title"],
                        lang=row["lang"], kind=row["kind"], text=row["text"],
                        sentence=row["sentence"] or row["text"], start=row["start"], end=row["end"],
                        sentence_start=row["sentence_start"] if row["sentence_start"] is not None else row["start"],
                        sentence_end=row["sentence_end"] if row["sentence_end"] is not None else row["end"],
                        subtype=row["subtype"], unit_id=unit_id))
    return hits


def search(kb, request: SearchRequest) -> list[Hit]:
    """Answer a search request against an open knowledge base."""
    validate(request)
    return dense_search(kb, request, kb.embedder.embed_query(request.query))
