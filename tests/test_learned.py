"""The learned extractor: candidate units, labels for training, the fit, the shipped weights, real extraction."""
from __future__ import annotations

import numpy as np
import pytest

from ingest.extract.learned import learned_items, uses_learned_model
from ingest.extract.model import CLASSES, WEIGHTS, decode, load_model, scored
from ingest.extract.sources import conll
from ingest.extract.train import Examples, fit, label_mask
from ingest.extract.units import FEATURES, Unit, article_units
from kb.errors import KBError
from kb.records import Sentence
from tests.extract_helpers import sentences_of


def test_an_enumeration_gives_the_whole_clause_and_each_member_as_units():
    text, sentences = sentences_of("sv", "Du planerar möten, bokar resor och hanterar chefens kalender.")
    units = article_units(sentences, "Koordinator", text)
    spans = [unit.text for unit in units]
    assert any("bokar resor" in span and "kalender" in span for span in spans)  # the clause
    assert "bokar resor" in spans and any(span.startswith("hanterar chefens kalender") for span in spans)
    member = FEATURES.index("duty_member")
    assert any(unit.features[member] == 1 for unit in units if unit.text == "bokar resor")


def test_a_language_without_rules_still_gets_its_clauses_and_members_as_units():
    text, sentences = sentences_of("xx", "Planowanie spotkań, rezerwacja podróży i obsługa kalendarza.")
    units = article_units(sentences, "", text)
    assert len(units) >= 2
    assert all(unit.features[FEATURES.index("has_rules")] == 0 for unit in units)


def _unit(start: int, end: int) -> Unit:
    sentence = Sentence("d", 0, 0, 100, "x" * 100, "en")
    return Unit(sentence, start, end, "x" * (end - start), tuple(0.0 for _ in FEATURES))


def test_a_unit_takes_the_label_of_the_gold_span_it_overlaps_most():
    spans = [(0, 10, "duty"), (12, 40, "skill:knowledge")]
    assert CLASSES[int(label_mask(_unit(14, 30), spans).argmax())] == "skill:knowledge"
    assert label_mask(_unit(50, 60), spans)[0]  # outside every gold span: none


def test_a_unit_over_three_times_its_gold_span_is_labelled_none_so_the_model_learns_boundaries():
    assert label_mask(_unit(0, 40), [(0, 10, "duty")])[0]
    assert label_mask(_unit(0, 25), [(0, 10, "duty")])[1]


def test_a_span_of_either_kind_allows_every_item_class_but_none():
    mask = label_mask(_unit(0, 10), [(0, 10, "item")])
    assert not mask[0] and mask[1:].all()


def test_bio_files_become_texts_with_the_tagged_spans(tmp_path):
    path = tmp_path / "x.conll"
    path.write_text("Strong\tO\tO\nPython\tB-SKILL\tO\nskills\tI-SKILL\tO\n.\tO\tO\n\nKnow\tO\tO\nSQL\tO\tB-KNOWLEDGE\n",
                    encoding="utf-8")
    [doc] = conll(path, "tiny", "en")
    assert [(doc.text[s:e], label) for s, e, label in doc.spans] == [("Python skills", "item"),
                                                                     ("SQL", "skill:knowledge")]


def _separable_examples() -> Examples:
    rng = np.random.default_rng(1)
    units, masks, docs = [], [], []
    for index in range(280):
        kind = index % 3
        units.append(_unit(0, 10))
        mask = np.zeros(len(CLASSES), dtype=bool)
        mask[[0, 1, 5][kind]] = True
        masks.append(mask)
        docs.append(f"doc{index}")
    vectors = rng.normal(size=(280, 384)).astype(np.float32)
    vectors[:, :3] += 8 * np.eye(3)[[index % 3 for index in range(280)]]
    return Examples(units, np.array(masks), docs, ["a"] * 280, vectors, vectors)


