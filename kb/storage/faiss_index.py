"""The FAISS engine of ``kb.storage.vectors.VectorIndex``: L2-normalized vectors, so inner products are cosines.

FAISS ids equal the ``units`` row ids of the store. The index is a cache of the
vectors kept in the database: a flat one is built from them whenever a process
opens the knowledge base (no second copy on disk); a graph is written to a file
with the store generation it reflects, and a stale or missing file is rebuilt
from the database.

One index, chosen by size (``kind_for``): up to ``FLAT_LIMIT`` vectors a flat
index (exact search, a few milliseconds there); past it an HNSW graph over
float16 vectors (``IndexHNSWSQ``, 768 bytes a vector plus the graph). The
switch happens as the index grows past the limit, and back to flat when it has
shrunk to half of it. HNSW cannot delete, so removed ids are kept as
tombstones that searches skip, and the graph is rebuilt from its own vectors
when they pass ``COMPACT_SHARE`` of it or a removed id comes back. A search
restricted to fewer than ``EXACT_LIMIT`` ids is exact whatever the kind.
``index.json`` records the kind, its parameters and its recall@10 against
exact search, measured on ``RECALL_QUERIES`` perturbed copies of its own
vectors whenever the graph is built or has grown by a tenth.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from kb.files import write_atomically, write_text_atomically

INDEX_FILE = "index.faiss"
INDEX_META = "index.json"
FLAT, HNSW = "flat", "hnsw"
FLAT_LIMIT = 50_000
HNSW_M = 32
EF_CONSTRUCTION = 80
EF_SEARCH = 128
COMPACT_SHARE = 0.1
EXACT_LIMIT = 20_000
RECALL_QUERIES = 200
RECALL_K = 10
CHUNK = 65_536


def kind_for(count: int, current: str = FLAT) -> str:
    """The index kind for ``count`` vectors: flat up to FLAT_LIMIT, HNSW above; an HNSW index stays one
    until it has shrunk to half the limit (so that a size near the limit does not flip back and forth)."""
    if current == HNSW:
        return HNSW if count > FLAT_LIMIT // 2 else FLAT
    return HNSW if count > FLAT_LIMIT else FLAT


def _empty(dim: int, kind: str):
    import faiss

    if kind == FLAT:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    graph = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_fp16, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = EF_CONSTRUCTION
    graph.hnsw.efSearch = EF_SEARCH
    return faiss.IndexIDMap2(graph)


class FaissIndex:
    """An id-mapped inner-product index: flat (exact) or HNSW, by size. Filters come as allowed ids."""

    pushes_filters = False

    def __init__(self, dim: int, index=None, kind: str = FLAT, removed: Iterable[int] = (),
                 recall: float | None = None, recall_count: int = 0) -> None:
        self.dim = dim
        self.kind = kind
        self._index = index if index is not None else _empty(dim, kind)
        self._removed: set[int] = set(int(i) for i in removed)
        self.recall = 1.0 if kind == FLAT else recall
        self._recall_count = recall_count

    def __len__(self) -> int:
        return int(self._index.ntotal) - len(self._removed)

    @property
    def on_disk(self) -> bool:
        """Whether ``save`` writes the index itself (a graph), not only its description (flat)."""
        return self.kind != FLAT

    @classmethod
    def build(cls, dim: int, batches: Iterable[tuple]) -> "FaissIndex":
        """A new index from (ids, vectors[, fields]) batches (flat, turned into HNSW if it grows past the limit)."""
        index = cls(dim)
        for ids, vectors, *_ in batches:
            index.add(ids, vectors)
        return index

    def add(self, ids: Sequence[int], vectors: np.ndarray, fields: Sequence | None = None) -> None:
        """Add vectors under the given ids (their fields are not needed: filters come as allowed ids)."""
        if not len(ids):
            return
        ids = np.asarray(ids, dtype=np.int64)
        if self._removed and not self._removed.isdisjoint(ids.tolist()):
            self._rebuild(self.kind)  # an id that comes back must not meet its tombstone
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        if kind_for(len(self), self.kind) != self.kind:
            self._rebuild(kind_for(len(self), self.kind))

    def remove(self, ids: Sequence[int]) -> None:
        """Remove the vectors with these ids (unknown ids are ignored)."""
        import faiss

        if not len(ids):
            return
        if self.kind == FLAT:
            self._index.remove_ids(faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64)))
            return
        ids = np.asarray(ids, dtype=np.int64)
        self._removed.update(ids[np.isin(ids, faiss.vector_to_array(self._index.id_map))].tolist())
        if len(self._removed) > COMPACT_SHARE * self._index.ntotal or kind_for(len(self), HNSW) == FLAT:
            self._rebuild(kind_for(len(self), HNSW))

    def search(self, query: np.ndarray, k: int, allowed: Sequence[int] | None = None,
               where=None) -> list[tuple[int, float]]:
        """The k nearest ids with their cosine scores, optionally among ``allowed`` ids only (a ``where``
        filter is turned into those by ``kb.storage.vectors.filtered_search``)."""
        import faiss

        if where is not None:
            raise ValueError("FaissIndex takes filters as allowed ids: use kb.storage.vectors.filtered_search")
        if k <= 0 or len(self) == 0 or (allowed is not None and len(allowed) == 0):
            return []
        if allowed is not None and self._removed:
            allowed = [i for i in allowed if int(i) not in self._removed]
        if self.kind == HNSW and allowed is not None and len(allowed) <= EXACT_LIMIT:
            return self._exact(query, k, allowed)
        params = None
        if self.kind == HNSW:
            params = faiss.SearchParametersHNSW(efSearch=max(EF_SEARCH, k))
        if allowed is not None:
            params = params or faiss.SearchParameters()
            params.sel = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            k = min(k, len(allowed))
        elif self._removed:
            params.sel = faiss.IDSelectorNot(faiss.IDSelectorBatch(np.fromiter(self._removed, dtype=np.int64)))
        matrix = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(matrix, min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def _exact(self, query: np.ndarray, k: int, allowed: Sequence[int]) -> list[tuple[int, float]]:
        """Exact search among a few allowed ids (a graph search under a narrow filter misses results)."""
        known, vectors = [], []
        for unit_id in allowed:
            try:
                vectors.append(self._index.reconstruct(int(unit_id)))
                known.append(int(unit_id))
            except RuntimeError:  # not in the index (the store is ahead of it): skipped, as a search would
                continue
        if not known:
            return []
        scores = np.vstack(vectors) @ np.asarray(query, dtype=np.float32).ravel()
        order = np.argsort(-scores)[:k]
        return [(known[i], float(scores[i])) for i in order]

    def reconstruct(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of these ids."""
        if not len(ids):
            return np.zeros((0, self.dim), np.float32)
        return np.vstack([self._index.reconstruct(int(i)) for i in ids])

    def items(self) -> Iterable[tuple[np.ndarray, np.ndarray]]:
        """Every (ids, vectors) it holds, in chunks, tombstones left out."""
        import faiss

        every = faiss.vector_to_array(self._index.id_map)
        inner = faiss.downcast_index(self._index.index)
        for start in range(0, len(every), CHUNK):
            ids = every[start:start + CHUNK]
            vectors = inner.reconstruct_n(start, len(ids))
            keep = np.array([int(i) not in self._removed for i in ids], dtype=bool) if self._removed else slice(None)
            yield ids[keep], vectors[keep]

    def _rebuild(self, kind: str) -> None:
        """The same vectors (tombstones dropped) in a new index of ``kind``."""
        fresh = _empty(self.dim, kind)
        for ids, vectors in self.items():
            fresh.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        self._index, self.kind, self._removed = fresh, kind, set()
        self.recall, self._recall_count = (1.0, len(self)) if kind == FLAT else (None, 0)

    def measure_recall(self, queries: int = RECALL_QUERIES, k: int = RECALL_K, seed: int = 0) -> float:
        """Recall@k of this index against exact search, on perturbed copies of its own vectors."""
        if self.kind == FLAT or len(self) == 0:
            return 1.0
        rng = np.random.default_rng(seed)
        sample = rng.choice(self._index.ntotal, size=min(queries, self._index.ntotal), replace=False)
        inner = self._index.index
        probes = np.vstack([inner.reconstruct(int(i)) for i in sample])
        probes = probes + rng.normal(0, 0.5 / np.sqrt(self.dim), probes.shape).astype(np.float32)
        probes /= np.linalg.norm(probes, axis=1, keepdims=True)
        truth = exact_top(self.items(), probes, k)
        found = [{i for i, _ in self.search(probe, k)} for probe in probes]
        return float(np.mean([len(f & set(t.tolist())) / k for f, t in zip(found, truth)]))

    def parameters(self) -> dict:
        """The kind and its parameters, as ``index.json`` records them."""
        if self.kind == FLAT:
            return {"kind": FLAT, "metric": "inner product", "vectors": "float32"}
        return {"kind": HNSW, "metric": "inner product", "vectors": "float16", "M": HNSW_M,
                "efConstruction": EF_CONSTRUCTION, "efSearch": EF_SEARCH}

    def save(self, folder: Path, generation: int) -> None:
        """Write the index atomically (temporary file, then rename) with its generation, kind and recall. A flat
        index writes no file: it is the store's vectors as they are, read again faster than a second copy on
        disk costs (``load`` gives None, and the caller builds it from the store)."""
        import faiss

        if self.kind == HNSW and (self.recall is None or len(self) > 1.1 * self._recall_count):
            self.recall, self._recall_count = self.measure_recall(), len(self)
        if self.kind == FLAT:
            (folder / INDEX_FILE).unlink(missing_ok=True)
        else:
            write_atomically(folder / INDEX_FILE, lambda temporary: faiss.write_index(self._index, str(temporary)))
        meta = {"generation": generation, "count": int(self._index.ntotal), **self.parameters(),
                "recall_at_10": self.recall, "recall_measured_at": self._recall_count,
                "removed": sorted(self._removed)}
        write_text_atomically(folder / INDEX_META, json.dumps(meta))

    @classmethod
    def load(cls, folder: Path, dim: int, generation: int) -> "FaissIndex | None":
        """The saved graph if it matches the store generation, else None (build it from the store, as for a
        flat index, which is never written)."""
        import faiss

        meta, path = folder / INDEX_META, folder / INDEX_FILE
        if not meta.exists() or not path.exists():
            return None
        try:
            saved = json.loads(meta.read_text(encoding="utf-8"))
        except ValueError:
            return None
        if saved.get("generation") != generation or saved.get("kind", FLAT) not in (FLAT, HNSW):
            return None
        index = faiss.read_index(str(path))
        if index.d != dim or index.ntotal != saved.get("count"):
            return None
        if saved.get("kind") == HNSW:
            faiss.downcast_index(index.index).hnsw.efSearch = EF_SEARCH
        return cls(dim, index, saved.get("kind", FLAT), saved.get("removed", ()), saved.get("recall_at_10"),
                   saved.get("recall_measured_at", 0))


def exact_top(batches: Iterable[tuple[np.ndarray, np.ndarray]], queries: np.ndarray, k: int) -> np.ndarray:
    """The ids of the k best inner products of each query over (ids, vectors) batches: exact search."""
    best_ids = np.full((len(queries), 0), -1, dtype=np.int64)
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    for ids, vectors in batches:
        scores = queries @ np.asarray(vectors, dtype=np.float32).T
        best_scores = np.hstack([best_scores, scores])
        best_ids = np.hstack([best_ids, np.broadcast_to(ids, scores.shape)])
        keep = np.argsort(-best_scores, axis=1)[:, :k]
        best_scores = np.take_along_axis(best_scores, keep, axis=1)
        best_ids = np.take_along_axis(best_ids, keep, axis=1)
    return best_ids
