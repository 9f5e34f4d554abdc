"""The Milvus engine of ``kb.storage.vectors.VectorIndex``: a collection of unit vectors with their
document, language and kind, so that a search's filters run inside the engine, before its top-k.

One client API for both shapes (``pymilvus``): ``milvus-lite://FILE.db`` runs Milvus in this
process over a local file (tests, one machine), ``milvus://HOST:PORT/COLLECTION`` talks to a
Milvus server or cluster. The collection is a cache of the vectors kept in the store, like the
FAISS file: writes are staged in memory and sent by ``save`` after the store has committed, then
flushed (Milvus searches unflushed rows by a slow scan); ``engine.json`` in the knowledge-base
folder records the store generation the collection reflects, and a collection behind the store
(an interrupted save, another tool's writes) is rebuilt from the store when opened.
"""
from __future__ import annotations

import json
import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence
from urllib.parse import parse_qs, urlsplit

import numpy as np

from kb.errors import KBError
from kb.files import write_text_atomically
from kb.storage.vectors import Rows, UnitFilter

ENGINE_FILE = "engine.json"
DEFAULT_COLLECTION = "units"
INDEX_TYPES = ("FLAT", "HNSW")
HNSW_PARAMS = {"M": 32, "efConstruction": 80}
EF_SEARCH = 128
BATCH = 1000
MAX_LIMIT = 16_384  # Milvus's largest top-k
FIELD_LENGTHS = {"doc_id": 1024, "lang": 32, "kind": 16}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
INSTALL_HINT = "install the scale-out engines with 'pip install -r requirements-scale.txt'"


@dataclass(frozen=True)
class Target:
    """Where a vectors URI points: the client's address, the collection and its index type."""

    uri: str  # as the user wrote it (kept in the settings)
    address: str  # a local .db file (milvus-lite) or http(s)://host:port
    collection: str
    index_type: str

    @property
    def local(self) -> bool:
        """Whether this is milvus-lite (in-process, over a file)."""
        return not self.address.startswith(("http://", "https://"))


def parse(uri: str, folder: Path) -> Target:
    """The target of ``milvus-lite://FILE.db`` (relative to the knowledge-base folder, or absolute with
    ``///``), ``milvus://HOST:PORT/COLLECTION`` or ``http(s)://HOST:PORT/COLLECTION``, with an optional
    ``?index=FLAT|HNSW`` (milvus-lite defaults to FLAT, exact; a server to HNSW) and ``?collection=NAME``."""
    parts = urlsplit(uri)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if parts.scheme == "milvus-lite":
        path = Path(parts.netloc + parts.path)
        if not str(path).endswith(".db"):
            raise KBError(f"milvus-lite needs a file ending in .db, not {str(path)!r}",
                          hint="write milvus-lite://vectors.db (inside the knowledge base) or milvus-lite:///abs/path.db")
        address, collection, default_index = str(path if path.is_absolute() else folder / path), "", "FLAT"
    else:
        if not parts.hostname:
            raise KBError(f"no host in vector store {uri!r}", hint="write milvus://HOST:PORT/COLLECTION")
        scheme = "https" if parts.scheme == "https" else "http"
        address = f"{scheme}://{parts.hostname}:{parts.port or 19530}"
        collection, default_index = parts.path.strip("/"), "HNSW"
    collection = query.get("collection", collection) or DEFAULT_COLLECTION
    index_type = query.get("index", default_index).upper()
    if not _NAME.fullmatch(collection):
        raise KBError(f"invalid Milvus collection name {collection!r}",
                      hint="use letters, digits and underscores, starting with a letter")
    if index_type not in INDEX_TYPES:
        raise KBError(f"unknown Milvus index type {index_type!r}", hint=f"use one of {', '.join(INDEX_TYPES)}")
    return Target(uri, address, collection, index_type)


