"""The compute step of ingest: one article to what the knowledge base stores, without the knowledge base.

``prepare`` runs the text stages (``process``: language, sentences, duties and skills, sentence parts), then
the embed step (``embed_and_link``: vectors, token states, ESCO links) through one memo, so the vectors
extraction computed are not computed again (``prepared_slices`` does the same for a long article a slice of
its sentences at a time, ``prepared_batch`` for several short articles at once); with $KB_UNIT_VECTORS a sentence part's vector can be pooled from
its sentence's pass (``unit_vectors``). ``guarded`` makes a file's failure its outcome. The engines
(``ingest.engines``) map these over the changed articles; ``ingest.pipeline`` stores the results.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from typing import Callable, Collection, Iterator, Sequence, TypeVar

import numpy as np

from ingest.link import embed_title, esco_links, esco_links_many, title_runs_reader
from kb.embedding.embedders import Embedder, MemoEmbedder
from kb.errors import KBError
from kb.records import PART, Article, EscoLink, Item, Refused, Sentence

log = logging.getLogger(__name__)
T = TypeVar("T")
# the kinds of unit whose vectors are pooled from their sentence's states, by mode; the others are encoded.
# "encoded" stays the default: "parts" takes 0.7x to 0.8x the ingest time and keeps the ESCO links, but costs
# the search dev set's MRR@10 0.010 with the tagger and 0.017 with the rules; pooled duties and skills read
# too much of their sentence (MRR@10 0.838 -> 0.735, 45 -> 9 ESCO links on 734 items): docs/benchmarks.md,
# "Sentence parts pooled".
POOLED_KINDS = {"encoded": frozenset(), "parts": frozenset({PART}), "pooled": frozenset({"duty", "skill", PART})}
UNIT_VECTORS = "encoded"
UNIT_VECTORS_ENV = "KB_UNIT_VECTORS"
# Sentences prepared at once: a longer article is prepared and stored in slices of this many. A slice's token
# states and vectors are about 330 bytes per character of text; one 1.1 MB file held whole took ingest to
# 988 MiB (docs/benchmarks.md, issue 22).
SLICE_SENTENCES = 1000
# Short articles are prepared together (``prepared_batch``, ``batches``): those of at most this many
# characters, up to ``BATCH_CHARS`` at once (what a batch holds until it is stored: about 200 bytes of vectors
# and token states per character).
SHORT_CHARS = 20_000
BATCH_CHARS = 100_000


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
    continued: bool = False  # a later slice of a long article (``prepared_slices``): added to the stored one


@dataclass(frozen=True)
class Failure:
    """A file whose compute step raised: refused (a KBError: the user can fix it) or failed (a bug)."""

    entry: Refused
    refused: bool
    partial: str | None = None  # the doc id of a long article whose first slices were stored before this failure


def silent(_: str) -> None:
    """No progress bar: nothing to tell."""


def process(article: Article, embedder: Embedder | None, method: str = "auto") -> Processed:
    """Run the text stages on one article: language, sentences, duties and skills, sentence parts.
    ``method`` is the extraction method (``ingest.extract.extractor.extract``)."""
    return extracted(*sentences_of(article), embedder, method)


def sentences_of(article: Article) -> tuple[Article, tuple[Sentence, ...]]:
    """The article with its language, and its sentences with theirs."""
    from ingest.language import detect, detect_sentences
    from ingest.sentences import split

    (article,) = detect([article])
    return article, tuple(detect_sentences(split([article])))


def extracted(article: Article, sentences: Sequence[Sentence], embedder: Embedder | None,
              method: str = "auto") -> Processed:
    """The duties, skills and parts of some of an article's sentences (all of them, or a slice)."""
    from ingest.extract.extractor import extract
    from ingest.parts import parts

    sentences = tuple(sentences)
    if isinstance(embedder, MemoEmbedder):  # one pass of the model gives a sentence's vector and token states
        embedder.want_states((sentence.text for sentence in sentences), final=bool(POOLED_KINDS[unit_vector_mode()]))
    items = tuple(extract(sentences, embedder, {article.doc_id: article.title}, {article.doc_id: article.text},
                          method=method))
    return Processed(article, sentences, items, tuple(parts(sentences, items)))


