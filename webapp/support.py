"""Streamlit glue shared by ``app.py`` and ``pages/``: cached loaders, guards, the sidebar.

The embedder and the knowledge base are loaded once per process with
``st.cache_resource``; every session shares them (``KnowledgeBase`` is
thread-safe for reading). Each script run checks the store's generation
counter, so an ingest from the Add articles page or from the command line is
seen at the next run without reloading the model.
"""
from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import streamlit as st

from kb.errors import KBError
from kb.knowledge import KnowledgeBase
from kb.settings import DEFAULT_KB_DIR, Settings

# The sidebar menu. Pages sit in pages/ (Streamlit's multipage folder); the menu is
# drawn here so that the first entry reads "Search" rather than the file name "app".
PAGES = (("app.py", "Search", ":material/search:"), ("pages/roles.py", "Roles", ":material/badge:"),
         ("pages/compare.py", "Compare", ":material/compare_arrows:"),
         ("pages/skills.py", "Skills", ":material/psychology:"),
         ("pages/add_articles.py", "Add articles", ":material/upload_file:"))
UPLOAD_TYPES = ("txt", "md", "html", "htm")
UPLOADS_FOLDER = "uploads"


@dataclass
class LoadedKB:
    """A cached knowledge base and the store generation its index was read at."""

    kb: KnowledgeBase
    generation: int = -1
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def kb_dir() -> Path:
    """The knowledge-base folder the app serves: $KB_DIR, else ./kbdata."""
    return Path(os.environ.get("KB_DIR", DEFAULT_KB_DIR))


@st.cache_resource(show_spinner="Loading the embedding model…")
def load_embedder(name: str):
    """The embedder, loaded once per process."""
    from kb.embedding.embedders import open_embedder

    return open_embedder(name)


@st.cache_resource(show_spinner="Opening the knowledge base…")
def _load_kb(folder: str, _embedder) -> LoadedKB:
    kb = KnowledgeBase.open(folder, embedder=_embedder)
    warm_up(kb)
    return LoadedKB(kb, generation=kb.store.generation)


def warm_up(kb: KnowledgeBase) -> None:
    """Search once per language of the knowledge base (an article title as the query).

    Search loads its index and per-language data on first use; doing it here,
    once per process, keeps the first real query of each language fast.
    """
    titles = {doc["lang"]: doc["title"] for doc in kb.docs()}
    for title in titles.values():
        kb.search(title, k=1)


def open_kb(folder: Path | None = None) -> KnowledgeBase:
    """The cached knowledge base, its index refreshed if an ingest changed the store."""
    folder = folder or kb_dir()
    settings = Settings.load(folder)
    embedder = load_embedder(settings.embedder) if settings else None
    loaded = _load_kb(str(folder.resolve()), embedder)
    generation = loaded.kb.store.generation
    if generation != loaded.generation:
        with loaded.lock:
            loaded.kb.reload()
            loaded.generation = generation
    return loaded.kb


def forget_kb() -> None:
    """Drop the cached knowledge base so that every page reads the store afresh."""
    _load_kb.clear()


def kb_or_stop() -> KnowledgeBase:
    """The knowledge base, or an info box that says how to build one and the end of this run."""
    try:
        return open_kb()
    except KBError as error:
        st.info(f"No knowledge base to show yet. {error}. You can also add articles on the Add articles page.")
        st.stop()


def run_or_error(function: Callable, *args, **kwargs):
    """Call a library function; a user problem becomes ``st.error`` and ends this run."""
    try:
        return function(*args, **kwargs)
    except KBError as error:
        st.error(str(error))
        st.stop()


def detect_query_language(query: str) -> str:
    """The language of a short query, or 'unknown' (detection is a nicety, never an error)."""
    try:
        from kb.text.language import detect_language
    except ImportError:
        return "unknown"
    return detect_language(query)


def timed(function: Callable, *args, **kwargs) -> tuple[object, float]:
    """A call's result and its wall time in milliseconds."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, (time.perf_counter() - started) * 1000


def page_setup(title: str) -> None:
    """Every page starts here: page settings, its title, and the sidebar."""
    st.set_page_config(page_title=f"{title} · job-description knowledge base", layout="wide")
    sidebar()
    st.title(title)


def sidebar() -> None:
    """The page menu, then which knowledge base and embedder are loaded and how much they hold."""
    folder = kb_dir()
    with st.sidebar:
        for path, label, icon in PAGES:
            st.page_link(path, label=label, icon=icon)
        st.divider()
        st.caption("Knowledge base")
        try:
            stats = open_kb(folder).stats()
        except KBError as error:
            st.warning(f"Not loaded: {error}")
            return
        st.code(str(folder), language=None)
        st.caption(f"Embedder: **{stats['embedder']}**")
        first, second = st.columns(2)
        first.metric("Articles", stats["articles"])
        second.metric("Sentences", stats["sentences"])
        first.metric("Duties", stats["duties"])
        second.metric("Skills", stats["skills"])


def safe_filename(name: str) -> str:
    """An uploaded file's name reduced to a safe base name (no folders, no odd characters)."""
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[^\w.\-]+", "_", base, flags=re.UNICODE).strip("._") or "upload.txt"
    return base[:120]


def save_uploads(folder: Path, files: Iterable) -> list[Path]:
    """Write uploaded files under ``<kb>/uploads/`` and return their paths."""
    target = folder / UPLOADS_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for upload in files:
        path = target / safe_filename(upload.name)
        path.write_bytes(upload.getvalue())
        paths.append(path)
    return paths


def ensure_kb(folder: Path) -> None:
    """Create an empty knowledge base in ``folder`` if there is none (uploads go inside it)."""
    if Settings.load(folder) is None:
        KnowledgeBase.create_or_open(folder, embedder=load_embedder("e5")).close()


def ingest_uploads(folder: Path, paths: list[Path], on_progress: Callable[[int, Path], None]) -> list[dict]:
    """Ingest saved uploads one by one through the pipeline; one result row per file."""
    from ingest.pipeline import ingest

    settings = Settings.load(folder)
    embedder = load_embedder(settings.embedder if settings else "e5")
    rows = []
    for number, path in enumerate(paths):
        on_progress(number, path)
        try:
            report = ingest([str(path)], kb_dir=folder, embedder=embedder)
        except KBError as error:
            rows.append(result_row(path, "refused", reason=str(error)))
            continue
        rows.append(report_row(path, report))
    forget_kb()
    return rows


def report_row(path: Path, report) -> dict:
    """One file's ingest report as a result row."""
    if report.refused or report.failed:
        entry = (report.refused or report.failed)[0]
        return result_row(path, "refused" if report.refused else "failed", reason=entry.reason)
    if report.unchanged:
        return result_row(path, "unchanged", doc_id=report.unchanged[0],
                          reason="already in the knowledge base with the same content")
    doc_id = report.ingested[0] if report.ingested else ""
    return result_row(path, "added", doc_id=doc_id, lang=report.languages.get(doc_id, ""),
                      sentences=report.sentences, items=report.items)


def result_row(path: Path, status: str, doc_id: str = "", lang: str = "", sentences: int = 0,
               items: int = 0, reason: str = "") -> dict:
    """A row of the upload results table."""
    return {"file": path.name, "status": status, "doc_id": doc_id, "language": lang,
            "sentences": sentences, "items": items, "reason": reason}

