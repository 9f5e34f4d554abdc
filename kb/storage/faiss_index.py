"""The FAISS engine of ``kb.storage.vectors.VectorIndex``: L2-normalized vectors, so inner products are cosines.

FAISS ids equal the ``units`` row ids of the store. The index file is a cache
of the vectors kept in the database: it records the store generation it was
written at, and a stale or missing file is rebuilt from the database.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from kb.files import write_atomically, write_text_atomically

INDEX_FILE = "index.faiss"
INDEX_META = "index.json"


class FaissIndex:
    """An id-mapped flat inner-product index (exact search)."""

    def __init__(self, dim: int, index=None) -> None:
        import faiss

        self.dim = dim
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @classmethod
    def build(cls, dim: int, batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> "FaissIndex":
        """A new index from (ids, vectors) batches."""
        index = cls(dim)
        for ids, vectors in batches:
            index.add(ids, vectors)
        return index

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Add vectors under the given ids."""
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                     np.asarray(ids, dtype=np.int64))

    def remove(self, ids: Sequence[int]) -> None:
        """Remove the vectors with these ids (unknown ids are ignored)."""
        import faiss

        if len(ids):
            self._index.remove_ids(faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64)))

    def search(self, query: np.ndarray, k: int, allowed: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """The k nearest ids with their cosine scores, optionally among ``allowed`` ids only."""
        import faiss

        if k <= 0 or len(self) == 0 or (allowed is not None and len(allowed) == 0):
            return []
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
            k = min(k, len(allowed))
        matrix = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(matrix, min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def reconstruct(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of these ids."""
        return np.vstack([self._index.reconstruct(int(i)) for i in ids]) if len(ids) else np.zeros((0, self.dim), np.float32)

    def save(self, folder: Path, generation: int) -> None:
        """Write the index atomically (temporary file, then rename) with its generation."""
        import faiss

        write_atomically(folder / INDEX_FILE, lambda temporary: faiss.write_index(self._index, str(temporary)))
        write_text_atomically(folder / INDEX_META, json.dumps({"generation": generation, "count": len(self)}))

    @classmethod
    def load(cls, folder: Path, dim: int, generation: int) -> "FaissIndex | None":
        """The saved index if it matches the store generation, else None (rebuild it)."""
        import faiss

        meta, path = folder / INDEX_META, folder / INDEX_FILE
        if not meta.exists() or not path.exists():
            return None
        try:
            saved = json.loads(meta.read_text(encoding="utf-8"))
        except ValueError:
            return None
        if saved.get("generation") != generation:
            return None
        index = faiss.read_index(str(path))
        if index.d != dim or index.ntotal != saved.get("count"):
            return None
        return cls(dim, index)
