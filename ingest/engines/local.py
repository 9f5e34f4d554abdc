"""The local engine (default): the compute step in this process, one article after another."""
from __future__ import annotations

from typing import Callable, Iterable, Iterator

from ingest.compute import Failure, Prepared, guarded, prepare
from kb.embedding.embedders import MemoEmbedder, memo_for
from kb.knowledge import KnowledgeBase
from kb.records import Article


class LocalEngine:
    """Prepares each article when the write loop asks for it, so it is stored before the next is read."""

    def prepared(self, kb: KnowledgeBase, articles: Iterable[Article],
                 status: Callable[[str], object]) -> Iterator[Prepared | Failure]:
        """Each article's compute step (or its failure), in order."""
        for article in articles:
            # extraction's vectors of item texts are reused by the embed step; sentences get their token
            # states in the same pass. Loaded outside the guard: a model that cannot load stops the run
            embedder = memo_for(kb.embedder, kb.token_encoder)
            yield guarded(article.path, _prepare, kb, article, embedder, status)

    def __enter__(self) -> "LocalEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        """Nothing was started."""


def _prepare(kb: KnowledgeBase, article: Article, embedder: MemoEmbedder, status: Callable[[str], object]) -> Prepared:
    """One article's compute step with the knowledge base's ESCO matcher (opened once, on first use)."""
    return prepare(article, embedder, kb.esco_matcher, status)
