"""The ingestion pipeline: read -> detect -> split -> extract -> embed -> store + index.

This process reads the files and keeps the unchanged ones out (``changed``); an engine (``ingest.engines``:
here, or on Ray) runs the compute step (``ingest.compute.prepare``) over the others, and ``store`` writes
each result in input order.

Ingest is idempotent and incremental: an unchanged file (same content hash) is
skipped without embedding, a changed one replaces its old rows. The hash stored with
an article also covers the ingest code and language data (``pipeline_fingerprint``),
so after an upgrade of the extractor the same files are read again. Everything is
written in one database transaction and the index is saved (temporary file,
then rename) only after the commit, so an interrupted ingest leaves the
previous knowledge base intact; a stale index is rebuilt from the database.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from ingest.compute import Failure, Prepared, silent
from kb.embedding.embedders import Embedder
from kb.knowledge import KnowledgeBase
from kb.records import Article, Refused
from kb.threads import one_blas_thread

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What one ingest run did, for the summary line and the app."""

    kb: str = ""
    ingested: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # --prune: documents whose files are gone
    refused: list[Refused] = field(default_factory=list)
    failed: list[Refused] = field(default_factory=list)
    languages: dict[str, str] = field(default_factory=dict)
    sentences: int = 0
    items: int = 0
    seconds: float = 0.0

    @property
    def files_read(self) -> int:
        """Files that decoded into an article, new or unchanged."""
        return len(self.ingested) + len(self.unchanged)

    @property
    def ok(self) -> bool:
        """True when at least one file is in the knowledge base and nothing failed unexpectedly."""
        return self.files_read > 0 and not self.failed

    def summary(self) -> str:
        """A short human-readable summary."""
        lines = [f"{self.files_read} files read ({len(self.ingested)} ingested, {len(self.unchanged)} unchanged), "
                 f"{len(self.refused)} refused, {len(self.failed)} failed; {self.sentences} sentences, "
                 f"{self.items} duties and skills; {self.seconds:.1f} s; knowledge base {self.kb}"]
        if self.removed:
            lines.append(f"removed {len(self.removed)} documents whose files are gone: {', '.join(self.removed)}")
        lines += [f"refused: {entry.path}: {entry.reason}" for entry in self.refused]
        lines += [f"failed: {entry.path}: {entry.reason}" for entry in self.failed]
        return "\n".join(lines)


PACKAGE = Path(__file__).resolve().parent
CODE_SUFFIXES = (".py", ".json", ".txt", ".yaml", ".tsv", ".npz")  # .npz: the learned extractor's weights


