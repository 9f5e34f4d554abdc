"""The ingestion pipeline: read -> detect -> split -> extract -> embed -> store + index.

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
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

import numpy as np

from ingest.link import esco_links
from kb.embedding.embedders import Embedder, MemoEmbedder
from kb.errors import KBError
from kb.knowledge import KnowledgeBase
from kb.records import Article, EscoLink, Item, Refused, Sentence

log = logging.getLogger(__name__)
T = TypeVar("T")


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


@dataclass(frozen=True)
class Processed:
    """An article after the text stages, ready to embed and store."""

    article: Article
    sentences: tuple[Sentence, ...]
    items: tuple[Item, ...]
    parts: tuple[Item, ...] = ()  # word windows of the long sentences, for search (ingest.parts)


@dataclass(frozen=True, eq=False)
class Prepared:
    """An article after the compute step, ready to store: what ``KnowledgeBase.add_article`` takes."""

    article: Article
    sentences: tuple[Sentence, ...]
    items: tuple[Item, ...]  # the duties and skills
    units: tuple[Item, ...]  # the items, then the parts of long sentences
    vectors: np.ndarray  # the sentences', then the units'
    tokens: tuple[np.ndarray, ...] | None  # the sentences' token states, where the embedder has them
    links: tuple[EscoLink | None, ...] | None  # each unit's ESCO concept, with an ESCO matcher
    occupations: tuple[EscoLink, ...] = ()


@dataclass(frozen=True)
class Failure:
    """A file whose compute step raised: refused (a KBError: the user can fix it) or failed (a bug)."""

    entry: Refused
    refused: bool


def _silent(_: str) -> None:
    """No progress bar: nothing to tell."""


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
    """The hash stored with an article: its content, the code that reads it and the extraction method chosen;
    another one means read it again."""
    from ingest.extract.extractor import resolved_method

    return f"{article.content_hash}:{pipeline_fingerprint()}:{resolved_method()}"


def process(article: Article, embedder: Embedder | None, method: str = "auto") -> Processed:
    """Run the text stages on one article: language, sentences, duties and skills, sentence parts.
    ``method`` is the extraction method (``ingest.extract.extractor.extract``)."""
    from ingest.extract.extractor import extract
    from ingest.language import detect, detect_sentences
    from ingest.parts import parts
    from ingest.sentences import split

    (article,) = detect([article])
    sentences = tuple(detect_sentences(split([article])))
    if isinstance(embedder, MemoEmbedder):  # one pass of the model gives a sentence's vector and token states
        embedder.want_states(sentence.text for sentence in sentences)
    items = tuple(extract(sentences, embedder, {article.doc_id: article.title}, {article.doc_id: article.text},
                          method=method))
    return Processed(article, sentences, items, tuple(parts(sentences)))


def embed_and_link(processed: Processed, embedder: MemoEmbedder, matcher,
                   status: Callable[[str], object] = _silent) -> Prepared:
    """The embed step of one article: the vectors of its sentences and units (those extraction computed are
    reused from the memo), the sentences' token states and, with an ESCO matcher, the links."""
    units = processed.items + processed.parts
    texts = [s.text for s in processed.sentences] + [u.text for u in units]
    status(f"{processed.article.doc_id}: embedding {len(texts)} texts")
    embedder.want_states(s.text for s in processed.sentences)  # a no-op where ``process`` ran in this memo
    vectors = embedder.embed_passages(texts)
    # token states of the sentences only, for the rerank (kb.search.rerank): a duty, a skill or a part is
    # aligned through its span of its sentence's states
    count = len(processed.sentences)
    tokens = tuple(embedder.states(texts[:count])) if embedder.encoder is not None else None
    links, occupations = None, ()
    if matcher is not None:
        status(f"{processed.article.doc_id}: ESCO links")
        title = processed.article.title.strip()
        links, occupations = esco_links(matcher, units, vectors[count:], vectors[:count],
                                        embedder.embed_query(title) if title else None)
        links = tuple(links)
    return Prepared(processed.article, processed.sentences, processed.items, units, vectors, tokens, links,
                    tuple(occupations))


def prepare(article: Article, embedder: MemoEmbedder, matcher, status: Callable[[str], object] = _silent,
            method: str = "auto") -> Prepared:
    """The compute step of one article, without the knowledge base: text stages, then embed step. ``status``
    is told which step the article is at (the progress bar shows it: a long article takes minutes); the
    memo is cleared after each article, which keeps memory bounded."""
    try:
        status(f"{article.doc_id}: sentences, duties and skills")
        return embed_and_link(process(article, embedder, method), embedder, matcher, status)
    finally:
        embedder.clear()


def guarded(path: str, step: Callable[..., T], *args: object) -> T | Failure:
    """``step(*args)`` for one file; a failure skips only this file: a KBError refuses it, another exception
    (a bug or a library failure) fails it, logged with its traceback."""
    try:
        return step(*args)
    except KBError as error:
        return Failure(Refused(path, str(error)), refused=True)
    except Exception as error:
        log.exception("%s: ingest failed", path)
        return Failure(Refused(path, f"{error.__class__.__name__}: {error}"), refused=False)


def store(kb: KnowledgeBase, outcome: Prepared | Failure, report: IngestReport) -> None:
    """The store step of one file: its prepared article into the knowledge base (in the open write batch),
    or its failure into the report."""
    if isinstance(outcome, Failure):
        (report.refused if outcome.refused else report.failed).append(outcome.entry)
        return
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
                records, status = _progress(read(paths, prefix=prefix), progress)
                for outcome in mapper.prepared(kb, changed(kb, records, report), status):
                    store(kb, outcome, report)
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


def _progress(records: Iterable, enabled: bool) -> tuple[Iterable, Callable[[str], object]]:
    """The stream wrapped in a progress bar on stderr when asked, and what tells the bar the step of
    the file at hand."""
    if not enabled:
        return records, _silent
    from tqdm import tqdm

    bar = tqdm(records, unit="file", desc="ingest", dynamic_ncols=True)
    return bar, bar.set_postfix_str
