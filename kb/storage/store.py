"""SQLite storage of articles, sentences, items and their vectors.

One table ``units`` holds every searchable unit (sentences, duties, skills,
and the parts of long sentences that search matches: ``ingest.parts``);
the views ``sentences`` and ``items`` show the first three. A unit's row id is its
FAISS id, and its vector is kept here too so that the index can always be
rebuilt from the database (the database is the source of truth).
"""
from __future__ import annotations

import logging
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from kb.errors import KBError
from kb.records import Article, Item, Sentence
from kb.storage.codec import blob_states, blob_vector, states_blob, vector_blob
from kb.storage.writers import BUSY_TIMEOUT_S, WRITER_FILE, disk_full, is_locked, note_writer, writer_name
from kb.storage.fts import ensure_fts
from kb.storage.token_pool import pool_states
from kb.storage.schema import SCHEMA, UNIT_COLUMNS, allow_parts, unit_filters

DB_FILE = "kb.sqlite"

log = logging.getLogger(__name__)

class Store:
    """The knowledge base's SQLite database (WAL mode)."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path

    @classmethod
    def open(cls, folder: Path) -> "Store":
        """Open (creating if needed) the database inside a knowledge-base folder."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / DB_FILE
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_S)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        allow_parts(connection)
        connection.execute("PRAGMA foreign_keys=ON")
        connection.executescript(SCHEMA)
        ensure_fts(connection)
        return cls(connection, path)

    def close(self) -> None:
        """Close the database connection."""
        self.connection.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: everything inside commits together or not at all.

        Another writer (a second ingest, an upload) waits up to BUSY_TIMEOUT_S for the first, then is
        refused with a message naming it; a full disk is refused as "nothing was changed"."""
        self._begin()
        writer = self.path.parent / WRITER_FILE
        note_writer(writer)
        try:
            try:
                yield
            except BaseException as error:
                self._rollback()
                raise disk_full(error, self.path.parent) or error
            try:
                self.connection.execute("COMMIT")
            except sqlite3.OperationalError as error:
                self._rollback()
                raise disk_full(error, self.path.parent) or error
        finally:
            writer.unlink(missing_ok=True)

    def _begin(self) -> None:
        """BEGIN IMMEDIATE, telling who is in the way while it waits, refused in one message after the wait."""
        self.connection.execute("PRAGMA busy_timeout = 0")
        try:
            self.connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if not is_locked(error):
                raise
        finally:
            self.connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        other = writer_name(self.path.parent / WRITER_FILE)
        log.warning("%s: %s is writing to this knowledge base; waiting up to %.0f s for it to finish",
                    self.path.parent, other, BUSY_TIMEOUT_S)
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if not is_locked(error):
                raise
            raise KBError(f"{other} is writing to this knowledge base (waited {BUSY_TIMEOUT_S:.0f} s)",
                          where=str(self.path.parent),
                          hint="wait for it to finish, then run this again") from None

    def _rollback(self) -> None:
        """ROLLBACK, unless SQLite has already rolled back itself (it does on a full disk)."""
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")

    @contextmanager
    def savepoint(self, name: str = "article") -> Iterator[None]:
        """A nested unit of work inside a transaction: rolled back alone on failure."""
        self.connection.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            if self.connection.in_transaction:  # SQLite may have rolled back the whole transaction (disk full)
                self.connection.execute(f"ROLLBACK TO {name}")
                self.connection.execute(f"RELEASE {name}")
            raise
        self.connection.execute(f"RELEASE {name}")

    # -- meta -----------------------------------------------------------------
    def get_meta(self, key: str, default: str = "") -> str:
        """A value of the meta table."""
        row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else default

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the meta table."""
        self.connection.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @property
    def generation(self) -> int:
        """A counter that every committed change of the units increases."""
        return int(self.get_meta("generation", "0"))

    def bump_generation(self) -> int:
        """Increase the generation counter (inside the writing transaction)."""
        value = self.generation + 1
        self.set_meta("generation", str(value))
        self.set_meta("updated_at", now())
        return value

    # -- articles -------------------------------------------------------------
    def article_hash(self, doc_id: str) -> str | None:
        """The content hash stored for a document, or None if it is new."""
        row = self.connection.execute("SELECT content_hash FROM articles WHERE doc_id = ?", (doc_id,)).fetchone()
        return row["content_hash"] if row else None

    def remove_article(self, doc_id: str) -> list[int]:
        """Delete a document and its units; returns the deleted unit ids."""
        ids = [row[0] for row in self.connection.execute("SELECT id FROM units WHERE doc_id = ?", (doc_id,))]
        self.connection.execute("DELETE FROM units WHERE doc_id = ?", (doc_id,))
        self.connection.execute("DELETE FROM articles WHERE doc_id = ?", (doc_id,))
        return ids

    def add_article(self, article: Article) -> int:
        """Insert an article row; returns its row id."""
        cursor = self.connection.execute(
            "INSERT INTO articles(doc_id, path, title, lang, encoding, content_hash, text, title_start,"
            " title_end, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (article.doc_id, article.path, article.title, article.lang, article.encoding,
             article.content_hash, article.text, article.title_span[0], article.title_span[1], now()))
        return int(cursor.lastrowid)

    def add_sentences(self, article_id: int, sentences: Sequence[Sentence], vectors: np.ndarray) -> list[int]:
        """Insert sentences with their vectors; returns their row ids in order."""
        ids = []
        for sentence, vector in zip(sentences, vectors):
            cursor = self.connection.execute(
                "INSERT INTO units(article_id, doc_id, kind, lang, start, end, text, sentence_index, vector)"
                " VALUES (?, ?, 'sentence', ?, ?, ?, ?, ?, ?)",
                (article_id, sentence.doc_id, sentence.lang, sentence.start, sentence.end, sentence.text,
                 sentence.index, vector_blob(vector)))
            ids.append(int(cursor.lastrowid))
        return ids

    def add_items(self, article_id: int, items: Sequence[Item], sentence_ids: dict[int, int],
                  vectors: np.ndarray) -> list[int]:
        """Insert duties and skills, linked to their sentence rows; returns their row ids."""
        ids = []
        for item, vector in zip(items, vectors):
            cursor = self.connection.execute(
                "INSERT INTO units(article_id, doc_id, kind, subtype, lang, start, end, text, sentence_index,"
                " sentence_id, confidence, source, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (article_id, item.doc_id, item.kind, item.subtype, item.lang, item.start, item.end, item.text,
                 item.sentence_index, sentence_ids.get(item.sentence_index), item.confidence, item.source,
                 vector_blob(vector)))
            ids.append(int(cursor.lastrowid))
        return ids

    def articles(self) -> list[dict]:
        """Every article with its unit counts, ordered by doc_id."""
        rows = self.connection.execute(
            "SELECT a.doc_id, a.title, a.lang, a.path, a.encoding, a.ingested_at,"
            " SUM(u.kind = 'sentence') AS sentences, SUM(u.kind = 'duty') AS duties,"
            " SUM(u.kind = 'skill') AS skills FROM articles a LEFT JOIN units u ON u.article_id = a.id"
            " GROUP BY a.id ORDER BY a.doc_id")
        return [{**dict(row), "sentences": row["sentences"] or 0, "duties": row["duties"] or 0,
                 "skills": row["skills"] or 0} for row in rows]

    def has_language(self, lang: str) -> bool:
        """Whether an article or a unit is in this language (the articles, a small table, are asked first)."""
        row = self.connection.execute("SELECT 1 FROM articles WHERE lang = ? UNION ALL "
                                      "SELECT 1 FROM units WHERE lang = ? LIMIT 1", (lang, lang)).fetchone()
        return row is not None

    def languages(self) -> list[str]:
        """The language codes of the stored articles and units, sorted."""
        rows = self.connection.execute("SELECT lang FROM articles UNION SELECT lang FROM units")
        return sorted(row[0] for row in rows if row[0])

    def article(self, doc_id: str) -> dict | None:
        """One article row with its full text, or None."""
        row = self.connection.execute("SELECT * FROM articles WHERE doc_id = ?", (doc_id,)).fetchone()
        return dict(row) if row else None

    # -- units ----------------------------------------------------------------
    def units(self, ids: Iterable[int]) -> dict[int, dict]:
        """Units by id, each with its article title and source sentence."""
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.connection.execute(
            f"SELECT u.{', u.'.join(UNIT_COLUMNS)}, a.title, s.text AS sentence, s.start AS sentence_start,"
            f" s.end AS sentence_end FROM units u JOIN articles a ON a.id = u.article_id"
            f" LEFT JOIN units s ON s.id = COALESCE(u.sentence_id, u.id) WHERE u.id IN ({marks})", ids)
        return {row["id"]: dict(row) for row in rows}

    def select_units(self, *, kinds: Sequence[str] = (), lang: str | None = None,
                     doc_id: str | None = None, subtype: str | None = None) -> list[dict]:
        """Units matching the filters, in document order, each with title and sentence."""
        where, params = unit_filters(kinds=kinds, lang=lang, doc_id=doc_id, subtype=subtype)
        rows = self.connection.execute(
            f"SELECT u.{', u.'.join(UNIT_COLUMNS)}, a.title, s.text AS sentence, s.start AS sentence_start,"
            f" s.end AS sentence_end FROM units u JOIN articles a ON a.id = u.article_id"
            f" LEFT JOIN units s ON s.id = COALESCE(u.sentence_id, u.id) WHERE {where}"
            f" ORDER BY u.doc_id, u.start, u.id", params)
        return [dict(row) for row in rows]

    def add_tokens(self, unit_ids: Sequence[int], arrays: Sequence[np.ndarray | bytes]) -> None:
        """Store units' token states (``kb.embedding.tokens``): pooled to a quarter of the word pieces
        (``kb.storage.token_pool``), 4-bit (``kb.storage.codec``); bytes are taken as already stored."""
        self.connection.executemany(
            "INSERT OR REPLACE INTO unit_tokens(unit_id, tokens) VALUES (?, ?)",
            [(int(unit_id), array if isinstance(array, bytes) else states_blob(pool_states(array)))
             for unit_id, array in zip(unit_ids, arrays)])

    def tokens(self, ids: Iterable[int], dim: int) -> dict[int, np.ndarray]:
        """The token states of the given units that have them, as (tokens x dim) float32 arrays."""
        return {int(row[0]): blob_states(row[1], dim)
                for row in self._rows_by_id("SELECT unit_id, tokens FROM unit_tokens WHERE unit_id IN ({})", ids)}

    def vectors_by_id(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        """The stored vectors of the given units that have one."""
        query = "SELECT id, vector FROM units WHERE vector IS NOT NULL AND id IN ({})"
        return {int(row[0]): blob_vector(row[1]) for row in self._rows_by_id(query, ids)}

    def _rows_by_id(self, query: str, ids: Iterable[int], chunk: int = 500) -> Iterator[sqlite3.Row]:
        """The rows of ``query`` (its ``IN ({})`` filled with the ids), asked in chunks under SQLite's
        limit on bound parameters."""
        ids = [int(unit_id) for unit_id in ids]
        for start in range(0, len(ids), chunk):
            part = ids[start:start + chunk]
            yield from self.connection.execute(query.format(", ".join("?" * len(part))), part)

    def token_mean(self, dim: int, limit: int = 5000) -> np.ndarray | None:
        """The mean token state over (up to ``limit``, spread over the table) units, or None without any."""
        total = self.connection.execute("SELECT COUNT(*) FROM unit_tokens").fetchone()[0]
        if not total:
            return None
        step = max(1, total // limit)  # every step-th unit: a sample spread over the table
        rows = self.connection.execute("SELECT tokens FROM unit_tokens WHERE unit_id % ? = 0 LIMIT ?",
                                       (step, limit)).fetchall()
        if not rows:  # ids that all miss the step (sparse ids after deletions): the first ones
            rows = self.connection.execute("SELECT tokens FROM unit_tokens LIMIT ?", (limit,)).fetchall()
        arrays = [blob_states(row[0], dim) for row in rows]
        return np.concatenate(arrays).mean(axis=0)

    def unit_ids(self, *, kinds: Sequence[str] = (), lang: str | None = None,
                 doc_id: str | None = None) -> list[int]:
        """Ids of the units matching the filters."""
        where, params = unit_filters(kinds=kinds, lang=lang, doc_id=doc_id)
        return [row[0] for row in self.connection.execute(f"SELECT u.id FROM units u WHERE {where}", params)]

    def vectors(self, batch: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Stream (ids, vectors) of every unit, in batches."""
        for ids, vectors, _ in self.vector_rows(batch):
            yield ids, vectors

    def vector_rows(self, batch: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray, list[tuple[str, str, str]]]]:
        """Stream (ids, vectors, fields) of every unit, in batches; fields[i] is the (doc_id, lang, kind) of
        ids[i], what a vector engine that filters by itself stores beside the vector."""
        cursor = self.connection.execute(
            "SELECT id, vector, doc_id, lang, kind FROM units WHERE vector IS NOT NULL ORDER BY id")
        while rows := cursor.fetchmany(batch):
            ids = np.array([row[0] for row in rows], dtype=np.int64)
            yield ids, np.vstack([blob_vector(row[1]) for row in rows]), [tuple(row[2:]) for row in rows]

    def unit_fields(self, ids: Sequence[int]) -> list[tuple[str, str, str]]:
        """The (doc_id, lang, kind) of each of these units, in their order."""
        found = {row[0]: tuple(row[1:]) for row in self._rows_by_id(
            "SELECT id, doc_id, lang, kind FROM units WHERE id IN ({})", ids)}
        return [found[int(unit_id)] for unit_id in ids]

    def counts(self) -> dict[str, int]:
        """How many articles, sentences, duties and skills are stored."""
        row = self.connection.execute(
            "SELECT (SELECT COUNT(*) FROM articles) AS articles, SUM(kind = 'sentence') AS sentences,"
            " SUM(kind = 'duty') AS duties, SUM(kind = 'skill') AS skills FROM units").fetchone()
        return {key: int(row[key] or 0) for key in ("articles", "sentences", "duties", "skills")}


    # -- groups (cross-language grouping of duties and skills, see kb.analysis.group) ----
    def unit_vectors(self, kinds: Sequence[str]) -> tuple[list[dict], np.ndarray]:
        """Units of these kinds (id, doc_id, kind, subtype, lang, start, text) with their stored vectors."""
        marks = ",".join("?" * len(kinds))
        rows = self.connection.execute(
            f"SELECT id, doc_id, kind, subtype, lang, start, text, vector FROM units"
            f" WHERE kind IN ({marks}) AND vector IS NOT NULL ORDER BY doc_id, start, id", list(kinds)).fetchall()
        vectors = [blob_vector(row["vector"]) for row in rows]
        units = [{key: row[key] for key in row.keys() if key != "vector"} for row in rows]
        return units, (np.vstack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32))

    def groups(self) -> list[dict]:
        """Every group row (with its seed vector as an array or None)."""
        rows = self.connection.execute("SELECT * FROM groups ORDER BY created_at, id").fetchall()
        return [{**dict(row), "seed_vector": None if row["seed_vector"] is None
                 else blob_vector(row["seed_vector"])} for row in rows]

    def group_members(self) -> dict[int, str]:
        """The group id of every grouped unit."""
        return {row[0]: row[1] for row in self.connection.execute("SELECT unit_id, group_id FROM group_members")}

    def save_groups(self, groups: Sequence[dict], members: Sequence[tuple[int, str, float]]) -> None:
        """Insert or update group rows and add (unit_id, group_id, similarity) memberships."""
        for group in groups:
            vector = group.get("seed_vector")
            self.connection.execute(
                "INSERT INTO groups(id, kind, seed, seed_lang, seed_vector, label, label_lang, subtype, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET label = excluded.label,"
                " label_lang = excluded.label_lang, subtype = excluded.subtype",
                (group["id"], group["kind"], group["seed"], group["seed_lang"],
                 None if vector is None else vector_blob(vector), group.get("label", ""),
                 group.get("label_lang", ""), group.get("subtype", ""), group.get("created_at") or now()))
        self.connection.executemany(
            "INSERT OR REPLACE INTO group_members(unit_id, group_id, similarity) VALUES (?, ?, ?)", members)

    def clear_groups(self) -> None:
        """Delete every group and membership (before a full regrouping)."""
        self.connection.execute("DELETE FROM group_members")
        self.connection.execute("DELETE FROM groups")

    def unit_groups(self) -> dict[int, tuple[str, str]]:
        """(group id, group label) of every grouped unit."""
        rows = self.connection.execute(
            "SELECT m.unit_id, g.id, g.label FROM group_members m JOIN groups g ON g.id = m.group_id")
        return {row[0]: (row[1], row[2]) for row in rows}


def now() -> str:
    """The current UTC time in ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