def connect(uri: str, folder: Path, dim: int) -> "MilvusIndex":
    """A client on the engine ``uri`` names; an engine that cannot be reached (or is not installed) is
    refused with a KBError, and nothing is written."""
    target = parse(uri, folder)
    try:
        from pymilvus import MilvusClient
    except ImportError as error:
        raise KBError(f"the vector store {uri!r} needs pymilvus, which is not installed", hint=INSTALL_HINT) from error
    try:
        if target.local:
            Path(target.address).parent.mkdir(parents=True, exist_ok=True)
            with _silenced("milvus_lite"):  # its traceback of a locked file: the KBError below says it in a line
                client = MilvusClient(uri=target.address)
        else:
            client = MilvusClient(uri=target.address, timeout=10)
    except Exception as error:  # pymilvus raises MilvusException (and grpc errors) for every way of failing
        if target.local:
            raise KBError(f"cannot open the vector store {target.address}: another process has it open, or it is "
                          f"no milvus-lite file ({error.__class__.__name__})",
                          hint="milvus-lite serves one process at a time: close the other program using this "
                               "knowledge base (app, ingest), or use a Milvus server (milvus://HOST:PORT/COLLECTION) "
                               "for several") from error
        raise KBError(f"cannot reach the vector store {uri} ({error.__class__.__name__}: {error}); nothing was written",
                      hint="start the Milvus server, or correct the address given with --vectors") from error
    return MilvusIndex(client, target, dim)