@lru_cache(maxsize=1)
def pipeline_fingerprint() -> str:
    """A hash of the ingest code and language data: what an article's items depend on besides its text."""
    digest = hashlib.sha256()
    for path in sorted(path for path in PACKAGE.rglob("*") if path.is_file() and path.suffix in CODE_SUFFIXES
                       and "__pycache__" not in path.parts):
        digest.update(str(path.relative_to(PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def ingest_key(article: Article) -> str:
    """The hash stored with an article: its content, the code that reads it, the extraction method chosen
    and how units are embedded; another one means read it again."""
    from ingest.compute import UNIT_VECTORS, unit_vector_mode
    from ingest.extract.extractor import resolved_method

    mode = unit_vector_mode()  # how the vectors of duties, skills and parts are made
    return f"{article.content_hash}:{pipeline_fingerprint()}:{resolved_method()}" + (
        "" if mode == UNIT_VECTORS else f":{mode}")


def store(kb: KnowledgeBase, outcome: Prepared | Failure, report: IngestReport) -> None:
    """The store step of one file: its prepared article into the knowledge base (in the open write batch),
    or its failure into the report."""
    if isinstance(outcome, Failure):
        (report.refused if outcome.refused else report.failed).append(outcome.entry)
        if outcome.partial is not None:  # a long article failed after its first slices were stored
            kb.remove_article(outcome.partial)
            report.ingested.remove(outcome.partial)
        return
    if outcome.continued:  # a later slice of a long article
        kb.extend_article(outcome.article, outcome.sentences, outcome.units, outcome.vectors, outcome.tokens,
                          outcome.links)
    else:
        kb.add_article(outcome.article, outcome.sentences, outcome.units, outcome.vectors, outcome.tokens,
                       outcome.links, outcome.occupations)
        report.ingested.append(outcome.article.doc_id)
        report.languages[outcome.article.doc_id] = outcome.article.lang
    report.sentences += len(outcome.sentences)
    report.items += len(outcome.items)


def ingest(paths: Sequence[str | Path], kb_dir: str | Path | None = None, embedder_name: str | None = None,
           embedder: Embedder | None = None, progress: bool = False, prune: bool = False,
           prefix: str = "", vectors: str | None = None, engine: str = "local", address: str | None = None,
           workers: int | None = None) -> IngestReport:
    """Ingest files or folders into the knowledge base; returns what was done.

    Document ids are ``prefix`` + the file name without suffix (``ingest.read.read``); the app's uploads
    use the prefix ``upload/`` so that they never replace an article they did not create. With ``prune``,
    documents whose files lay under one of the given folders and are gone are removed. ``vectors`` names
    the vector engine of a new knowledge base (``kb.storage.vectors``). ``engine`` maps the
    compute step over the changed files: ``local`` in this process, ``ray`` on a Ray cluster (``address``,
    else one started here with ``workers`` CPUs; ``ingest.engines``); this process writes either way."""
    from ingest.engines import open_engine
    from ingest.read import read

    started = time.perf_counter()
    # the engine first: a cluster that cannot be reached stops the run before the folder is touched
    with open_engine(engine, address=address, workers=workers, progress=progress, embedder=embedder) as mapper:
        kb = KnowledgeBase.create_or_open(kb_dir, embedder_name=embedder_name, embedder=embedder, vectors=vectors)
        report = IngestReport(kb=str(kb.folder))
        try:
            with kb.batch():
                if prune:
                    report.removed = prune_missing(kb, paths)
                records, status, close_bar = _progress(read(paths, prefix=prefix), progress)
                try:
                    # numpy's BLAS runs one thread (the ray engine's actors do the same): its small products
                    # (the tagger, the ESCO scores) gain nothing from a second thread, and its idle threads spin
                    # after each one on the core the model's next pass needs. With them the 150 ESCO descriptions
                    # of `make bench` took 26 s to ingest, 12.5 s of it encoding 850 items; held to one, 17 s, 5.2 s.
                    with one_blas_thread:
                        for outcome in mapper.prepared(kb, changed(kb, records, report), status):
                            store(kb, outcome, report)
                finally:
                    close_bar()
        finally:
            kb.close()
    report.seconds = time.perf_counter() - started
    return report


def changed(kb: KnowledgeBase, records: Iterable[Article | Refused], report: IngestReport) -> Iterator[Article]:
    """The articles to (re)ingest, each with its ingest key and full path (kept for --prune; listings and
    exports show the file name only); refused and unchanged files go into the report."""
    for record in records:
        if isinstance(record, Refused):
            report.refused.append(record)
            log.warning("%s: %s", record.path, record.reason)
        elif kb.is_current(record.doc_id, ingest_key(record)):
            report.unchanged.append(record.doc_id)
        else:
            yield replace(record, content_hash=ingest_key(record), path=str(Path(record.path).resolve()))


def prune_missing(kb: KnowledgeBase, paths: Sequence[str | Path]) -> list[str]:
    """Remove the documents whose file lay under one of the folders in ``paths`` and exists no more;
    returns their ids (uploads, kept under the knowledge base, are pruned only when their folder is given)."""
    roots = [Path(path).resolve() for path in paths if Path(path).is_dir()]
    removed = []
    for doc in kb.store.articles():
        source = Path(doc["path"]).resolve()
        if any(source.is_relative_to(root) for root in roots) and not source.exists():
            kb.remove_article(doc["doc_id"])
            removed.append(doc["doc_id"])
    return removed


def _progress(records: Iterable, enabled: bool) -> tuple[Iterable, Callable[[str], object], Callable[[], object]]:
    """The stream counted by a progress bar on stderr when asked, what tells the bar the step of the file at
    hand, and what closes it. The bar stays open after the last file is read: the engine may read a few
    files ahead of the one it prepares (``ingest.engines.local``), and the steps of those are still shown."""
    if not enabled:
        return records, silent, lambda: None
    from tqdm import tqdm

    bar = tqdm(unit="file", desc="ingest", dynamic_ncols=True)

    def counted() -> Iterator:
        for record in records:
            bar.update(1)
            yield record

    return counted(), bar.set_postfix_str, bar.close
