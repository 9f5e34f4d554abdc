"""Keyword search over the units with SQLite FTS5 (BM25).

Dense embeddings blur literal terms: an acronym, a product or a certificate
("MBA", "SAP", "Excel", "DGUV V3") is better found by its spelling. The FTS5
table ``units_fts`` indexes the ``units`` text as external content (no copy of
the text), kept in step by triggers, so every writer of ``units`` updates it.
Sentence parts (``ingest.parts``) repeat their sentence's words and are left out.

Only *literal* query terms are searched, because ordinary word overlap pulls
hits toward the query's own language, the very bias the dense ranking corrects.
A term is literal when it is rare in the knowledge base (a term in many units,
"the", "och", "và", is common wording) and either is written like a code or an
acronym in the query (an upper-case letter after the first, or a digit: "MBA",
"PostgreSQL", "V3") or, at least four letters long, occurs only in units of
other languages than the query's, and in at least two of them ("Excel" in a
German query matching Vietnamese and Spanish sentences): a word of one other
language is more likely a cognate of a sibling language ("patients" in French,
"reparation" in Danish) than a name.
"""
from __future__ import annotations

import re
import sqlite3
from typing import Sequence

from kb.storage.schema import unit_filters

# Diacritics are kept: in Vietnamese they tell different words apart ("bán" sell, "bàn" table).
FTS_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS units_fts USING fts5(
    text, content='units', content_rowid='id', tokenize='unicode61 remove_diacritics 0');
CREATE VIRTUAL TABLE IF NOT EXISTS units_fts_vocab USING fts5vocab(units_fts, 'row');
CREATE TRIGGER IF NOT EXISTS units_fts_insert AFTER INSERT ON units WHEN new.kind != 'part' BEGIN
    INSERT INTO units_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS units_fts_delete AFTER DELETE ON units WHEN old.kind != 'part' BEGIN
    INSERT INTO units_fts(units_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER IF NOT EXISTS units_fts_update AFTER UPDATE OF text ON units WHEN old.kind != 'part' BEGIN
    INSERT INTO units_fts(units_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO units_fts(rowid, text) VALUES (new.id, new.text);
END;
"""

# A term found in more than this share of the units is common wording, not a literal term.
MAX_TERM_SHARE = 0.02
# ... but a term in at most this many units always counts as rare (small knowledge bases).
MIN_RARE_COUNT = 3
MAX_QUERY_TERMS = 16
# Short words shared by chance across languages ("de", "del", "an") are not literal terms.
MIN_FOREIGN_LENGTH = 4
# A foreign term must be spelled the same in this many other languages (a name, not a cognate).
MIN_FOREIGN_LANGUAGES = 2
WORD = re.compile(r"\w+", re.UNICODE)


def ensure_fts(connection: sqlite3.Connection) -> None:
    """Create the FTS5 table and its triggers; fill it once for a database that predates it."""
    existed = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'units_fts'").fetchone()
    connection.executescript(FTS_SCHEMA)
    if not existed and connection.execute("SELECT 1 FROM units LIMIT 1").fetchone():
        connection.execute("INSERT INTO units_fts(units_fts) VALUES ('rebuild')")


def query_terms(query: str) -> list[str]:
    """The query's distinct words as typed, in order."""
    terms: list[str] = []
    for word in WORD.findall(query):
        if word.lower() not in [term.lower() for term in terms]:
            terms.append(word)
    return terms[:MAX_QUERY_TERMS]


def looks_literal(word: str) -> bool:
    """Written like an acronym, a code or a product name: an upper-case letter after the first, or a digit."""
    return any(char.isupper() for char in word[1:]) or any(char.isdigit() for char in word)


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def indexed_count(connection: sqlite3.Connection) -> int:
    """How many units the keyword index holds (all but the parts): a scan of the units, so a search
    keeps it per knowledge-base state (``kb.search.memo``)."""
    return connection.execute("SELECT COUNT(*) FROM units WHERE kind != 'part'").fetchone()[0]


def literal_terms(connection: sqlite3.Connection, query: str, query_lang: str | None,
                  total: int | None = None) -> list[str]:
    """The query's literal terms (lower-cased) that occur in the knowledge base; see the module docstring.
    ``total`` is ``indexed_count``, counted here unless given."""
    words = query_terms(query)
    if not words:
        return []
    total = indexed_count(connection) if total is None else total
    limit = max(MIN_RARE_COUNT, MAX_TERM_SHARE * total)
    lowered = [word.lower() for word in words]
    marks = ",".join("?" * len(lowered))
    counts = dict(connection.execute(f"SELECT term, doc FROM units_fts_vocab WHERE term IN ({marks})", lowered))
    literal = []
    for word, term in zip(words, lowered):
        if not 0 < counts.get(term, 0) <= limit:
            continue
        if looks_literal(word) or (query_lang and len(term) >= MIN_FOREIGN_LENGTH
                                   and is_foreign(connection, term, query_lang)):
            literal.append(term)
    return literal


def is_foreign(connection: sqlite3.Connection, term: str, query_lang: str) -> bool:
    """Whether a term's languages make it a name: not the query's language, and several others. Asked in two
    steps so that a word of the query's own language, the usual case, stops at its first unit in that
    language instead of reading the language of every unit that holds it (20,000 at 1M units)."""
    matches = "SELECT u.lang FROM units_fts f JOIN units u ON u.id = f.rowid WHERE units_fts MATCH ?"
    if connection.execute(f"{matches} AND u.lang = ? LIMIT 1", (_quote(term), query_lang)).fetchone():
        return False
    others = connection.execute(f"SELECT DISTINCT lang FROM ({matches}) LIMIT ?",
                                (_quote(term), MIN_FOREIGN_LANGUAGES)).fetchall()
    return len(others) >= MIN_FOREIGN_LANGUAGES


def keyword_search(connection: sqlite3.Connection, query: str, k: int, *, query_lang: str | None = None,
                   kinds: Sequence[str] = (), lang: str | None = None,
                   doc_id: str | None = None, total: int | None = None) -> list[tuple[int, float]]:
    """The k best (unit id, BM25 score) pairs for the query's literal terms; higher is better (``total``:
    see ``literal_terms``)."""
    terms = literal_terms(connection, query, query_lang, total)
    if not terms or k <= 0:
        return []
    where, params = unit_filters(kinds=kinds, lang=lang, doc_id=doc_id)
    rows = connection.execute(
        f"SELECT f.rowid, bm25(units_fts) AS rank FROM units_fts f JOIN units u ON u.id = f.rowid"
        f" WHERE units_fts MATCH ? AND {where} ORDER BY rank LIMIT ?", [" OR ".join(map(_quote, terms)), *params, k])
    # FTS5's bm25() is negative, lower is better: flip it so that higher is better like cosines.
    return [(int(row[0]), -float(row[1])) for row in rows]
