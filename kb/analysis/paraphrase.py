"""Items embedded as paraphrases, for compare's duty alignment.

e5 is trained with "query: " on both sides for symmetric tasks (paraphrase and
bitext matching) and with "query: " / "passage: " for search. Aligning the duties
of two roles is symmetric: embedded with "query: " on both sides, the labelled
translations of ``tests/data/groups.jsonl`` align with precision 0.99 and recall
0.73 at a cosine of 0.35 (one pass; see ``kb.analysis.compare`` for its second), against
0.98 / 0.70 for the stored passage vectors at 0.40, and the corpus's spurious pairs ("hantera chefsscheman" with "skapa
flödesscheman") go (``python -m eval.grouping``). Grouping keeps the passage
vectors, where the paraphrase ones scored lower.

The vectors are derived data: kept in ``<kb>/search/paraphrase.npz`` with each
item's id and text, and brought up to date on use, so that only items added since
are embedded.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from kb.search.bias import SEARCH_DIR
from kb.embedding.embedders import embed_queries
from kb.files import write_atomically

CACHE_FILE = "paraphrase.npz"
_lock = threading.Lock()  # the app compares from several threads


def paraphrase_vectors(kb, units: list[dict]) -> np.ndarray:
    """The paraphrase vectors of ``units`` (rows with ``id`` and ``text``), embedding only those not cached."""
    with _lock:
        path = Path(kb.folder) / SEARCH_DIR / CACHE_FILE
        cached = _load(path, kb.embedder.dim)
        missing = [unit for unit in units if (unit["id"], unit["text"]) not in cached]
        if missing:
            cached.update(zip(((unit["id"], unit["text"]) for unit in missing),
                              embed_queries(kb.embedder, [unit["text"] for unit in missing])))
            wanted = {(unit["id"], unit["text"]) for unit in units}
            _save(path, {key: vector for key, vector in cached.items() if key in wanted})
        if not units:
            return np.zeros((0, kb.embedder.dim), dtype=np.float32)
        return np.vstack([cached[(unit["id"], unit["text"])] for unit in units])


def _load(path: Path, dim: int) -> dict[tuple[int, str], np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as arrays:
            if arrays["vectors"].shape[1:] != (dim,):
                return {}  # another embedder's vectors
            return {(int(unit_id), str(text)): vector
                    for unit_id, text, vector in zip(arrays["ids"], arrays["texts"], arrays["vectors"])}
    except (OSError, ValueError, KeyError):
        return {}


def _save(path: Path, vectors: dict[tuple[int, str], np.ndarray]) -> None:
    """Write atomically (temporary file, then rename)."""
    keys = list(vectors)
    write_atomically(path, lambda temporary: np.savez(
        temporary, ids=np.array([key[0] for key in keys], dtype=np.int64),
        texts=np.array([key[1] for key in keys], dtype=str),
        vectors=np.vstack(list(vectors.values())).astype(np.float32) if keys else np.zeros((0, 0), np.float32)))
