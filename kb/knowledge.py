"""``KnowledgeBase``: the library API that the CLI, the app and notebooks use."""
from __future__ import annotations

import threading
from pathlib import Path

from kb.embedding.embedders import Embedder, open_embedder
from kb.errors import KBError
from kb.storage.faiss_index import VectorIndex
from kb.records import Hit
from kb.settings import Settings, rebuild_hint, resolve_kb_dir
from kb.storage.store import DB_FILE, Store


class KnowledgeBase:
    """An open knowledge-base folder: settings, SQLite store, FAISS index and embedder."""

    def __init__(self, folder: Path, settings: Settings, store: Store, embedder: Embedder | None = None) -> None:
        self.folder = folder
        self.settings = settings
        self.store = store
        self._embedder = embedder
        self._index: VectorIndex | None = None
        self._lock = threading.Lock()

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
        """The FAISS index, loaded from disk or rebuilt from the store if stale."""
        with self._lock:
            if self._index is None:
                generation = self.store.generation
                index = VectorIndex.load(self.folder, self.settings.dim, generation)
                if index is None:
                    index = VectorIndex.build(self.settings.dim, self.store.vectors())
                    index.save(self.folder, generation)
                self._index = index
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
