"""The vector side of a knowledge base behind one small protocol.

Every engine stores L2-normalized vectors, so scores are cosines, under the ``units`` row
ids of the store (the database is the source of truth; an index is a cache that can be
rebuilt from it). ``kb.storage.faiss_index`` is the embedded default; another engine is one
more module that implements ``VectorIndex`` and is named in ``open_index``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Protocol, Sequence

import numpy as np


class VectorIndex(Protocol):
    """What search and ingest need from a vector engine."""

    dim: int

    def __len__(self) -> int:
        """How many vectors the index holds."""

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Add vectors under the given unit ids."""

    def remove(self, ids: Sequence[int]) -> None:
        """Remove the vectors with these ids (unknown ids are ignored)."""

    def search(self, query: np.ndarray, k: int, allowed: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """The k nearest ids with their cosine scores, optionally among ``allowed`` ids only."""

    def reconstruct(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of these ids."""

    def save(self, folder: Path, generation: int) -> None:
        """Persist the index, tagged with the store generation it reflects."""


def build_index(dim: int, batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> VectorIndex:
    """A new index of the default engine from (ids, vectors) batches."""
    from kb.storage.faiss_index import FaissIndex

    return FaissIndex.build(dim, batches)


def load_index(folder: Path, dim: int, generation: int) -> VectorIndex | None:
    """The saved index of the default engine if it matches the store generation, else None (rebuild it)."""
    from kb.storage.faiss_index import FaissIndex

    return FaissIndex.load(folder, dim, generation)


def open_index(folder: Path, dim: int, generation: int,
               batches: Iterable[tuple[np.ndarray, np.ndarray]] | None = None) -> VectorIndex:
    """The saved index, or one rebuilt from ``batches`` (and saved) when it is missing or stale."""
    index = load_index(folder, dim, generation)
    if index is None:
        index = build_index(dim, batches or ())
        index.save(folder, generation)
    return index
