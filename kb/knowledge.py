"""``KnowledgeBase``: the library API that the CLI, the app and notebooks use."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from kb.embedding.embedders import Embedder, open_embedder
from kb.errors import KBError
from kb.records import Article, EscoLink, Hit, Item, Sentence
from kb.storage import esco_links
from kb.settings import SETTINGS_FILE, Settings, rebuild_hint, resolve_kb_dir
from kb.storage.codec import as_stored
from kb.storage.store import DB_FILE, Store
from kb.storage.writers import WRITER_FILE
from kb.storage.engines import check_reachable, engine_name, open_index
from kb.storage.vectors import VectorIndex


class KnowledgeBase:
    """An open knowledge-base folder: settings, SQLite store, vector index and embedder."""

    def __init__(self, folder: Path, settings: Settings, store: Store, embedder: Embedder | None = None) -> None:
        self.folder = folder
        self.settings = settings
        self.store = store
        self._embedder = embedder
        self._index: VectorIndex | None = None
        self._lock = threading.Lock()
        self._written: list[str] | None = None  # doc ids changed in the open write batch

    # -- opening ----------------------------------------------------------------
    @classmethod
    def open(cls, folder: str | Path | None = None, embedder: Embedder | None = None) -> "KnowledgeBase":
        """Open an existing knowledge base (folder, else $KB_DIR, else ./kbdata)."""
        path = resolve_kb_dir(folder)
        settings = Settings.load(path)
        if settings is None or not (path / DB_FILE).exists():
            raise KBError("no knowledge base here", where=str(path),
                          hint="build one with 'python -m ingest corpus/' (or pass --kb DIR)")
        settings.check_compatible(path, embedder.name if embedder else None)
        return cls(path, settings, Store.open(path), embedder)

    @classmethod
    def create_or_open(cls, folder: str | Path | None = None, embedder_name: str | None = None,
                       embedder: Embedder | None = None, vectors: str | None = None) -> "KnowledgeBase":
        """Open a knowledge base for writing, creating it if the folder has none; ``vectors`` names the
        vector engine of a new one (``kb.storage.vectors``; FAISS files in the folder when left out)."""
        path = resolve_kb_dir(folder)
        settings = Settings.load(path)
        wanted = embedder.name if embedder else embedder_name
        if settings is not None:
            settings.check_compatible(path, wanted, vectors)
            return cls(path, settings, Store.open(path), embedder)
        if path.exists() and any(path.iterdir()) and not half_made(path):
            raise KBError("folder is not empty and holds no knowledge base", where=str(path),
                          hint="choose an empty or new folder with --kb DIR")
        engine_name(vectors or "")  # an unknown engine is refused before anything is made
        embedder = embedder or open_embedder(wanted or "e5")
        settings = Settings().with_embedder(embedder.name, embedder.dim).with_vectors(vectors or "")
        check_reachable(settings.vectors, path, settings.dim)  # an unreachable engine: nothing is written
        # settings first: a kill between the two leaves a folder that opens (an empty database is made
        # on open), never a database without settings; such a folder from older versions is repaired above
        settings.save(path)
        return cls(path, settings, Store.open(path), embedder)

    def close(self) -> None:
        """Close the database and the vector index."""
        self._drop_index()
        self.store.close()

    def __enter__(self) -> "KnowledgeBase":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- components -------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        """The embedder the knowledge base was built with (loaded on first use)."""
        with self._lock:
            if self._embedder is None:
                self._embedder = open_embedder(self.settings.embedder)
                if self._embedder.dim != self.settings.dim:
                    raise KBError(f"embedder {self.settings.embedder!r} gives {self._embedder.dim}-d vectors, "
                                  f"the knowledge base holds {self.settings.dim}-d",
                                  where=str(self.folder), hint=rebuild_hint(self.folder, self.settings.embedder))
            return self._embedder

    @property
    def index(self) -> VectorIndex:
        """The vector index, loaded from disk or rebuilt from the store if stale."""
        with self._lock:
            if self._index is None:
                self._index = open_index(self.folder, self.settings.dim, self.store.generation,
                                         self.store.vector_rows, self.settings.vectors)
            return self._index

    @property
    def token_encoder(self):
        """The embedder's token-state encoder (``kb.embedding.tokens``, e5 only), or None where there is none."""
        from kb.embedding.tokens import encoder_for

        return encoder_for(self.embedder.name)

    @property
    def esco_matcher(self):
        """The ESCO matcher of this knowledge base (its imported ESCO download, else the shipped tables), or
        None when its embedder is not the e5 model the ESCO label vectors were made with."""
        from kb.esco.importer import matcher_for

        return matcher_for(self.settings.embedder, self.folder)

    def reload(self) -> None:
        """Forget the cached index so that the next use reads the latest one."""
        with self._lock:
            self._drop_index()

    def _drop_index(self) -> None:
        """Close the cached index (a vector engine's client), so that the next use opens it again."""
        if self._index is not None:
            self._index.close()
        self._index = None

    # -- writing ----------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator["KnowledgeBase"]:
        """One write batch: every article added or removed inside it commits together, then the index is
        saved (temporary file, then rename) and derived data refreshed; an interruption leaves the previous
        state (a stale index is rebuilt from the database)."""
        if self._written is not None:  # nested: the outer batch commits
            yield self
            return
        index = self.index
        self._written = []
        try:
            with self.store.transaction():
                yield self
                generation = self.store.bump_generation() if self._written else None
            if generation is not None:
                index.save(self.folder, generation)
                self.refresh()
        except BaseException:
            self.reload()  # the in-memory index may hold rows that were rolled back
            raise
        finally:
            self._written = None

    def is_current(self, doc_id: str, key: str) -> bool:
        """Whether the document is stored with this ingest key (content and code hash): nothing to redo."""
        return self.store.article_hash(doc_id) == key

    def add_article(self, article: Article, sentences: Sequence[Sentence], units: Sequence[Item],
                    vectors: np.ndarray, tokens: Sequence[np.ndarray] | None = None,
                    links: Sequence[EscoLink | None] | None = None, occupations: Sequence[EscoLink] = ()) -> None:
        """Store one article, replacing an older version: its sentences, then its items and parts, with their
        vectors in that order (and the sentences' token states, where the embedder has them), the ESCO link of each unit
        (None where none fits) and the article's ranked ESCO occupations; all of it or nothing."""
        self._add_units(article, sentences, units, vectors, tokens, links, occupations, replace=True)

    def extend_article(self, article: Article, sentences: Sequence[Sentence], units: Sequence[Item],
                       vectors: np.ndarray, tokens: Sequence[np.ndarray] | None = None,
                       links: Sequence[EscoLink | None] | None = None) -> None:
        """Add more sentences and units to an article ``add_article`` stored in this write batch (the later
        slices of a long article, ``ingest.compute.prepared_slices``), as ``add_article`` stores them."""
        self._add_units(article, sentences, units, vectors, tokens, links, (), replace=False)

    def _add_units(self, article: Article, sentences: Sequence[Sentence], units: Sequence[Item], vectors: np.ndarray,
                   tokens: Sequence[np.ndarray] | None, links: Sequence[EscoLink | None] | None,
                   occupations: Sequence[EscoLink], replace: bool) -> None:
        with self.batch():
            count = len(sentences)
            with self.store.savepoint():
                removed: list[int] = []
                if replace:
                    removed = self.store.remove_article(article.doc_id)
                    article_id = self.store.add_article(article)
                else:
                    stored = self.store.article(article.doc_id)
                    if stored is None:
                        raise KBError(f"no article {article.doc_id!r} to extend", where=self.folder.name,
                                      hint="store its first part with add_article")
                    article_id = stored["id"]
                sentence_ids = self.store.add_sentences(article_id, sentences, vectors[:count])
                by_index = {s.index: row_id for s, row_id in zip(sentences, sentence_ids)}
                unit_ids = self.store.add_items(article_id, units, by_index, vectors[count:])
                if tokens is not None:
                    self.store.add_tokens(sentence_ids, tokens)
                if links is not None:
                    esco_links.add_unit_links(self.store.connection, unit_ids, links)
                if replace:
                    esco_links.add_article_links(self.store.connection, article_id, occupations)
            ids = sentence_ids + unit_ids
            self.index.remove(removed)
            self.index.add(np.array(ids, dtype=np.int64), as_stored(vectors),
                           self.store.unit_fields(ids) if self.index.pushes_filters else None)
            self._written.append(article.doc_id)

    def remove_article(self, doc_id: str) -> bool:
        """Remove one article with its units and their vectors (in a write batch, like ``add_article``);
        False when there was none."""
        with self.batch():
            if self.store.article_hash(doc_id) is None:
                return False
            with self.store.savepoint():
                removed = self.store.remove_article(doc_id)
            self.index.remove(removed)
            self._written.append(doc_id)
        return True

    def remove(self, doc_id: str) -> None:
        """Remove an article by its exact id (``kb remove ID``); an unknown id is refused with a hint."""
        if not self.remove_article(doc_id):
            raise KBError(f"no article {doc_id!r}", where=self.folder.name,
                          hint="give an exact id from 'python -m kb docs'")

    def refresh(self) -> None:
        """Derived data that depends on the whole knowledge base: cross-language groups of duties and skills,
        language statistics, corrected index and no-match threshold."""
        from kb.analysis.group import update_groups
        from kb.search.hybrid import refresh_search

        update_groups(self.store)
        refresh_search(self)

    # -- reading ----------------------------------------------------------------
    def search(self, query: str, k: int = 10, lang: str | None = None, kind: str = "all",
               doc: str | None = None) -> list[Hit]:
        """Semantic search in any language over sentences, duties and skills."""
        from kb.search.hybrid import SearchRequest, search

        doc = self.resolve_doc(doc) if doc else None
        return search(self, SearchRequest(query=query, k=k, lang=self.resolve_lang(lang), kind=kind, doc_id=doc))

    def docs(self, label_lang: str = "en") -> list[dict]:
        """Every article with its title, language, file name, counts and best ESCO occupation (no folders:
        the store keeps the full path for ``ingest --prune`` only)."""
        best = esco_links.best_occupations(self.store.connection)
        return [{**row, "path": Path(row["path"]).name, **self.esco_fields(best.get(row["doc_id"]), label_lang)}
                for row in self.store.articles()]

    def resolve_doc(self, doc_id: str) -> str:
        """The document id itself, or the one id it is a unique prefix of ("000" for "000_8c16..."); an unknown
        or ambiguous id is refused with a hint."""
        from kb.analysis.compare import resolve_doc_id

        return resolve_doc_id(self, doc_id)

    def resolve_lang(self, lang: str | None) -> str | None:
        """A language filter as stored ("SV" -> "sv"), or None for none; a language that no article or
        sentence of this knowledge base is in is refused with the ones that are."""
        if not lang:
            return None
        code = lang.strip().lower()
        if not self.store.has_language(code):
            known = self.store.languages()
            raise KBError(f"nothing in language {lang!r} here",
                          hint=f"use one of {', '.join(known)}" if known else "ingest articles first")
        return code

    def article(self, doc_id: str) -> dict:
        """One article with its full text; refuses an unknown id."""
        row = self.store.article(doc_id)
        if row is None:
            raise KBError(f"no article {doc_id!r}", hint="list the ids with 'python -m kb docs'")
        return {**row, "path": Path(row["path"]).name}

    def items(self, doc: str | None = None, kind: str | None = None, lang: str | None = None,
              subtype: str | None = None, label_lang: str = "en", min_confidence: float = 0.0,
              min_esco_score: float = 0.0) -> list[dict]:
        """Extracted duties and skills, in document order, each with its ESCO concept (label in
        ``label_lang``, else English); ``min_confidence`` drops the items the extractor is less sure of, and
        ``min_esco_score`` the ESCO links the matcher is less sure of (the item stays, without a concept)."""
        if kind not in (None, "duty", "skill"):
            raise KBError(f"unknown item kind {kind!r}", hint="use duty or skill")
        if doc is not None:
            doc = self.resolve_doc(doc)
        kinds = (kind,) if kind else ("duty", "skill")
        rows = self.store.select_units(kinds=kinds, lang=self.resolve_lang(lang), doc_id=doc, subtype=subtype)
        rows = [row for row in rows if float(row["confidence"]) >= min_confidence]
        links = esco_links.unit_links(self.store.connection, (row["id"] for row in rows))
        return [{**item_dict(row), **self.esco_fields(at_least(links.get(row["id"]), min_esco_score), label_lang)}
                for row in rows]

    def unit_esco(self, unit_ids: Sequence[int], label_lang: str = "en") -> dict[int, dict]:
        """The ``esco_*`` fields of these units (search hits' ``unit_id``), for those linked to a concept."""
        links = esco_links.unit_links(self.store.connection, unit_ids)
        return {unit_id: self.esco_fields(link, label_lang) for unit_id, link in links.items()}

    def esco_fields(self, link: EscoLink | None, label_lang: str = "en") -> dict:
        """The ``esco_*`` columns of an item or a document: URI, label in the reader's language, type, score."""
        if link is None:
            return {"esco_uri": None, "esco_label": None, "esco_type": None, "esco_score": None}
        return {"esco_uri": link.uri, "esco_label": self.esco_label(link.uri, label_lang), "esco_type": link.type,
                "esco_score": round(link.score, 3)}

    def esco_label(self, uri: str, lang: str = "en") -> str:
        """An ESCO concept's preferred label in ``lang``, else in English."""
        from kb.esco.data import load
        from kb.esco.importer import tables_dir

        return load(tables_dir(self.folder)).label(uri, (lang or "en").strip().lower())

    def role(self, doc_id: str, label_lang: str = "en") -> dict:
        """An article against its ESCO occupation: the occupation's essential skills, which the article
        covers (with the item and sentence) and the gaps (``kb.analysis.gaps``)."""
        from kb.analysis.gaps import role_profile

        return role_profile(self, doc_id, label_lang)

    def esco_skills(self, lang: str | None = None, label_lang: str = "en", doc: str | None = None,
                    min_esco_score: float = 0.0) -> list[dict]:
        """The ESCO concepts the items are linked to, counted across roles and languages, most roles first;
        links scoring under ``min_esco_score`` are not counted."""
        doc = self.resolve_doc(doc) if doc else None
        return [{**row, "esco_label": self.esco_label(row["uri"], label_lang)}
                for row in esco_links.concept_counts(self.store.connection, lang=self.resolve_lang(lang), doc_id=doc,
                                                     min_score=min_esco_score)]

    def occupations(self, doc_id: str, label_lang: str = "en") -> list[dict]:
        """An article's ESCO occupations, best first, with their labels."""
        return [self.esco_fields(link, label_lang) for link in esco_links.article_links(self.store.connection,
                                                                                         self.resolve_doc(doc_id))]

    def skills(self, lang: str | None = None, subtype: str | None = None, top: int | None = None) -> list[dict]:
        """Skill groups across roles and languages, most mentioned first."""
        from kb.analysis.skills import skill_list

        return skill_list(self, lang=self.resolve_lang(lang), subtype=subtype, top=top)

    def compare(self, *doc_ids: str, label_lang: str = "en") -> dict:
        """Role-to-role similarity, aligned shared duties, what is unique to each and the shared ESCO concepts."""
        from kb.analysis.compare import compare

        return compare(self, list(doc_ids), label_lang)

    def export(self, path: str | Path, format: str | None = None, kind: str | None = None,
               lang: str | None = None, doc: str | None = None, label_lang: str = "en",
               min_confidence: float = 0.0, min_esco_score: float = 0.0) -> Path:
        """Write the extracted items with their ESCO concepts (labels in ``label_lang``, else English) to CSV,
        JSON, JSONL, Excel or Parquet, leaving out those less sure than ``min_confidence`` and the links less
        sure than ``min_esco_score``; returns the file."""
        from kb.export import export

        return export(self, Path(path), format=format, kind=kind, lang=self.resolve_lang(lang), doc=doc,
                      label_lang=label_lang, min_confidence=min_confidence, min_esco_score=min_esco_score)

    def stats(self) -> dict:
        """Counts of what the knowledge base holds, with its folder's name (never an absolute path) and embedder."""
        return {"kb": self.folder.resolve().name, "embedder": self.settings.embedder, **self.store.counts()}


