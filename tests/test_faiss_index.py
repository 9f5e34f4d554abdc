"""The vector index chosen by size (kb.storage.faiss_index): flat while small, an inverted file (IVF) past the limit."""
from __future__ import annotations

import json

import numpy as np
import pytest

from kb.storage import faiss_index
from kb.storage.faiss_index import FLAT, IVF, FaissIndex, exact_top, kind_for, recall_at_k


def clustered(count: int, dim: int = 64, seed: int = 7) -> np.ndarray:
    """Unit vectors in 40 clusters: neighbours are close, as sentence embeddings are."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, dim)).astype(np.float32)
    vectors = centres[rng.integers(0, 40, count)] + 0.5 * rng.standard_normal((count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(faiss_index, "FLAT_LIMIT", 1000)


def test_the_kind_follows_the_size_with_a_margin_on_the_way_back():
    limit = faiss_index.FLAT_LIMIT
    assert kind_for(1) == FLAT and kind_for(limit) == FLAT and kind_for(limit + 1) == IVF
    assert kind_for(limit, current=IVF) == IVF and kind_for(limit // 2, current=IVF) == FLAT


def test_an_index_becomes_an_inverted_file_as_it_grows_past_the_limit_and_flat_when_it_shrinks(small_limit):
    vectors = clustered(3000)
    index = FaissIndex(64)
    index.add(np.arange(900), vectors[:900])
    assert index.kind == FLAT
    index.add(np.arange(900, 3000), vectors[900:])
    assert index.kind == IVF and len(index) == 3000
    assert index.search(vectors[2500], 1)[0][0] == 2500
    index.remove(np.arange(2600))
    assert index.kind == FLAT and len(index) == 400
    assert index.search(vectors[2700], 1)[0][0] == 2700


def test_inverted_file_recall_at_10_against_exact_search_on_a_fixed_set(small_limit):
    vectors, queries = np.split(clustered(20_300), [20_000])  # queries: other points of the same clusters
    index = FaissIndex.build(64, ((np.arange(start, start + 5000), vectors[start:start + 5000])
                                 for start in range(0, 20_000, 5000)))
    assert index.kind == IVF
    truth = exact_top([(np.arange(20_000), vectors)], queries, 10)
    found = [{unit_id for unit_id, _ in index.search(query, 10)} for query in queries]
    recall = np.mean([len(f & set(t.tolist())) / 10 for f, t in zip(found, truth)])
    assert recall >= 0.98
    assert index.measure_recall() >= 0.98


def test_equal_vectors_tied_at_the_last_place_count_as_found():
    vectors = clustered(3000)
    vectors[2000:2050] = vectors[7]  # one text fifty times over: a tie across the 10th place
    index = FaissIndex.build(64, [(np.arange(3000), vectors)])
    queries = vectors[[7, 11, 12]]
    truth, truth_scores = exact_top([(np.arange(3000), vectors)], queries, 10, with_scores=True)
    found = [[unit_id for unit_id, _ in index.search(query, 10)] for query in queries]
    found_scores = [vectors[ids] @ query for ids, query in zip(found, queries)]
    assert recall_at_k(found, found_scores, truth, truth_scores) == 1.0
    assert {*found[0]} <= {7, *range(2000, 2050)}
    # a result that is really lower than exact search's 10th is still a miss
    wrong = [[*ids[:9], 2999] for ids in found]
    wrong_scores = [vectors[ids] @ query for ids, query in zip(wrong, queries)]
    assert recall_at_k(wrong, wrong_scores, truth, truth_scores) < 1.0


def test_removed_ids_are_never_found_and_may_come_back(small_limit):
    vectors = clustered(3000)
    index = FaissIndex.build(64, [(np.arange(3000), vectors)])
    index.remove([5, 6])
    assert all(unit_id not in (5, 6) for unit_id, _ in index.search(vectors[5], 20))
    assert [unit_id for unit_id, _ in index.search(vectors[5], 3, allowed=[5, 6, 7])] == [7]
    index.add([5], vectors[5:6])
    assert index.search(vectors[5], 1)[0][0] == 5 and len(index) == 2999


def test_a_narrow_filter_is_searched_exactly(small_limit):
    vectors = clustered(3000)
    index = FaissIndex.build(64, [(np.arange(3000), vectors)])
    allowed = list(range(0, 3000, 97))
    expected = exact_top([(np.array(allowed), vectors[allowed])], vectors[:1], 5)[0].tolist()
    assert [unit_id for unit_id, _ in index.search(vectors[0], 5, allowed=allowed)] == expected


def test_the_saved_index_records_its_kind_parameters_and_recall(small_limit, tmp_path):
    vectors = clustered(3000)
    index = FaissIndex.build(64, [(np.arange(3000), vectors)])
    index.remove([1])
    index.save(tmp_path, generation=3)
    meta = json.loads((tmp_path / "index.json").read_text(encoding="utf-8"))
    assert meta["kind"] == IVF and meta["nlist"] == faiss_index.cells_for(3000) and meta["count"] == 2999
    assert meta["nprobe"] == faiss_index.probes_for(meta["nlist"]) and meta["recall_at_10"] >= 0.98
    loaded = FaissIndex.load(tmp_path, 64, generation=3)
    assert loaded.kind == IVF and len(loaded) == 2999 and loaded.recall == meta["recall_at_10"]
    assert all(unit_id != 1 for unit_id, _ in loaded.search(vectors[1], 10))
    np.testing.assert_allclose(loaded.reconstruct([2]), vectors[2:3], atol=1e-3)  # float16 inside
    assert FaissIndex.load(tmp_path, 64, generation=4) is None  # stale: rebuilt from the store


def test_the_cells_are_trained_again_as_the_index_grows(small_limit):
    vectors = clustered(9000)
    index = FaissIndex.build(64, [(np.arange(1200), vectors[:1200])])
    assert index.kind == IVF and index.parameters()["nlist"] == faiss_index.cells_for(1200)
    index.add(np.arange(1200, 9000), vectors[1200:])  # over RETRAIN_GROWTH times the size trained at
    assert index.parameters()["nlist"] == faiss_index.cells_for(9000) and len(index) == 9000
    assert index.search(vectors[8000], 1)[0][0] == 8000


def test_a_filter_whose_vectors_lie_far_from_the_query_is_still_searched_well(small_limit, monkeypatch):
    monkeypatch.setattr(faiss_index, "EXACT_LIMIT", 500)
    vectors = clustered(20_000)
    index = FaissIndex.build(64, [(np.arange(20_000), vectors)])
    assert index.kind == IVF
    scores = vectors @ vectors[0]
    allowed = np.flatnonzero(scores < np.quantile(scores, 0.4))  # the 40% farthest from the query, as under a
    found = [unit_id for unit_id, _ in index.search(vectors[0], 10, allowed=allowed.tolist())]  # language filter
    expected = exact_top([(allowed, vectors[allowed])], vectors[:1], 10)[0].tolist()
    assert len(set(found) & set(expected)) >= 9 and set(found) <= set(allowed.tolist())
