"""Engines map ingest's compute step (``ingest.compute.prepare``) over the changed articles.

``local`` (default) runs it here, one article after another; ``ray`` runs it as a Ray Data pipeline on a
cluster (``ingest.engines.ray``, imported only when chosen: ``ray`` is an optional package). Either way this
process reads the files, keeps the unchanged ones out and writes the results (``ingest.pipeline.store``) in
its one write transaction, in the order the files were read.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Protocol

from kb.errors import KBError

if TYPE_CHECKING:
    from ingest.compute import Failure, Prepared
    from kb.embedding.embedders import Embedder
    from kb.knowledge import KnowledgeBase
    from kb.records import Article

ENGINES = ("local", "ray")


class Engine(Protocol):
    """Maps the compute step over articles; a context manager that releases what it started."""

    def prepared(self, kb: "KnowledgeBase", articles: Iterable["Article"],
                 status: Callable[[str], object]) -> Iterator["Prepared | Failure"]:
        """Each article's compute step (or its failure), in the order of ``articles``."""

    def __enter__(self) -> "Engine": ...

    def __exit__(self, *exc: object) -> None: ...


def open_engine(name: str = "local", address: str | None = None, workers: int | None = None,
                progress: bool = False, embedder: "Embedder | None" = None) -> Engine:
    """The engine called ``name``, ready to use (``ray`` connects to its cluster or starts one here)."""
    if name == "local":
        if address is not None or workers is not None:
            raise KBError("--address and --workers are options of the ray engine", hint="add --engine ray")
        from ingest.engines.local import LocalEngine

        return LocalEngine()
    if name == "ray":
        if embedder is not None:
            raise KBError("the ray engine opens the embedder by its name in each worker",
                          hint="pass embedder_name instead of an embedder object")
        from ingest.engines.ray import RayEngine

        return RayEngine.start(address=address, workers=workers, progress=progress)
    raise KBError(f"unknown ingest engine {name!r}", hint=f"use one of {', '.join(ENGINES)}")