def test_the_fit_is_reproducible_and_learns_separable_classes():
    first, second = fit(_separable_examples(), epochs=40), fit(_separable_examples(), epochs=40)
    assert np.array_equal(first.w1, second.w1) and first.platt == second.platt
    examples = _separable_examples()
    features = np.zeros((280, len(FEATURES)), dtype=np.float32)
    predicted = first.probabilities(examples.unit_vectors, examples.sentence_vectors, features).argmax(axis=1)
    assert (predicted == np.array([[0, 1, 5][index % 3] for index in range(280)])).mean() > 0.95


def test_decoding_keeps_the_confident_span_and_drops_what_overlaps_it():
    long, short, other = _unit(0, 30), _unit(0, 10), _unit(40, 50)
    items = decode([(long, "duty", "", 0.6), (short, "duty", "", 0.9), (other, "skill", "trait", 0.3)])
    assert [(item.start, item.end, item.kind) for item in items] == [(0, 10, "duty")]


def test_the_shipped_weights_are_small_and_match_the_code():
    assert WEIGHTS.stat().st_size < 20_000_000
    model = load_model()
    assert model.w1.shape[0] == 384 * 2 + len(FEATURES) and model.w2.shape[1] == len(CLASSES)


def test_unreadable_weights_are_refused_with_the_file_and_the_fix(tmp_path):
    broken = tmp_path / "extractor.npz"
    broken.write_bytes(b"not numpy")
    with pytest.raises(KBError, match="extractor.npz.*make train"):
        load_model(broken)


def test_only_the_e5_embedder_uses_the_learned_model(fake_embedder, e5):
    assert uses_learned_model(e5) and not uses_learned_model(fake_embedder) and not uses_learned_model(None)


@pytest.mark.parametrize("lang, line, duty", [
    ("pl", "Do obowiązków należy budowa modeli uczenia maszynowego, wdrażanie i utrzymanie modeli, zbieranie wymagań.",
     "utrzymanie modeli"),
    ("pl", "Instaluje, montuje, demontuje i naprawia urządzenia elektryczne.", "naprawia urządzenia elektryczne"),
    ("sv", "Som lagerarbetare plockar du varor, packar order och kör truck.", "packar order"),
    ("vi", "Nhân viên kho kiểm tra hàng hóa và sắp xếp hàng trên kệ.", "sắp xếp hàng trên kệ"),
])
def test_duties_without_cue_words_are_found_in_unseen_text(e5, lang, line, duty):
    text, sentences = sentences_of(lang, line)
    items = learned_items(sentences, e5, "", text)
    assert any(duty in item.text and item.kind == "duty" for item in items), items
    assert all(0.0 <= item.confidence <= 1.0 and item.source == "model:learned" for item in items)


def test_a_requirement_reads_as_a_skill_and_an_offer_gives_no_item(e5):
    text, sentences = sentences_of("en", "You have a degree in accounting and three years of experience in auditing.",
                                   "We offer a company car and a gym membership.")
    units = article_units(sentences, "", text)
    vectors = e5.embed_passages([unit.text for unit in units] + [sentence.text for sentence in sentences])
    by_sentence = {sentence.index: vectors[len(units) + sentence.index] for sentence in sentences}
    entries = scored(load_model(), units, vectors[:len(units)],
                     np.vstack([by_sentence[unit.sentence.index] for unit in units]))
    assert entries and all(kind == "skill" for unit, kind, *_ in entries if unit.sentence.index == 0)
    assert not [item for item in learned_items(sentences, e5, "", text) if item.sentence_index == 1]


def test_the_learned_model_is_chosen_by_the_setting_and_the_rules_stay_the_default(e5, monkeypatch):
    from ingest.extract.extractor import extract

    text, sentences = sentences_of("sv", "Du planerar möten och bokar resor.")
    monkeypatch.delenv("KB_EXTRACTOR", raising=False)
    assert all(item.source != "model:learned" for item in extract(sentences, e5, texts={"doc": text}))
    monkeypatch.setenv("KB_EXTRACTOR", "learned")
    assert {item.source for item in extract(sentences, e5, texts={"doc": text})} == {"model:learned"}
