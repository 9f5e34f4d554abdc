"""The matcher's learned head: a low-rank residual map for occupation labels and short texts."""
from __future__ import annotations


import numpy as np
import pytest

from tests.conftest import matcher_without

from kb.esco.scoring import Method, load_head, short_texts

DESCRIPTION = ("Kierowcy wózków widłowych obsługują wózki widłowe, przewożą, rozmieszczają i podnoszą materiały "
               "w magazynach, dbają o bezpieczny załadunek i rozładunek towarów.")


@pytest.fixture(scope="module")
def matchers():
    return matcher_without(head_types=())


def test_the_shipped_head_loads_as_the_identity_plus_a_rank_64_change():
    from kb.esco.match import head_file

    head = load_head(head_file("occupation"))
    assert head is not None and head.shared_map.shape == (384, 384) and np.isfinite(head.shared_map).all()
    assert np.linalg.matrix_rank(head.shared_map - np.eye(384), tol=1e-4) == 64


def test_short_texts_are_titles_and_terms_not_descriptions():
    assert short_texts(["truckförare", "förare av truck", DESCRIPTION], 8).tolist() == [True, True, False]


def test_the_head_scores_titles_and_leaves_descriptions_alone(matchers, e5):
    from kb.embedding.embedders import embed_queries

    with_head, without = matchers
    texts = ["kierowca autobusu", DESCRIPTION]
    vectors = embed_queries(e5, texts)
    headed = with_head.match_vectors(vectors, "occupation", top=5, texts=texts)
    plain = without.match_vectors(vectors, "occupation", top=5, texts=texts)
    assert [m.uri for m in headed[1]] == [m.uri for m in plain[1]]
    assert headed[0] != plain[0]


def test_head_training_is_deterministic_and_starts_from_the_identity():
    from eval.esco_adapter import train_head
    from kb.esco.vectors import LabelVectors

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((40, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    concept = np.repeat(np.arange(20), 2)
    index = LabelVectors(vectors, np.r_[np.zeros(20, int), np.ones(20, int)], np.r_[concept[:20], concept[:20]],
                         np.tile([0, 1], 20), np.zeros(40, int), ("en", "sv"))
    counts = {"occupation": 10, "skill": 10}
    first = train_head(index, "occupation", counts, Method(), np.ones(10, bool), rank=4, epochs=2)
    second = train_head(index, "occupation", counts, Method(), np.ones(10, bool), rank=4, epochs=2)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert np.abs(first[1]).max() > 0