@contextmanager
def _silenced(name: str) -> Iterator[None]:
    """A library's logger quiet for the duration (its errors are reported by the caller)."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def expression(where: UnitFilter | None, allowed: Sequence[int] | None = None) -> str:
    """A Milvus boolean expression for the filters (string values quoted as JSON, which Milvus reads)."""
    clauses = []
    if where is not None and where.kinds:
        clauses.append(f"kind in {json.dumps(list(where.kinds))}")
    if where is not None and where.lang:
        clauses.append(f"lang == {json.dumps(where.lang, ensure_ascii=False)}")
    if where is not None and where.doc_id:
        clauses.append(f"doc_id == {json.dumps(where.doc_id, ensure_ascii=False)}")
    if allowed is not None:
        clauses.append(f"id in {json.dumps([int(unit_id) for unit_id in allowed])}")
    return " and ".join(clauses)


class MilvusIndex:
    """A Milvus collection of unit vectors with their doc_id, lang and kind; filters pushed down."""

    pushes_filters = True

    def __init__(self, client, target: Target, dim: int) -> None:
        self.dim = dim
        self.target = target
        self._client = client
        self._count = 0
        self._added: dict[int, tuple[np.ndarray, tuple[str, str, str]]] = {}
        self._removed: set[int] = set()

    @classmethod
    def open(cls, uri: str, folder: Path, dim: int, generation: int, rows: Callable[[], Rows]) -> "MilvusIndex":
        """The collection of a knowledge base, rebuilt from the store's rows when it is missing or behind."""
        index = connect(uri, folder, dim)
        name = index.target.collection
        saved = read_engine_file(folder)
        current = (saved.get("generation") == generation and saved.get("collection") == name
                   and index._client.has_collection(name))
        if current:
            index._client.load_collection(name)
            index._count = index._stored_count()
            current = index._count == saved.get("count")
        if not current:
            index.rebuild(rows())
            index.save(folder, generation)
        return index

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        """Close the client."""
        self._client.close()

    # -- writing: staged, sent by save() --------------------------------------------
    def add(self, ids: Sequence[int], vectors: np.ndarray,
            fields: Sequence[tuple[str, str, str]] | None = None) -> None:
        """Stage vectors under these ids with their (doc_id, lang, kind); sent to the engine by ``save``."""
        if len(ids) and fields is None:
            raise ValueError("MilvusIndex.add needs each vector's (doc_id, lang, kind)")
        for unit_id, vector, field in zip(ids, np.asarray(vectors, dtype=np.float32), fields or ()):
            self._added[int(unit_id)] = (vector, tuple(field))

    def remove(self, ids: Sequence[int]) -> None:
        """Stage the removal of these ids (sent by ``save``)."""
        for unit_id in ids:
            self._added.pop(int(unit_id), None)
            self._removed.add(int(unit_id))

    def save(self, folder: Path, generation: int) -> None:
        """Send the staged removals and additions, flush, and record the generation they reflect."""
        name = self.target.collection
        if self._removed:
            removed = sorted(self._removed)
            for start in range(0, len(removed), BATCH):
                self._client.delete(name, ids=removed[start:start + BATCH])
        added = list(self._added.items())
        for start in range(0, len(added), BATCH):
            self._client.upsert(name, [row(unit_id, vector, field) for unit_id, (vector, field) in added[start:start + BATCH]])
        self._client.flush(name)
        self._added, self._removed = {}, set()
        self._count = self._stored_count()
        write_text_atomically(folder / ENGINE_FILE, json.dumps(
            {"engine": "milvus", "uri": self.target.uri, "collection": name, "index": self.target.index_type,
             "generation": generation, "count": self._count}))

    def rebuild(self, batches: Rows) -> None:
        """A new collection (the old one dropped) with every (ids, vectors, fields) batch."""
        from pymilvus import DataType

        client, name = self._client, self.target.collection
        if client.has_collection(name):
            client.drop_collection(name)
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        for field, length in FIELD_LENGTHS.items():
            schema.add_field(field, DataType.VARCHAR, max_length=length)
        params = client.prepare_index_params()
        params.add_index(field_name="vector", index_type=self.target.index_type, metric_type="IP",
                         params=HNSW_PARAMS if self.target.index_type == "HNSW" else {})
        client.create_collection(name, schema=schema)
        client.create_index(name, params, sync=False)  # milvus-lite cannot wait for an index (no AllocTimestamp)
        for ids, vectors, fields in batches:
            self.add(ids, vectors, fields)
            if len(self._added) >= BATCH:
                client.insert(name, [row(unit_id, vector, field) for unit_id, (vector, field) in self._added.items()])
                self._added = {}
        self._removed = set()
        client.load_collection(name)

    # -- reading ------------------------------------------------------------------
    def search(self, query: np.ndarray, k: int, allowed: Sequence[int] | None = None,
               where: UnitFilter | None = None) -> list[tuple[int, float]]:
        """The k nearest ids with their cosine scores; the filters are the engine's expression, applied
        before its top-k (what ``save`` has not sent yet is not searched)."""
        if k <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        params = {"metric_type": "IP", "params": {"ef": max(EF_SEARCH, k)} if self.target.index_type == "HNSW" else {}}
        found = self._client.search(self.target.collection, data=[np.asarray(query, dtype=np.float32).ravel().tolist()],
                                    limit=min(k, MAX_LIMIT), filter=expression(where, allowed), search_params=params)
        return [(int(hit["id"]), float(hit["distance"])) for hit in found[0]]

    def reconstruct(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of these ids (staged ones included)."""
        ids = [int(unit_id) for unit_id in ids]
        wanted = set(ids)
        found = {unit_id: vector for unit_id, (vector, _) in self._added.items() if unit_id in wanted}
        missing = [unit_id for unit_id in ids if unit_id not in found]
        for start in range(0, len(missing), BATCH):
            for entity in self._client.get(self.target.collection, ids=missing[start:start + BATCH],
                                           output_fields=["vector"]):
                found[int(entity["id"])] = np.asarray(entity["vector"], dtype=np.float32)
        absent = [unit_id for unit_id in ids if unit_id not in found]
        if absent:
            raise KBError(f"the vector store {self.target.uri} lacks {len(absent)} units of the knowledge base",
                          hint="delete engine.json in the knowledge-base folder to rebuild the collection from it")
        return np.vstack([found[unit_id] for unit_id in ids]) if ids else np.zeros((0, self.dim), np.float32)

    def _stored_count(self) -> int:
        result = self._client.query(self.target.collection, filter="", output_fields=["count(*)"])
        return int(result[0]["count(*)"])


def row(unit_id: int, vector: np.ndarray, field: tuple[str, str, str]) -> dict:
    """One entity of the collection."""
    doc_id, lang, kind = field
    return {"id": unit_id, "vector": vector.tolist(), "doc_id": doc_id, "lang": lang, "kind": kind}


def read_engine_file(folder: Path) -> dict:
    """What the last save recorded (empty when there is no such file or it is unreadable: rebuild)."""
    try:
        return json.loads((folder / ENGINE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