def unit_vectors(sentences: Sequence[Sentence], units: Sequence[Item], embedder: MemoEmbedder,
                 pooled: Collection[str] = POOLED_KINDS[UNIT_VECTORS]) -> np.ndarray:
    """Each unit's vector: the memo's where extraction embedded its text; else, for the kinds in ``pooled``,
    e5's mean pooling over its span of its sentence's final-layer states (``MemoEmbedder.span_vectors``:
    no model pass); else (no token encoder, a span past the model's window) encoded on its own."""
    vectors: list[np.ndarray | None] = [None] * len(units)
    by_index = {sentence.index: sentence for sentence in sentences}
    spans: dict[int, list[int]] = {}
    for number, unit in enumerate(units):
        if unit.kind in pooled and not embedder.remembers(unit.text):
            spans.setdefault(unit.sentence_index, []).append(number)
    for index, numbers in spans.items():
        sentence = by_index[index]
        pooled_vectors = embedder.span_vectors(sentence.text, [(units[n].start - sentence.start,
                                                                units[n].end - sentence.start) for n in numbers])
        for number, vector in zip(numbers, pooled_vectors):
            vectors[number] = vector
    missing = [n for n, vector in enumerate(vectors) if vector is None]
    for number, vector in zip(missing, embedder.embed_passages([units[n].text for n in missing])):
        vectors[number] = vector
    return np.vstack(vectors) if units else np.zeros((0, embedder.dim), dtype=np.float32)


def unit_vector_mode() -> str:
    """Which units' vectors are pooled from their sentences' states (a key of ``POOLED_KINDS``):
    $KB_UNIT_VECTORS, else ``UNIT_VECTORS``."""
    mode = os.environ.get(UNIT_VECTORS_ENV, UNIT_VECTORS)
    if mode not in POOLED_KINDS:
        raise KBError(f"${UNIT_VECTORS_ENV}={mode!r} is not a unit vector mode",
                      hint=f"use one of {', '.join(POOLED_KINDS)}")
    return mode


def embed_and_link(processed: Processed, embedder: MemoEmbedder, matcher,
                   status: Callable[[str], object] = silent, continued: bool = False) -> Prepared:
    """The embed step of one article: the vectors of its sentences, its units' (``unit_vectors``), the
    sentences' token states and, with an ESCO matcher, the links; ``continued``: a later slice of the
    article (``prepared_slices``), whose occupations the first slice has."""
    units = processed.items + processed.parts
    texts = [s.text for s in processed.sentences]
    status(f"{processed.article.doc_id}: embedding {len(texts) + len(units)} texts")
    pooled = POOLED_KINDS[unit_vector_mode()]
    embedder.want_states(texts, final=bool(pooled))  # a no-op where ``process`` ran in this memo
    vectors = np.vstack([embedder.embed_passages(texts), unit_vectors(processed.sentences, units, embedder, pooled)])
    # token states of the sentences only, for the rerank (kb.search.rerank): a duty, a skill or a part is
    # aligned through its span of its sentence's states
    count = len(processed.sentences)
    tokens = tuple(embedder.states(texts)) if embedder.encoder is not None else None
    links, occupations = None, ()
    if matcher is not None:
        status(f"{processed.article.doc_id}: ESCO links")
        links, occupations = esco_links(matcher, units, vectors[count:], vectors[:count],
                                        None if continued else embed_title(embedder, processed.article.title),
                                        processed.article.title, title_runs_reader(embedder))
        links = tuple(links)
    return Prepared(processed.article, processed.sentences, processed.items, units, vectors, tokens, links,
                    () if continued else tuple(occupations), continued)


def prepare(article: Article, embedder: MemoEmbedder, matcher, status: Callable[[str], object] = silent,
            method: str = "auto") -> Prepared:
    """The compute step of one article, without the knowledge base: text stages, then embed step. ``status``
    is told which step the article is at (the progress bar shows it: a long article takes minutes); the
    memo is cleared after each article, which keeps memory bounded."""
    try:
        status(f"{article.doc_id}: sentences, duties and skills")
        return embed_and_link(process(article, embedder, method), embedder, matcher, status)
    finally:
        embedder.clear()


def prepared_batch(articles: Sequence[Article], embedder: MemoEmbedder, matcher,
                   status: Callable[[str], object] = silent, method: str = "auto") -> Iterator[Prepared | Failure]:
    """The compute step of several short articles together, in their order, as ``prepare`` of each gives it:
    their sentences in one run of the model, their units in another, their ESCO links in one product per
    concept type (``extracted_together``, ``embedded_together``). One short description per run left the
    model's threads and the matcher's products mostly idle (docs/benchmarks.md, issue 22). An article of more
    than one slice (``SLICE_SENTENCES``) is prepared in slices after the others (``prepared_slices``). If
    anything fails, each article is prepared again on its own, so a bad file fails alone."""
    try:
        named = articles[0].doc_id + (f" and {len(articles) - 1} more" if len(articles) > 1 else "")
        status(f"{named}: sentences, duties and skills")
        staged = [sentences_of(article) for article in articles]
        together = [n for n, (_, sentences) in enumerate(staged) if len(sentences) <= SLICE_SENTENCES]
        processed = extracted_together([staged[n] for n in together], embedder, method)
        ready = embedded_together(processed, embedder, matcher, status, f"{named}: ESCO links")
        prepared = dict(zip(together, ready))
    except Exception as error:  # noqa: BLE001 - each file then meets its own failure, or none
        if not isinstance(error, KBError):  # a file the user can fix is refused below, without a traceback
            log.warning("%d files prepared together failed; preparing each alone", len(articles), exc_info=True)
        prepared = None
    finally:
        embedder.clear()
    for n, article in enumerate(articles):
        if prepared is not None and n in prepared:
            yield prepared[n]
        else:
            yield from guarded_slices(article.path, prepared_slices(article, embedder, matcher, status, method))


