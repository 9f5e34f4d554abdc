"""The lexical channel of the ESCO matcher: character n-grams of labels, TF-IDF, best label per concept."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from kb.esco.data import Concept
from kb.esco.lexical import (LexicalLabel, cache_folder, build_lexical, gram_pairs, lexical_labels, normalize,
                             open_lexical)

LABELS = [LexicalLabel(0, "sv", "förare av truck"), LexicalLabel(0, "en", "forklift operator"),
          LexicalLabel(1, "sv", "lastbilschaufför"), LexicalLabel(1, "en", "lorry driver"),
          LexicalLabel(2, "pl", "operator wózka widłowego"), LexicalLabel(3, "sv", "projektledare")]


def test_normalize_lowers_case_and_folds_punctuation_to_single_spaces():
    assert normalize("  IT-säkerhets  konsult, (senior) ") == "it säkerhets konsult senior"


def test_grams_stay_inside_words():
    _, one_word = gram_pairs(["ab"])
    _, two_words = gram_pairs(["ab cd"])
    # " ab" and "ab " (3-grams) and " ab " (4-gram) per word; nothing spans "b c".
    assert len(one_word) == 3 and len(two_words) == 6


@pytest.mark.parametrize(("lang", "text", "concept"), [
    ("sv", "truckförare", 0),  # a compound against the label's separate words
    ("sv", "lastbilschaufför", 1),
    ("pl", "operatorka wózków widłowych", 2),  # inflected forms share the stems
    ("sv", "projektledning", 3),
])
def test_a_text_finds_the_concept_that_shares_its_word_parts(lang, text, concept):
    index = build_lexical(LABELS, 4)
    assert int(np.argmax(index.scores([text])[0])) == concept


def test_an_identical_label_scores_one_and_an_unrelated_text_zero():
    index = build_lexical(LABELS, 4)
    scores = index.scores(["forklift operator", "qzxv"])
    assert scores[0, 0] == pytest.approx(1.0, abs=1e-5) and not scores[1].any()


def test_excluded_and_left_out_labels_are_not_seen():
    index = build_lexical(LABELS, 4)
    assert index.scores(["lorry driver"], [np.array([3])])[0, 1] < 0.5
    without_english = build_lexical(LABELS, 4, keep=np.array([label.lang != "en" for label in LABELS]))
    assert without_english.scores(["forklift operator"])[0, 0] < index.scores(["forklift operator"])[0, 0]


def test_candidate_scores_are_the_full_scores_read_at_the_candidates():
    index = build_lexical(LABELS + [LexicalLabel(5, "en", "truck driver")], 6)  # concept 4 has no label
    texts = ["truckförare", "operatorka wózków widłowych", "qzxv", "", "lorry driver"]
    candidates = np.array([[0, 5, 4], [2, 0, 1], [3, 1, 0], [0, 1, 2], [4, 1, 5]])
    full = index.scores(texts)
    scores = index.candidate_scores(texts, candidates)
    assert np.array_equal(scores, np.take_along_axis(full, candidates, 1))
    assert scores[0, 0] > 0 and not scores[2].any() and not scores[3].any() and scores[4, 1] > scores[4, 2] > 0


def test_labels_must_come_sorted_by_concept():
    with pytest.raises(ValueError):
        build_lexical(list(reversed(LABELS)), 4)


def test_the_index_is_cached_by_table_content_and_reads_back_the_same(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "esco.json.gz").write_bytes(b"tables")
    occupations = [Concept("o0", "occupation", {"sv": ("förare av truck",), "en": ("forklift operator",)}),
                   Concept("o1", "occupation", {"en": ("lorry driver",)})]
    data = SimpleNamespace(folder=tmp_path, occupations=occupations, skills=[])
    folder = cache_folder(data, "occupation")
    older = folder.with_name(folder.name.rsplit("-", 1)[0] + "-1.npz")  # an earlier format's file
    older.parent.mkdir(parents=True)
    older.write_bytes(b"old")
    built = open_lexical(data, "occupation")
    assert [path.name for path in (tmp_path / "cache").rglob("occupation-*")] == [folder.name]
    read = open_lexical(data, "occupation")
    assert np.array_equal(built.scores(["truckförare"]), read.scores(["truckförare"]))
    assert [label.text for label in lexical_labels(occupations)] == ["forklift operator", "förare av truck",
                                                                     "lorry driver"]


def test_the_matcher_finds_a_swedish_compound_title():
    from kb.esco.match import open_matcher

    matcher = open_matcher()
    assert matcher.config.method.lexical_weight > 0
    [matches] = matcher.match(["truckförare"], type="occupation", top=3)
    assert matches and matches[0].label == "forklift operator"
