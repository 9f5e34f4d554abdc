"""Streamlit glue shared by ``app.py`` and ``pages/``: cached loaders, guards, the sidebar.

The embedder and the knowledge base are loaded once per process with
``st.cache_resource``; every session shares them (``KnowledgeBase`` is
thread-safe for reading). Each script run checks the store's generation
counter, so an ingest from the Add articles page or from the command line is
seen at the next run without reloading the model.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import streamlit as st

from kb.errors import KBError
from kb.knowledge import KnowledgeBase
from kb.settings import Settings, resolve_kb_dir

# The sidebar menu. Pages sit in pages/ (Streamlit's multipage folder); the menu is
# drawn here so that the first entry reads "Search" rather than the file name "app".
PAGES = (("app.py", "Search", ":material/search:"), ("pages/roles.py", "Roles", ":material/badge:"),
         ("pages/compare.py", "Compare", ":material/compare_arrows:"),
         ("pages/skills.py", "Skills", ":material/psychology:"),
         ("pages/add_articles.py", "Add articles", ":material/upload_file:"))
UPLOAD_TYPES = ("txt", "md", "html", "htm")
UPLOADS_FOLDER = "uploads"
# Uploads have an id space of their own ("upload/<file name>"), so an upload never replaces an article
# that came from the corpus, only an earlier upload of the same name.
UPLOAD_PREFIX = "upload/"
LABEL_LANG, LABEL_LANG_WIDGET = "label_lang", "esco_label_lang"


@dataclass
class LoadedKB:
    """A cached knowledge base and the store generation its index was read at."""

    kb: KnowledgeBase
    generation: int = -1
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def kb_dir() -> Path:
    """The knowledge-base folder the app serves: $KB_DIR, else ./kbdata."""
    return resolve_kb_dir(None)


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
        esco_language_selector(folder)


def esco_language_selector(folder: Path) -> None:
    """The language ESCO labels are shown in, kept across pages (Streamlit drops a widget's state when a page
    without it runs, so the choice is also kept under a plain key)."""
    from kb.esco.data import load
    from kb.esco.importer import tables_dir

    languages = list(load(tables_dir(folder)).languages)
    if st.session_state.get(LABEL_LANG_WIDGET) not in languages:
        chosen = st.session_state.get(LABEL_LANG)
        st.session_state[LABEL_LANG_WIDGET] = chosen if chosen in languages else "en"
    st.session_state[LABEL_LANG] = st.selectbox("ESCO labels in", languages, key=LABEL_LANG_WIDGET,
                                                help="the language of ESCO occupation and skill names "
                                                     "(English where ESCO has none in it)")


def label_lang() -> str:
    """The language chosen for ESCO labels (English until one is chosen)."""
    return st.session_state.get(LABEL_LANG, "en")


def safe_filename(name: str) -> str:
    """An uploaded file's name reduced to a safe base name (no folders, no odd characters)."""
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[^\w.\-]+", "_", base, flags=re.UNICODE).strip("._") or "upload.txt"
    return base[:120]


@dataclass(frozen=True)
class SavedUpload:
    """An uploaded file written under ``<kb>/uploads/``, with what it replaced (None: nothing), so that a
    refused or failed ingest can put the folder back as it was."""

    path: Path
    previous: bytes | None = None


def save_uploads(folder: Path, files: Iterable) -> list[SavedUpload]:
    """Write uploaded files under ``<kb>/uploads/``. A file replaces an earlier upload of the same name;
    two files of one batch with the same name (or the same name but another suffix, which would be the
    same document) are both kept, the second under a numbered name."""
    target = folder / UPLOADS_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    saved: list[SavedUpload] = []
    for upload in files:
        path = _free_path(target, safe_filename(upload.name), {item.path.stem for item in saved})
        previous = path.read_bytes() if path.exists() else None
        path.write_bytes(upload.getvalue())
        saved.append(SavedUpload(path, previous))
    return saved


def _free_path(target: Path, name: str, taken: set[str]) -> Path:
    """``target/name``, or ``target/<stem>_2<suffix>`` (_3, ...) when this batch has taken the stem or another
    file of the folder has it with another suffix."""
    base = Path(name)
    number = 1
    while True:
        stem = base.stem if number == 1 else f"{base.stem}_{number}"
        path = target / f"{stem}{base.suffix}"
        others = [other for other in target.glob(f"{stem}.*") if other.name != path.name]
        if stem not in taken and not others:
            return path
        number += 1


def restore(upload: SavedUpload) -> None:
    """Put the uploads folder back as before this file: its earlier version, or no file."""
    if upload.previous is None:
        upload.path.unlink(missing_ok=True)
    else:
        upload.path.write_bytes(upload.previous)


def ensure_kb(folder: Path) -> None:
    """Create an empty knowledge base in ``folder`` if there is none (uploads go inside it)."""
    if Settings.load(folder) is None:
        KnowledgeBase.create_or_open(folder, embedder=load_embedder("e5")).close()


def ingest_uploads(folder: Path, uploads: list[SavedUpload], on_progress: Callable[[int, Path], None]) -> list[dict]:
    """Ingest saved uploads one by one through the pipeline (ids ``upload/<name>``); one result row per
    file. A file that is refused or fails (another ingest holds the knowledge base, say) is taken out of
    the uploads folder again, or its earlier version put back."""
    from ingest.pipeline import ingest

    settings = Settings.load(folder)
    embedder = load_embedder(settings.embedder if settings else "e5")
    rows = []
    for number, upload in enumerate(uploads):
        on_progress(number, upload.path)
        try:
            report = ingest([str(upload.path)], kb_dir=folder, embedder=embedder, prefix=UPLOAD_PREFIX)
        except KBError as error:
            rows.append(result_row(upload.path, "refused", reason=str(error)))
        else:
            rows.append(report_row(upload.path, report, replaced=upload.previous is not None))
        if rows[-1]["status"] in ("refused", "failed"):
            restore(upload)
    forget_kb()
    return rows


def report_row(path: Path, report, replaced: bool = False) -> dict:
    """One file's ingest report as a result row: added, updated (an earlier upload of the same name),
    unchanged (already there), refused or failed."""
    if report.refused or report.failed:
        entry = (report.refused or report.failed)[0]
        return result_row(path, "refused" if report.refused else "failed", reason=entry.reason)
    if report.unchanged:
        return result_row(path, "unchanged", doc_id=report.unchanged[0],
                          reason="already there: the knowledge base holds this file with the same content")
    doc_id = report.ingested[0] if report.ingested else ""
    return result_row(path, "updated" if replaced else "added", doc_id=doc_id, lang=report.languages.get(doc_id, ""),
                      sentences=report.sentences, items=report.items,
                      reason="updated your earlier upload of this name" if replaced else "")


def result_row(path: Path, status: str, doc_id: str = "", lang: str = "", sentences: int = 0,
               items: int = 0, reason: str = "") -> dict:
    """A row of the upload results table."""
    return {"file": path.name, "status": status, "doc_id": doc_id, "language": lang,
            "sentences": sentences, "items": items, "reason": reason}