def batches(articles: Sequence[Article], short: int = SHORT_CHARS, chars: int = BATCH_CHARS) -> Iterator[list[Article]]:
    """The articles in order, as runs of short ones (at most ``short`` characters each, ``chars`` in all) to
    prepare together, and each longer article alone."""
    batch: list[Article] = []
    held = 0
    for article in articles:
        size = len(article.text)
        if batch and (size > short or held + size > chars):
            yield batch
            batch, held = [], 0
        if size > short:
            yield [article]
            continue
        batch.append(article)
        held += size
    if batch:
        yield batch


def extracted_together(staged: Sequence[tuple[Article, Sequence[Sentence]]], embedder: MemoEmbedder,
                       method: str = "auto") -> list[Processed]:
    """The text stages after the sentences (``extracted``) of several articles, their sentences through the
    model in one run first; the memo keeps what it embedded (cleared by the caller)."""
    texts = [sentence.text for _, sentences in staged for sentence in sentences]
    embedder.want_states(texts, final=bool(POOLED_KINDS[unit_vector_mode()]))
    embedder.embed_passages(texts)
    return [extracted(article, sentences, embedder, method) for article, sentences in staged]


def embedded_together(processed: Sequence[Processed], embedder: MemoEmbedder, matcher,
                      status: Callable[[str], object] = silent, linking: str = "ESCO links") -> list[Prepared]:
    """The embed step (``embed_and_link``) of several articles: their units through the model in one run, their
    ESCO links and occupations in one product per concept type (``ingest.link.esco_links_many``), the titles'
    query vectors in one batch."""
    pooled = POOLED_KINDS[unit_vector_mode()]
    embedder.embed_passages([unit.text for one in processed for unit in one.items + one.parts
                             if unit.kind not in pooled])
    ready = [embed_and_link(one, embedder, None, status) for one in processed]
    if matcher is None or not ready:
        return ready
    status(linking)
    embedder.prefetch_queries([one.article.title.strip() for one in ready if one.article.title.strip()], keep=True)
    linked = esco_links_many(matcher, [(one.units, one.vectors[len(one.sentences):], one.vectors[:len(one.sentences)],
                                        embed_title(embedder, one.article.title), one.article.title)
                                       for one in ready], title_runs_reader(embedder))
    return [replace(one, links=tuple(links), occupations=tuple(occupations))
            for one, (links, occupations) in zip(ready, linked)]


def prepared_slices(article: Article, embedder: MemoEmbedder, matcher, status: Callable[[str], object] = silent,
                    method: str = "auto") -> Iterator[Prepared]:
    """The compute step of one article, as ``prepare``, in slices of at most ``SLICE_SENTENCES`` sentences: what
    a slice holds (token states, vectors) is dropped before the next is made, so a long file takes no more
    memory than a short one. Most articles are one slice. A later slice is ``continued``: stored into the
    article the first one stored (``KnowledgeBase.extend_article``); the article's occupations come with the
    first (its title, else its first slice's sentences)."""
    status(f"{article.doc_id}: sentences, duties and skills")
    article, sentences = sentences_of(article)
    for start in range(0, max(len(sentences), 1), SLICE_SENTENCES):
        try:
            if start:
                status(f"{article.doc_id}: sentences {start + 1}-{min(start + SLICE_SENTENCES, len(sentences))}"
                       f" of {len(sentences)}")
            processed = extracted(article, sentences[start:start + SLICE_SENTENCES], embedder, method)
            prepared = embed_and_link(processed, embedder, matcher, status, continued=start > 0)
        finally:
            embedder.clear()
        yield prepared


def guarded_slices(path: str, slices: Iterator[Prepared]) -> Iterator[Prepared | Failure]:
    """The slices of one file's compute step, and a failure as its last outcome (as ``guarded``; after stored
    slices it names their article, which the store step then removes: all of a file or nothing)."""
    stored: str | None = None
    while True:
        outcome = guarded(path, next, slices, None)
        if outcome is None:
            return
        if isinstance(outcome, Failure):
            yield replace(outcome, partial=stored)
            return
        stored = outcome.article.doc_id
        yield outcome


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
