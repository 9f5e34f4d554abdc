"""The vector engines of a knowledge base, named by a URI (``kb.storage.vectors`` has their protocol).

The ``vectors`` URI of the knowledge base's settings (``kb.settings``) names the engine:

* ``""`` or ``faiss``: FAISS files in the knowledge-base folder (``kb.storage.faiss_index``),
  the embedded default;
* ``milvus-lite://vectors.db`` (relative to the folder) or ``milvus-lite:///abs/path.db``:
  Milvus's in-process engine, the same client as a server (``kb.storage.milvus_index``);
* ``milvus://host:19530/collection`` (``?index=HNSW|FLAT``): a Milvus server or cluster.

Engines are imported when named, so the default path loads no database client.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from kb.errors import KBError
from kb.storage.vectors import Rows, VectorIndex

FAISS = "faiss"
MILVUS_SCHEMES = ("milvus-lite", "milvus", "http", "https")


def engine_name(uri: str) -> str:
    """The engine a vectors URI names (``faiss`` or ``milvus``); an unknown one is refused."""
    scheme = urlsplit(uri).scheme if "://" in (uri or "") else (uri or FAISS)
    if scheme in ("", FAISS):
        return FAISS
    if scheme in MILVUS_SCHEMES:
        return "milvus"
    raise KBError(f"unknown vector store {uri!r}",
                  hint="use faiss (the default), milvus-lite://FILE.db or milvus://HOST:PORT/COLLECTION")


def build_index(dim: int, batches: Rows) -> VectorIndex:
    """A new in-memory FAISS index from (ids, vectors[, fields]) batches (the corrected indexes of
    ``kb.search.bias``, the benchmarks)."""
    from kb.storage.faiss_index import FaissIndex

    return FaissIndex.build(dim, batches)


def load_index(folder: Path, dim: int, generation: int) -> VectorIndex | None:
    """The saved FAISS index if it matches the store generation, else None (rebuild it)."""
    from kb.storage.faiss_index import FaissIndex

    return FaissIndex.load(folder, dim, generation)


def open_index(folder: Path, dim: int, generation: int, rows: Callable[[], Rows] = lambda: (),
               uri: str = "") -> VectorIndex:
    """The knowledge base's index in the engine ``uri`` names: the saved one, or one rebuilt from the
    store's ``rows()`` (and saved) when it is missing or stale."""
    if engine_name(uri) == "milvus":
        from kb.storage.milvus_index import MilvusIndex

        return MilvusIndex.open(uri, folder, dim, generation, rows)
    index = load_index(folder, dim, generation)
    if index is None:
        index = build_index(dim, rows())
        if index.on_disk:  # a flat index is built from the store on every open, and written by no reader
            index.save(folder, generation)
    return index


def check_reachable(uri: str, folder: Path, dim: int) -> None:
    """Refuse, before anything is written, a vectors URI whose engine cannot be reached."""
    if engine_name(uri) == "milvus":
        from kb.storage.milvus_index import connect

        connect(uri, folder, dim).close()