def half_made(folder: Path) -> bool:
    """Whether a folder holds only the start of a knowledge base that a kill interrupted: a database
    without settings and without articles (and its journal files), nothing else; made again on create."""
    import sqlite3

    allowed = {DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm", f"{DB_FILE}-journal", WRITER_FILE}
    names = {entry.name for entry in folder.iterdir()}
    if not names <= allowed | {f"{SETTINGS_FILE}.tmp", "settings.tmp.json"} or DB_FILE not in names:
        return False
    try:
        connection = sqlite3.connect(f"file:{folder / DB_FILE}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            return "articles" not in tables or not connection.execute("SELECT 1 FROM articles LIMIT 1").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return (folder / DB_FILE).stat().st_size == 0


def item_dict(row: dict) -> dict:
    """An item row as the JSON object of the ``kb items`` contract."""
    return {"doc_id": row["doc_id"], "title": row["title"], "lang": row["lang"], "kind": row["kind"],
            "subtype": row["subtype"], "text": row["text"], "sentence": row["sentence"],
            "start": row["start"], "end": row["end"], "confidence": round(float(row["confidence"]), 3),
            "source": row["source"], "id": row["id"]}


def at_least(link: EscoLink | None, min_score: float) -> EscoLink | None:
    """The link where its score, as shown (3 decimals), reaches ``min_score``; else None (no concept)."""
    return link if link is not None and round(link.score, 3) >= min_score else None
