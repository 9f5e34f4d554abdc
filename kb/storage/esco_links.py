"""The knowledge base's links to ESCO: one concept per duty or skill, ranked occupations per article.

Only URIs, types and scores are stored; labels are looked up in the ESCO tables (``kb.esco``) in the
reader's language when shown, so importing another ESCO language needs no re-ingest.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from kb.records import EscoLink


def add_unit_links(connection, unit_ids: Sequence[int], links: Sequence[EscoLink | None]) -> None:
    """Store the links of units (None: no concept fits that unit)."""
    connection.executemany("INSERT OR REPLACE INTO unit_esco(unit_id, uri, type, score) VALUES (?, ?, ?, ?)",
                           [(unit_id, link.uri, link.type, float(link.score))
                            for unit_id, link in zip(unit_ids, links) if link is not None])


def add_article_links(connection, article_id: int, links: Sequence[EscoLink]) -> None:
    """Store an article's ranked occupations (best first)."""
    connection.executemany("INSERT OR REPLACE INTO article_esco(article_id, rank, uri, score) VALUES (?, ?, ?, ?)",
                           [(article_id, rank, link.uri, float(link.score)) for rank, link in enumerate(links)])


def unit_links(connection, unit_ids: Iterable[int]) -> dict[int, EscoLink]:
    """The links of these units (units without one are left out)."""
    ids = list(unit_ids)
    found: dict[int, EscoLink] = {}
    for start in range(0, len(ids), 900):  # SQLite's limit on bound parameters
        chunk = ids[start:start + 900]
        rows = connection.execute(f"SELECT unit_id, uri, type, score FROM unit_esco WHERE unit_id IN "
                                  f"({','.join('?' * len(chunk))})", chunk)
        found.update({row[0]: EscoLink(row[1], row[2], float(row[3])) for row in rows})
    return found


def article_links(connection, doc_id: str) -> list[EscoLink]:
    """An article's occupations, best first."""
    rows = connection.execute("SELECT e.uri, e.score FROM article_esco e JOIN articles a ON a.id = e.article_id "
                              "WHERE a.doc_id = ? ORDER BY e.rank", (doc_id,))
    return [EscoLink(row[0], "occupation", float(row[1])) for row in rows]


def best_occupations(connection) -> dict[str, EscoLink]:
    """Each linked article's best occupation, by doc id (one query for a whole listing)."""
    rows = connection.execute("SELECT a.doc_id, e.uri, e.score FROM article_esco e JOIN articles a ON a.id = e.article_id "
                              "WHERE e.rank = 0")
    return {row[0]: EscoLink(row[1], "occupation", float(row[2])) for row in rows}


def doc_concepts(connection, doc_ids: Sequence[str]) -> dict[str, dict[str, list[str]]]:
    """For each of these articles, the ESCO concepts its duties and skills are linked to, each with the
    texts of those items (document order)."""
    found: dict[str, dict[str, list[str]]] = {doc_id: {} for doc_id in doc_ids}
    rows = connection.execute(
        f"SELECT u.doc_id, e.uri, u.text FROM unit_esco e JOIN units u ON u.id = e.unit_id"
        f" WHERE u.doc_id IN ({','.join('?' * len(doc_ids))}) ORDER BY u.doc_id, u.start", list(doc_ids))
    for doc_id, uri, text in rows:
        found[doc_id].setdefault(uri, []).append(text)
    return found


def concept_counts(connection, kinds: Sequence[str] = ("duty", "skill"), lang: str | None = None,
                   doc_id: str | None = None, min_score: float = 0.0) -> list[dict]:
    """Each linked ESCO concept with how many items, roles and languages mention it, most roles first; links
    scoring under ``min_score`` (as shown, to 3 decimals) are not counted."""
    where, params = [f"u.kind IN ({','.join('?' * len(kinds))})"], list(kinds)
    if min_score > 0:
        where.append("ROUND(e.score, 3) >= ?")
        params.append(min_score)
    for column, value in (("u.lang", lang), ("u.doc_id", doc_id)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    rows = connection.execute(
        "SELECT e.uri, e.type, COUNT(*) AS items, COUNT(DISTINCT u.doc_id) AS roles,"
        " GROUP_CONCAT(DISTINCT u.lang) AS langs, MAX(e.score) AS best"
        f" FROM unit_esco e JOIN units u ON u.id = e.unit_id WHERE {' AND '.join(where)}"
        " GROUP BY e.uri, e.type ORDER BY roles DESC, items DESC, e.uri", params)
    return [{"uri": row[0], "type": row[1], "items": row[2], "roles": row[3],
             "languages": sorted((row[4] or "").split(",")), "best_score": round(float(row[5]), 3)} for row in rows]
