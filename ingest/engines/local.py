"""The local engine (default): the compute step in this process, one article after another."""
from __future__ import annotations

import logging
from typing import Callable, Iterable, Iterator

from ingest.compute import SHORT_CHARS, Failure, Prepared, batches, guarded_slices, prepared_batch, prepared_slices
from kb.embedding.embedders import memo_for
from kb.knowledge import KnowledgeBase
from kb.records import Article

log = logging.getLogger(__name__)


# Articles read ahead of the one being prepared, for their titles' query vectors in one batch: at most this
# many, and this many characters of text held.
TITLE_WINDOW = 32
WINDOW_CHARS = 2_000_000


class LocalEngine:
    """Prepares each article (or slice of a long one) when the write loop asks for it, so it is stored before
    the next is prepared, but for short articles, which are prepared a few together; the titles of the next
    few articles are embedded together first (``TITLE_WINDOW``)."""

    def prepared(self, kb: KnowledgeBase, articles: Iterable[Article],
                 status: Callable[[str], object]) -> Iterator[Prepared | Failure]:
        """Each article's compute step (or its failure), in order."""
        for window in windows(articles):
            # extraction's vectors of item texts are reused by the embed step; sentences get their token
            # states in the same pass. Loaded outside the guard: a model that cannot load stops the run
            embedder = memo_for(kb.embedder, kb.token_encoder)
            if kb.esco_matcher is not None:  # the titles' vectors link the articles to occupations
                titles = [article.title.strip() for article in window if article.title.strip()]
                try:
                    embedder.prefetch_queries(titles)
                except Exception:  # noqa: BLE001 - each title is then embedded in its own file's guarded step
                    log.warning("the titles of %d files could not be embedded together", len(titles), exc_info=True)
                    embedder.prefetch_queries([])
            for batch in batches(window):
                if len(batch) > 1 or len(batch[0].text) <= SHORT_CHARS:  # prepared together
                    yield from prepared_batch(batch, embedder, kb.esco_matcher, status)
                else:  # a long article comes in slices (ingest.compute.prepared_slices)
                    yield from guarded_slices(batch[0].path, prepared_slices(batch[0], embedder, kb.esco_matcher, status))

    def __enter__(self) -> "LocalEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        """Nothing was started."""


def windows(articles: Iterable[Article], size: int = TITLE_WINDOW,
            chars: int = WINDOW_CHARS) -> Iterator[list[Article]]:
    """Consecutive articles in lists of at most ``size`` articles and about ``chars`` characters of text (an
    article longer than that is a list of its own)."""
    window: list[Article] = []
    held = 0
    for article in articles:
        if window and (len(window) == size or held + len(article.text) > chars):
            yield window
            window, held = [], 0
        window.append(article)
        held += len(article.text)
    if window:
        yield window
