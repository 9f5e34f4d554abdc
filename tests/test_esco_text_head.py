"""The matcher's text head: a learned map that draws long texts (descriptions, duty prose) towards their
occupation's labels, added to the plain scores of long texts and of a whole document's passage view."""
from __future__ import annotations


import numpy as np
import pytest

from tests.conftest import matcher_without

from kb.esco.scoring import TextHead, text_head_scores

BODY = ("Obsługują wózki widłowe w magazynach i na placach składowych, przewożą, rozmieszczają i podnoszą ładunki, "
        "dbają o bezpieczny załadunek i rozładunek towarów oraz prowadzą codzienną kontrolę stanu wózka.")


@pytest.fixture(scope="module")
def matchers():
    return matcher_without(text_head_types=())


@pytest.mark.parametrize("view, target", [("text", "labels"), ("text", "descriptions"), ("document", "labels")])
def test_the_shipped_text_heads_load_as_two_rank_64_factors_with_their_target(view, target):
    from kb.esco.match import VIEW_TARGETS, MatcherConfig, text_head_file

    assert "occupation" in MatcherConfig.load().method.text_head_types and target in VIEW_TARGETS[view]
    head = TextHead.load(text_head_file("occupation", view, target))
    assert head is not None and head.down.shape == (384, 64) and head.up.shape == (64, 384)
    assert head.target == target
    assert np.isfinite(head.down).all() and np.isfinite(head.up).all() and np.abs(head.up).max() > 0


def test_a_text_head_saves_and_loads_its_target(tmp_path):
    head = TextHead(np.ones((4, 2), dtype=np.float32), np.zeros((2, 4), dtype=np.float32), "descriptions")
    head.save(tmp_path / "head.npz")
    loaded = TextHead.load(tmp_path / "head.npz")
    assert loaded.target == "descriptions" and np.array_equal(loaded.down, head.down)
    np.savez(tmp_path / "old.npz", down=head.down, up=head.up)  # a head written before targets existed
    assert TextHead.load(tmp_path / "old.npz").target == "labels"


def test_an_articles_sentence_mean_goes_through_the_document_head_and_a_long_text_through_the_text_head(
        matchers, e5):
    from kb.embedding.embedders import embed_queries
    from kb.esco.match import VIEW_TARGETS, text_head_file

    with_head, without = matchers
    vectors = embed_queries(e5, [BODY])
    index = with_head._indexes["occupation"]
    for view, scores in (("text", with_head.scores(vectors, "occupation", texts=[BODY])
                          - without.scores(vectors, "occupation", texts=[BODY])),
                         ("document", with_head.scores(vectors, "occupation", passage=True)
                          - without.scores(vectors, "occupation", passage=True))):
        mapped = with_head.from_passages(vectors) if view == "document" else vectors
        added = sum(text_head_scores(mapped, index, TextHead.load(text_head_file("occupation", view, target)))
                    for target in VIEW_TARGETS[view])  # a long text: towards the labels and the description
        assert np.allclose(scores, with_head.config.method.text_head_weight * added, atol=1e-5)


def test_the_text_head_scores_long_texts_and_document_views_and_leaves_titles_alone(matchers, e5):
    from kb.embedding.embedders import embed_queries

    with_head, without = matchers
    texts = ["operator wózka widłowego", BODY]
    vectors = embed_queries(e5, texts)
    headed = with_head.scores(vectors, "occupation", texts=texts)
    plain = without.scores(vectors, "occupation", texts=texts)
    assert np.allclose(headed[0], plain[0])
    assert not np.allclose(headed[1], plain[1])
    assert not np.allclose(with_head.scores(vectors, "occupation", passage=True),
                           without.scores(vectors, "occupation", passage=True))
    assert np.allclose(with_head.scores(vectors, "occupation"), without.scores(vectors, "occupation"))
    best = with_head.match(texts[1:], type="occupation", top=3, embedder=e5)[0]
    assert any("wózk" in with_head.data.occupations[_number(with_head, m.uri)].label("pl") for m in best)


def _number(matcher, uri: str) -> int:
    return next(n for n, concept in enumerate(matcher.data.occupations) if concept.uri == uri)


def test_a_head_trained_on_english_descriptions_of_half_the_occupations_ranks_polish_duty_prose_of_the_other_half_better(
        matchers, e5):
    """Cross-fitted on concepts: no occupation the head is measured on was trained on, in any language. Measured
    over the label channel alone: the description channel reads the same ESCO descriptions the head learns from
    (on top of it the head adds nothing on ESCO's own bodies, and 0.05 MRR on role texts, python -m
    eval.esco_roles)."""
    from eval.esco import _after_first_sentence, concept_half
    from eval.esco_adapter import train_text_head
    from kb.embedding.embedders import embed_queries
    from kb.esco.vectors import load_vectors

    _, plain = matchers
    data = plain.data
    count = len(data.occupations)
    half = np.array([concept_half("occupation", n) for n in range(count)])
    rows = load_vectors(data.folder)
    described = (rows.kind == 0) & (rows.field == 2)
    index = plain._indexes["occupation"]
    head = train_text_head(plain.from_passages(rows.vectors[described]), rows.concept[described], index, half == 0)
    measured = [n for n in range(count)
                if half[n] == 1 and _after_first_sentence(data.occupations[n].descriptions.get("pl", ""))][:40]
    bodies = [_after_first_sentence(data.occupations[n].descriptions["pl"]) for n in measured]
    vectors = embed_queries(e5, bodies)
    _, labels_only = matcher_without(text_head_types=(), description_weight=0.0)
    base = labels_only.scores(vectors, "occupation")
    headed = base + text_head_scores(vectors, index, head)

    def mrr(scores: np.ndarray) -> float:
        return float(np.mean([1 / (1 + (row > row[n]).sum()) for row, n in zip(scores, measured)]))

    assert mrr(headed) > mrr(base) + 0.02


def test_text_head_training_reads_only_the_texts_of_its_half(matchers):
    from eval.esco_adapter import train_text_head

    _, plain = matchers
    index = plain._indexes["occupation"]
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((6, 384)).astype(np.float32)
    owners = np.array([0, 1, 2, 0, 1, 2])
    train = np.zeros(index.count, dtype=bool)
    with pytest.raises(ValueError, match="training half"):
        train_text_head(vectors, owners, index, train)
    train[[0, 1]] = True
    first = train_text_head(vectors, owners, index, train, epochs=2)
    changed = vectors.copy()
    changed[owners == 2] = rng.standard_normal((2, 384))  # texts of a concept outside the half
    second = train_text_head(changed, owners, index, train, epochs=2)
    assert np.array_equal(first.down, second.down) and np.array_equal(first.up, second.up)


@pytest.mark.parametrize("path, occupation", [
    ("tests/data/heldout/ads/articles/pl_analityk_danych.txt", "data analyst"),
    ("tests/data/heldout/articles/articles/vi_thietkedohoa.txt", "graphic designer"),
    ("tests/data/dev/articles/sv_bussforare.txt", "bus driver"),
])
def test_a_role_text_without_its_title_links_to_its_occupation(matchers, e5, path, occupation):
    """Ads and articles in pl, vi and sv that no part of the matcher was fitted on (``eval.esco_roles``)."""
    from eval.esco_roles import ROOT, split_title

    with_head, _ = matchers
    _, body = split_title((ROOT / path).read_text(encoding="utf-8"))
    (best,) = with_head.match([body], type="occupation", top=1, embedder=e5)[0]
    assert best.label == occupation
    assert best.score >= with_head.config.calibrations["occupation"].threshold
