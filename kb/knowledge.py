"""``KnowledgeBase``: the library API that the CLI, the app and notebooks use."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from kb.embedding.embedders import Embedder, open_embedder
from kb.errors import KBError
from kb.records import Article, Hit, Item, Sentence
from kb.settings import Settings, rebuild_hint, resolve_kb_dir
from kb.storage.store import DB_FILE, Store
from kb.storage.vectors import VectorIndex, open_index


class KnowledgeBase:
    """An open knowledge-base folder: settings, SQLite store, FAISS index and embedder."""

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
                       embedder: Embedder | None = None) -> "KnowledgeBase":
        """Open a knowledge base for writing, creating it if the folder has none."""
        path = resolve_kb_dir(folder)
        settings = Settings.load(path)
        wanted = embedder.name if embedder else embedder_name
        if settings is not None:
            settings.check_compatible(path, wanted)
            return cls(path, settings, Store.open(path), embedder)
        if path.exists() and any(path.iterdir()):
            raise KBError("folder is not empty and holds no knowledge base", where=str(path),
                          hint="choose an empty or new folder with --kb DIR")
        embedder = embedder or open_embedder(wanted or "e5")
        settings = Settings().with_embedder(embedder.name, embedder.dim)
        store = Store.open(path)
        settings.save(path)
        return cls(path, settings, store, embedder)

    def close(self) -> None:
        """Close the database."""
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
                self._index = open_index(self.folder, self.settings.dim, self.store.generation, self.store.vectors())
            return self._index

    @property
    def token_encoder(self):
        """The embedder's token-state encoder (``kb.embedding.tokens``, e5 only), or None where there is none."""
        from kb.embedding.tokens import encoder_for

        return encoder_for(self.embedder.name)

    def reload(self) -> None:
        """Forget the cached index so that the next use reads the latest one."""
        with self._lock:
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
                    vectors: np.ndarray, tokens: Sequence[np.ndarray] | None = None) -> None:
        """Store one article, replacing an older version: its sentences, then its items and parts, with their
        vectors in that order (and token states, where the embedder has them); all of it or nothing."""
        with self.batch():
            count = len(sentences)
            with self.store.savepoint():
                removed = self.store.remove_article(article.doc_id)
                article_id = self.store.add_article(article)
                sentence_ids = self.store.add_sentences(article_id, sentences, vectors[:count])
                by_index = {s.index: row_id for s, row_id in zip(sentences, sentence_ids)}
                unit_ids = self.store.add_items(article_id, units, by_index, vectors[count:])
                if tokens is not None:
                    self.store.add_tokens(sentence_ids + unit_ids, tokens)
            self.index.remove(removed)
            self.index.add(np.array(sentence_ids + unit_ids, dtype=np.int64), vectors)
            self._written.append(article.doc_id)

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

    def docs(self) -> list[dict]:
        """Every article with its title, language, path and counts."""
        return self.store.articles()

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
        return row

    def items(self, doc: str | None = None, kind: str | None = None, lang: str | None = None,
              subtype: str | None = None) -> list[dict]:
        """Extracted duties and skills, in document order."""
        if kind not in (None, "duty", "skill"):
            raise KBError(f"unknown item kind {kind!r}", hint="use duty or skill")
        if doc is not None:
            doc = self.resolve_doc(doc)
        kinds = (kind,) if kind else ("duty", "skill")
        rows = self.store.select_units(kinds=kinds, lang=self.resolve_lang(lang), doc_id=doc, subtype=subtype)
        return [item_dict(row) for row in rows]

    def skills(self, lang: str | None = None, subtype: str | None = None, top: int | None = None) -> list[dict]:
        """Skill groups across roles and languages, most mentioned first."""
        from kb.analysis.skills import skill_list

        return skill_list(self, lang=self.resolve_lang(lang), subtype=subtype, top=top)

    def compare(self, *doc_ids: str) -> dict:
        """Role-to-role similarity, aligned shared duties and what is unique to each."""
        from kb.analysis.compare import compare

        return compare(self, list(doc_ids))

    def export(self, path: str | Path, format: str | None = None, kind: str | None = None,
               lang: str | None = None, doc: str | None = None) -> Path:
        """Write the extracted items to CSV, JSONL, Excel or Parquet; returns the file written."""
        from kb.export import export

        return export(self, Path(path), format=format, kind=kind, lang=self.resolve_lang(lang), doc=doc)

    def stats(self) -> dict:
        """Counts of what the knowledge base holds, with its folder and embedder."""
        return {"kb": str(self.folder), "embedder": self.settings.embedder, **self.store.counts()}


def item_dict(row: dict) -> dict:
    """An item row as the JSON object of the ``kb items`` contract."""
    return {"doc_id": row["doc_id"], "title": row["title"], "lang": row["lang"], "kind": row["kind"],
            "subtype": row["subtype"], "text": row["text"], "sentence": row["sentence"],
            "start": row["start"], "end": row["end"], "confidence": round(float(row["confidence"]), 3),
            "source": row["source"], "id": row["id"]}
