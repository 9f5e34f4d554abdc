"""The FAISS engine of ``kb.storage.vectors.VectorIndex``: L2-normalized vectors, so inner products are cosines.

FAISS ids equal the ``units`` row ids of the store. The index is a cache of the
vectors kept in the database: a flat one is built from them whenever a process
opens the knowledge base (no second copy on disk); a partitioned one is written
to a file with the store generation it reflects, and a stale or missing file is
rebuilt from the database.

One index, chosen by size (``kind_for``): up to ``FLAT_LIMIT`` vectors a flat
index (exact search, a few milliseconds there); past it an inverted-file index
over float16 vectors (``IndexIVFScalarQuantizer``, 768 bytes a vector): the
vectors are partitioned by k-means into ``nlist`` cells and a query scans the
``nprobe`` nearest cells exactly. It was chosen over an HNSW graph by
measurement (docs/benchmarks.md): on the benchmark's real queries over many
near-duplicate sentences, HNSW needed efSearch 2048 for recall@10 0.98 at
100,000 vectors, the inverted file reaches it scanning a few per cent of them,
and it deletes in place (no tombstones). The switch happens as the index grows
past the limit, and back to flat when it has shrunk to half of it; the cells are
trained again when the index has grown ``RETRAIN_GROWTH`` times past the size
they were trained at. A filtered search is exact over the allowed vectors of the
cells nearest the query (as large a share of them as an unfiltered search scans). ``index.json`` records
the kind, its parameters and its recall@10 against exact search, measured on
``RECALL_QUERIES`` perturbed copies of its own vectors whenever the cells are
trained or the index has grown by a tenth.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from kb.files import write_atomically, write_text_atomically

INDEX_FILE = "index.faiss"
INDEX_META = "index.json"
FLAT, IVF = "flat", "ivf"
FLAT_LIMIT = 50_000
CELLS_PER_ROOT = 4  # nlist = 4 sqrt(n), FAISS's rule of thumb
MIN_NPROBE = 128  # cells scanned: the share below, at least this many (recall@10 0.99 at 100k and 1M units)
PROBE_SHARE = 1 / 16
TRAIN_PER_CELL = 40  # k-means training points per cell (FAISS warns under 39)
RETRAIN_GROWTH = 4
EXACT_LIMIT = 20_000
RECALL_QUERIES = 200
RECALL_K = 10
CHUNK = 65_536
TIE = 1e-6  # inner products this close are equal (float32 sums of the same vectors in another order)


def kind_for(count: int, current: str = FLAT) -> str:
    """The index kind for ``count`` vectors: flat up to FLAT_LIMIT, IVF above; an IVF index stays one
    until it has shrunk to half the limit (so that a size near the limit does not flip back and forth)."""
    if current == IVF:
        return IVF if count > FLAT_LIMIT // 2 else FLAT
    return IVF if count > FLAT_LIMIT else FLAT


def cells_for(count: int) -> int:
    """The number of k-means cells for ``count`` vectors (with enough of them to train each cell)."""
    return max(16, min(int(CELLS_PER_ROOT * np.sqrt(max(count, 1))), count // TRAIN_PER_CELL))


def probes_for(cells: int) -> int:
    """The cells a query scans."""
    return min(cells, max(MIN_NPROBE, int(round(cells * PROBE_SHARE))))


def _empty(dim: int, kind: str, sample: np.ndarray | None = None):
    """A new index of ``kind``; an IVF one is trained on ``sample``."""
    import faiss

    if kind == FLAT:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    cells = cells_for(len(sample))
    index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, cells, faiss.ScalarQuantizer.QT_fp16,
                                          faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(sample), size=min(len(sample), TRAIN_PER_CELL * cells), replace=False)
    index.train(np.ascontiguousarray(sample[np.sort(chosen)], dtype=np.float32))
    index.nprobe = probes_for(cells)
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct and remove by unit id
    return index


class FaissIndex:
    """An inner-product index under unit ids: flat (exact) or IVF, by size. Filters come as allowed ids."""

    pushes_filters = False

    def __init__(self, dim: int, index=None, kind: str = FLAT, recall: float | None = None,
                 recall_count: int = 0, trained_at: int = 0) -> None:
        self.dim = dim
        self.kind = kind
        self._index = index if index is not None else _empty(dim, kind)
        self.recall = 1.0 if kind == FLAT else recall
        self._recall_count = recall_count
        self._trained_at = trained_at
        self._cells: tuple[np.ndarray, np.ndarray] | None = None  # IVF: (ids sorted, the cell of each)
        self._centroids: np.ndarray | None = None  # IVF: the cells' centres, fixed until it is trained again

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def close(self) -> None:
        """Nothing is held open: the index lives in this process."""

    @property
    def on_disk(self) -> bool:
        """Whether ``save`` writes the index itself (IVF), not only its description (flat)."""
        return self.kind != FLAT

    @classmethod
    def build(cls, dim: int, batches: Iterable[tuple]) -> "FaissIndex":
        """A new index from (ids, vectors[, fields]) batches (flat, turned into IVF if it grows past the limit)."""
        index = cls(dim)
        for ids, vectors, *_ in batches:
            index.add(ids, vectors)
        return index

    def add(self, ids: Sequence[int], vectors: np.ndarray, fields: Sequence | None = None) -> None:
        """Add vectors under the given ids (their fields are not needed: filters come as allowed ids)."""
        if not len(ids):
            return
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
        self._cells = None
        wanted = kind_for(len(self), self.kind)
        if wanted != self.kind or (wanted == IVF and len(self) > RETRAIN_GROWTH * self._trained_at):
            self._rebuild(wanted)

    def remove(self, ids: Sequence[int]) -> None:
        """Remove the vectors with these ids (unknown ids are ignored)."""
        import faiss

        if not len(ids):
            return
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        self._index.remove_ids(faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids)))  # what the IVF id map takes
        self._cells = None
        if kind_for(len(self), self.kind) != self.kind:
            self._rebuild(FLAT)

    def search(self, query: np.ndarray, k: int, allowed: Sequence[int] | None = None,
               where=None) -> list[tuple[int, float]]:
        """The k nearest ids with their cosine scores, optionally among ``allowed`` ids only (a ``where``
        filter is turned into those by ``kb.storage.vectors.filtered_search``)."""
        import faiss

        if where is not None:
            raise ValueError("FaissIndex takes filters as allowed ids: use kb.storage.vectors.filtered_search")
        if k <= 0 or len(self) == 0 or (allowed is not None and len(allowed) == 0):
            return []
        if self.kind == IVF and allowed is not None:
            return self._filtered(query, k, allowed)
        params = faiss.SearchParametersIVF(nprobe=self._index.nprobe) if self.kind == IVF else None
        if allowed is not None:
            params = faiss.SearchParameters()
            params.sel = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            k = min(k, len(allowed))
        matrix = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(matrix, min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def _filtered(self, query: np.ndarray, k: int, allowed: Sequence[int]) -> list[tuple[int, float]]:
        """An IVF search among ``allowed`` ids: exact over the allowed vectors of the cells nearest the
        query, taken until they hold the share of them that an unfiltered search scans, and at least
        EXACT_LIMIT (all of them under a narrow filter). Scanning the
        usual nearest cells with the filter applied would miss: under a language filter the allowed
        vectors often lie in cells far from the query (another language's)."""
        ids, cells = self._membership()
        allowed = np.unique(np.asarray(allowed, dtype=np.int64))
        positions = np.minimum(np.searchsorted(ids, allowed), len(ids) - 1)
        known = ids[positions] == allowed  # the store may be ahead of the index: skipped, as a search would
        allowed, allowed_cells = allowed[known], cells[positions[known]]
        wanted = max(EXACT_LIMIT, int(np.ceil(len(allowed) * self._index.nprobe / self._index.nlist)))
        if len(allowed) > wanted:
            if self._centroids is None:
                self._centroids = self._index.quantizer.reconstruct_n(0, self._index.nlist)
            nearest = np.argsort(-(self._centroids @ np.asarray(query, dtype=np.float32).ravel()))
            held = np.cumsum(np.bincount(allowed_cells, minlength=self._index.nlist)[nearest])
            allowed = allowed[np.isin(allowed_cells, nearest[:np.searchsorted(held, wanted) + 1])]
        if not len(allowed):
            return []
        scores = self.reconstruct(allowed) @ np.asarray(query, dtype=np.float32).ravel()
        order = np.argsort(-scores)[:k]
        return [(int(allowed[i]), float(scores[i])) for i in order]

    def _membership(self) -> tuple[np.ndarray, np.ndarray]:
        """Every id of the IVF index, sorted, with the cell it lies in (kept until the index changes)."""
        import faiss

        if self._cells is None:
            lists = self._index.invlists
            sizes = [lists.list_size(cell) for cell in range(lists.nlist)]
            ids = [faiss.rev_swig_ptr(lists.get_ids(cell), size).copy() for cell, size in enumerate(sizes) if size]
            every = np.concatenate(ids) if ids else np.zeros(0, np.int64)
            cells = np.repeat(np.arange(lists.nlist, dtype=np.int64), sizes)
            order = np.argsort(every, kind="stable")
            self._cells = (every[order], cells[order])
        return self._cells

    def reconstruct(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of these ids."""
        if not len(ids):
            return np.zeros((0, self.dim), np.float32)
        return self._index.reconstruct_batch(np.ascontiguousarray(ids, dtype=np.int64))

    def ids(self) -> np.ndarray:
        """Every id the index holds."""
        import faiss

        if self.kind == FLAT:
            return faiss.vector_to_array(self._index.id_map)
        return self._membership()[0]

    def items(self) -> Iterable[tuple[np.ndarray, np.ndarray]]:
        """Every (ids, vectors) it holds, in chunks."""
        every = self.ids()
        for start in range(0, len(every), CHUNK):
            ids = every[start:start + CHUNK]
            yield ids, self.reconstruct(ids)

    def _rebuild(self, kind: str) -> None:
        """The same vectors in a new index of ``kind`` (IVF cells trained on them)."""
        every = self.ids()
        sample = self.reconstruct(every) if kind == IVF else None
        fresh = _empty(self.dim, kind, sample)
        for ids, vectors in ([(every, sample)] if sample is not None else self.items()):
            fresh.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        self._index, self.kind, self._cells, self._centroids = fresh, kind, None, None
        self.recall, self._recall_count = (1.0, len(self)) if kind == FLAT else (None, 0)
        self._trained_at = len(self) if kind == IVF else 0

    def measure_recall(self, queries: int = RECALL_QUERIES, k: int = RECALL_K, seed: int = 0) -> float:
        """Recall@k of this index against exact search, on perturbed copies of its own vectors."""
        if self.kind == FLAT or len(self) == 0:
            return 1.0
        rng = np.random.default_rng(seed)
        every = self.ids()
        probes = self.reconstruct(every[rng.choice(len(every), size=min(queries, len(every)), replace=False)])
        probes = probes + rng.normal(0, 0.5 / np.sqrt(self.dim), probes.shape).astype(np.float32)
        probes /= np.linalg.norm(probes, axis=1, keepdims=True)
        truth, truth_scores = exact_top(self.items(), probes, k, with_scores=True)
        found = [[i for i, _ in self.search(probe, k)] for probe in probes]
        found_scores = [self.reconstruct(np.array(ids, dtype=np.int64)) @ probe for ids, probe in zip(found, probes)]
        return recall_at_k(found, found_scores, truth, truth_scores)

    def parameters(self) -> dict:
        """The kind and its parameters, as ``index.json`` records them."""
        if self.kind == FLAT:
            return {"kind": FLAT, "metric": "inner product", "vectors": "float32"}
        return {"kind": IVF, "metric": "inner product", "vectors": "float16", "nlist": int(self._index.nlist),
                "nprobe": int(self._index.nprobe), "trained_at": self._trained_at}

    def save(self, folder: Path, generation: int) -> None:
        """Write the index atomically (temporary file, then rename) with its generation, kind and recall. A flat
        index writes no file: it is the store's vectors as they are, read again faster than a second copy on
        disk costs (``load`` gives None, and the caller builds it from the store)."""
        import faiss

        if self.kind == IVF and (self.recall is None or len(self) > 1.1 * self._recall_count):
            self.recall, self._recall_count = self.measure_recall(), len(self)
        if self.kind == FLAT:
            (folder / INDEX_FILE).unlink(missing_ok=True)
        else:
            write_atomically(folder / INDEX_FILE, lambda temporary: faiss.write_index(self._index, str(temporary)))
        meta = {"generation": generation, "count": len(self), **self.parameters(),
                "recall_at_10": self.recall, "recall_measured_at": self._recall_count}
        write_text_atomically(folder / INDEX_META, json.dumps(meta))

    @classmethod
    def load(cls, folder: Path, dim: int, generation: int) -> "FaissIndex | None":
        """The saved IVF index if it matches the store generation, else None (build it from the store, as for
        a flat index, which is never written, or an index of a kind this version does not write)."""
        import faiss

        meta, path = folder / INDEX_META, folder / INDEX_FILE
        if not meta.exists() or not path.exists():
            return None
        try:
            saved = json.loads(meta.read_text(encoding="utf-8"))
        except ValueError:
            return None
        if saved.get("generation") != generation or saved.get("kind") != IVF:
            return None
        index = faiss.read_index(str(path))
        if index.d != dim or index.ntotal != saved.get("count"):
            return None
        index.nprobe = saved.get("nprobe", probes_for(index.nlist))
        return cls(dim, index, IVF, saved.get("recall_at_10"), saved.get("recall_measured_at", 0),
                   saved.get("trained_at", index.ntotal))


def exact_top(batches: Iterable[tuple[np.ndarray, np.ndarray]], queries: np.ndarray, k: int,
              with_scores: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The ids of the k best inner products of each query over (ids, vectors) batches: exact search; with
    ``with_scores``, (ids, their inner products)."""
    best_ids = np.full((len(queries), 0), -1, dtype=np.int64)
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    for ids, vectors in batches:
        scores = queries @ np.asarray(vectors, dtype=np.float32).T
        best_scores = np.hstack([best_scores, scores])
        best_ids = np.hstack([best_ids, np.broadcast_to(ids, scores.shape)])
        keep = np.argsort(-best_scores, axis=1)[:, :k]
        best_scores = np.take_along_axis(best_scores, keep, axis=1)
        best_ids = np.take_along_axis(best_ids, keep, axis=1)
    return (best_ids, best_scores) if with_scores else best_ids


def recall_at_k(found: Sequence[Sequence[int]], found_scores: Sequence[np.ndarray], truth: np.ndarray,
                truth_scores: np.ndarray) -> float:
    """Recall@k of search results against exact search (``exact_top(..., with_scores=True)``). A found id
    that is not among exact search's k but scores as high as its k-th (``found_scores``: exact inner
    products) ties with it and counts as right: equal texts have equal vectors, and which of them fill the
    last places is chance (on 150 ESCO descriptions, each of the 3 of 60 queries whose flat results differed
    from exact search differed by such a tie)."""
    hits = []
    for ids, scores, best, last in zip(found, found_scores, truth, truth_scores[:, -1]):
        right = set(best.tolist())
        hits.append(sum(1 for unit_id, score in zip(ids, scores) if unit_id in right or score >= last - TIE))
    return float(np.mean(hits) / truth.shape[1]) if hits else 1.0
