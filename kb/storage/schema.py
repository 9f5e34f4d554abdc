"""The SQLite schema of a knowledge base, its migration, and the common unit filters."""
from __future__ import annotations

import sqlite3
from typing import Sequence

from kb.records import PART, STORED_KINDS

_KIND_LIST = ", ".join(f"'{kind}'" for kind in STORED_KINDS)


def units_table(name: str) -> str:
    """The definition of the units table under a name (``allow_parts`` builds a new one beside the old)."""
    return f"""CREATE TABLE IF NOT EXISTS {name} (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    doc_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ({_KIND_LIST})),
    subtype TEXT NOT NULL DEFAULT '',
    lang TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    sentence_index INTEGER NOT NULL,
    sentence_id INTEGER,
    confidence REAL NOT NULL DEFAULT 1.0,
    source TEXT NOT NULL DEFAULT '',
    vector BLOB
);
"""


SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    title TEXT NOT NULL,
    lang TEXT NOT NULL,
    encoding TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    text TEXT NOT NULL,
    title_start INTEGER NOT NULL DEFAULT 0,
    title_end INTEGER NOT NULL DEFAULT 0,
    ingested_at TEXT NOT NULL
);
{units_table("units")}CREATE INDEX IF NOT EXISTS units_doc ON units(doc_id, kind);
CREATE INDEX IF NOT EXISTS units_sentence ON units(sentence_id);
CREATE VIEW IF NOT EXISTS sentences AS
    SELECT id, doc_id, lang, start, end, text, sentence_index FROM units WHERE kind = 'sentence';
CREATE VIEW IF NOT EXISTS items AS
    SELECT id, doc_id, kind, subtype, lang, start, end, text, sentence_id, confidence, source
    FROM units WHERE kind IN ('duty', 'skill');

CREATE TABLE IF NOT EXISTS groups (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    seed TEXT NOT NULL,
    seed_lang TEXT NOT NULL,
    seed_vector BLOB,
    label TEXT NOT NULL DEFAULT '',
    label_lang TEXT NOT NULL DEFAULT '',
    subtype TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS group_members (
    unit_id INTEGER PRIMARY KEY REFERENCES units(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    similarity REAL NOT NULL DEFAULT 1.0
);
CREATE INDEX IF NOT EXISTS group_members_group ON group_members(group_id);

CREATE TABLE IF NOT EXISTS unit_esco (
    unit_id INTEGER PRIMARY KEY REFERENCES units(id) ON DELETE CASCADE,
    uri TEXT NOT NULL,
    type TEXT NOT NULL,
    score REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS unit_esco_uri ON unit_esco(uri);
CREATE TABLE IF NOT EXISTS article_esco (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    rank INTEGER NOT NULL,
    uri TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (article_id, rank)
);

CREATE TABLE IF NOT EXISTS unit_tokens (
    unit_id INTEGER PRIMARY KEY REFERENCES units(id) ON DELETE CASCADE,
    tokens BLOB NOT NULL
);
"""

UNIT_COLUMNS = ("id", "doc_id", "kind", "subtype", "lang", "start", "end", "text",
                "sentence_index", "sentence_id", "confidence", "source")



def unit_filters(*, kinds: Sequence[str] = (), lang: str | None = None, doc_id: str | None = None,
                 subtype: str | None = None) -> tuple[str, list]:
    """SQL WHERE clause and parameters for the common unit filters."""
    clauses, params = ["1 = 1"], []
    if kinds:
        clauses.append(f"u.kind IN ({','.join('?' * len(kinds))})")
        params.extend(kinds)
    if lang:
        clauses.append("u.lang = ?")
        params.append(lang)
    if doc_id:
        clauses.append("u.doc_id = ?")
        params.append(doc_id)
    if subtype:
        clauses.append("u.subtype = ?")
        params.append(subtype)
    return " AND ".join(clauses), params


def allow_parts(connection: sqlite3.Connection) -> None:
    """Let a database made before sentence parts store them: its ``units`` table allows three kinds only
    (a CHECK constraint SQLite cannot alter), so the table is rebuilt with the current definition, every
    row and id kept, in one transaction (foreign keys off meanwhile, as SQLite prescribes)."""
    row = connection.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'units'").fetchone()
    if row is None or f"'{PART}'" in row[0]:
        return
    connection.execute("PRAGMA foreign_keys=OFF")
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(units_table("units_new"))
        connection.execute("INSERT INTO units_new SELECT * FROM units")
        connection.execute("DROP VIEW IF EXISTS sentences")
        connection.execute("DROP VIEW IF EXISTS items")
        connection.execute("DROP TABLE units")  # its indexes and triggers go with it; SCHEMA makes them again
        connection.execute("ALTER TABLE units_new RENAME TO units")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
