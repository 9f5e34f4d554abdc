"""The vector side of a knowledge base behind one small protocol.

Every engine stores L2-normalized vectors, so scores are cosines, under the ``units`` row
ids of the store (the database is the source of truth; an index is a cache that can be
rebuilt from it). ``kb.storage.engines`` opens the engine a knowledge base names: FAISS
files by default, or Milvus. An engine that stores each vector's document, language and
kind applies a search's filters itself (``pushes_filters``), before its top-k; the others
are given the ids the store allows.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Protocol, Sequence

import numpy as np

# (ids, vectors, fields): fields[i] is the (doc_id, lang, kind) of ids[i]; an engine that does not push filters
# down ignores them
Rows = Iterable[tuple[np.ndarray, np.ndarray, Sequence[tuple[str, str, str]]]]


@dataclass(frozen=True)
class UnitFilter:
    """What a search is restricted to: unit kinds, a language, a document (empty: no restriction)."""

    kinds: tuple[str, ...] = ()
    lang: str | None = None
    doc_id: str | None = None


class VectorIndex(Protocol):
    """What search and ingest need from a vector engine."""

    dim: int
    pushes_filters: bool  # True: ``search`` applies ``where`` itself; False: it is given the ``allowed`` ids

    def __len__(self) -> int:
        """How many vectors the index holds."""

    def add(self, ids: Sequence[int], vectors: np.ndarray,
            fields: Sequence[tuple[str, str, str]] | None = None) -> None:
        """Add vectors under the given unit ids, with each one's (doc_id, lang, kind)."""

    def remove(self, ids: Sequence[int]) -> None:
        """Remove the vectors with these ids (a document's ids, from the store; unknown ids are ignored)."""

    def search(self, query: np.ndarray, k: int, allowed: Sequence[int] | None = None,
               where: UnitFilter | None = None) -> list[tuple[int, float]]:
        """The k nearest ids with their cosine scores, among ``allowed`` ids or those ``where`` admits."""

    def reconstruct(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of these ids."""

    def save(self, folder: Path, generation: int) -> None:
        """Persist the index, tagged with the store generation it reflects."""

    def close(self) -> None:
        """Release what the engine holds open (a client connection); the index is not used after."""


def filtered_search(index: VectorIndex, store, query: np.ndarray, k: int,
                    where: UnitFilter | None) -> list[tuple[int, float]]:
    """Search with filters: pushed down to an engine that stores the fields, else as the ids the store allows."""
    if where is None or index.pushes_filters:
        return index.search(query, k, where=where)
    allowed = store.unit_ids(kinds=where.kinds, lang=where.lang, doc_id=where.doc_id)
    return index.search(query, k, allowed=allowed)
