"""Sentence parts: word windows of long sentences, stored for search only."""
from __future__ import annotations

import sqlite3

import pytest

from ingest.parts import MIN_SENTENCE_WORDS, PART_STRIDE, PART_WORDS, sentence_parts, word_windows
from kb.records import Article, Item, Sentence
from kb.storage.store import Store

LONG = ("Koordinatorn ansvarar för att planera utskrivningar tillsammans med kommunen, att handleda "
        "sjuksköterskestudenter under deras praktik och att beställa förbrukningsmaterial i SAP varje vecka.")


def _sentence(text: str, lang: str = "sv", offset: int = 7) -> Sentence:
    return Sentence("doc", 3, offset, offset + len(text), text, lang)


def test_windows_cover_the_sentence_with_overlap_and_end_at_its_last_word():
    assert word_windows(14) == [(0, 10), (5, 14)]
    assert word_windows(22) == [(0, 10), (5, 15), (10, 20), (15, 22)]
    for count in range(MIN_SENTENCE_WORDS, 60):
        windows = word_windows(count)
        assert windows[0][0] == 0 and windows[-1][1] == count
        assert all(end - start <= PART_WORDS for start, end in windows)
        assert all(b[0] - a[0] == PART_STRIDE for a, b in zip(windows, windows[1:]))


def test_long_sentence_gets_parts_with_offsets_into_the_article():
    sentence = _sentence(LONG)
    article_text = "x" * sentence.start + LONG
    parts = sentence_parts(sentence)
    assert len(parts) == len(word_windows(len(LONG.split())))
    for part in parts:
        assert part.kind == "part" and part.lang == "sv" and part.sentence_index == 3
        assert article_text[part.start:part.end] == part.text
        assert sentence.start <= part.start < part.end <= sentence.end
        assert len(part.text.split()) <= PART_WORDS
    assert parts[0].text.startswith("Koordinatorn") and parts[-1].text.endswith("varje vecka.")
    assert any("handleda sjuksköterskestudenter" in part.text for part in parts)


ENUMERATION = ("Instaluje i naprawia urządzenia elektryczne; prowadzi dokumentację techniczną prac; "
               "kontroluje stan instalacji oświetleniowych; zamawia części zamienne u dostawców.")


def _items(sentence: Sentence, texts: list[str]) -> list[Item]:
    items = []
    for text in texts:
        start = sentence.start + sentence.text.index(text)
        items.append(Item("doc", sentence.index, "duty", "", start, start + len(text), text, "pl", 0.9, "tagger"))
    return items


def test_windows_the_duties_cover_word_for_word_are_not_kept():
    sentence = _sentence(ENUMERATION)
    duties = ["Instaluje i naprawia urządzenia elektryczne", "prowadzi dokumentację techniczną prac",
              "kontroluje stan instalacji oświetleniowych", "zamawia części zamienne u dostawców"]
    assert len(sentence_parts(sentence)) == 3
    assert sentence_parts(sentence, _items(sentence, duties)) == []


def test_a_subject_and_connecting_words_between_duties_keep_no_window():
    text = ("Elektrycy budowlani instalują i naprawiają urządzenia elektryczne, a także prowadzą dokumentację "
            "techniczną prac, aby kontrolować stan instalacji oświetleniowych w budynkach.")
    sentence = _sentence(text)
    duties = ["instalują i naprawiają urządzenia elektryczne", "prowadzą dokumentację techniczną prac",
              "kontrolować stan instalacji oświetleniowych w budynkach"]
    assert len(sentence_parts(sentence)) == 3
    assert sentence_parts(sentence, _items(sentence, duties)) == []


def test_windows_over_a_duty_the_extractor_missed_are_kept():
    sentence = _sentence(ENUMERATION)
    found = ["Instaluje i naprawia urządzenia elektryczne", "zamawia części zamienne u dostawców"]
    kept = sentence_parts(sentence, _items(sentence, found))
    assert kept and all(part in sentence_parts(sentence) for part in kept)
    assert any("dokumentację techniczną" in part.text for part in kept)
    assert any("oświetleniowych" in part.text for part in kept)


def test_items_of_another_sentence_do_not_cover_its_words():
    sentence = _sentence(ENUMERATION)
    elsewhere = Sentence("doc", 4, sentence.start, sentence.end, ENUMERATION, "pl")
    assert sentence_parts(sentence, _items(elsewhere, [ENUMERATION[:-1]])) == sentence_parts(sentence)


UNSPACED = "负责公司日常账务处理、编制月度财务报表以及办理税务申报和发票管理等相关工作。"


@pytest.mark.parametrize("text", ["Hon hanterar korrespondens och bokar resor för chefen.", UNSPACED])
def test_short_sentences_and_unspaced_scripts_get_no_parts(text):
    assert sentence_parts(_sentence(text)) == []


OLD_UNITS = """CREATE TABLE units_old (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    doc_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('sentence', 'duty', 'skill')),
    subtype TEXT NOT NULL DEFAULT '', lang TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    text TEXT NOT NULL, sentence_index INTEGER NOT NULL, sentence_id INTEGER,
    confidence REAL NOT NULL DEFAULT 1.0, source TEXT NOT NULL DEFAULT '', vector BLOB)"""


def _store_with(tmp_path, fake_embedder, with_parts: bool) -> tuple[Store, Sentence]:
    store = Store.open(tmp_path)
    sentence = _sentence(LONG, offset=0)
    article = Article("doc", "doc.txt", LONG, "t", "utf-8", "h", lang="sv")
    with store.transaction():
        article_id = store.add_article(article)
        (sentence_id,) = store.add_sentences(article_id, [sentence], fake_embedder.embed_passages([LONG]))
        units = sentence_parts(sentence) if with_parts else []
        store.add_items(article_id, units, {3: sentence_id}, fake_embedder.embed_passages([u.text for u in units]))
    return store, sentence


def test_a_database_made_before_parts_is_migrated_keeping_every_row(tmp_path, fake_embedder):
    store, sentence = _store_with(tmp_path, fake_embedder, with_parts=False)
    connection = store.connection
    connection.execute("INSERT INTO groups(id, kind, seed, seed_lang, created_at)"
                       " VALUES ('g1', 'duty', 's', 'sv', 'now')")
    connection.execute("INSERT INTO group_members(unit_id, group_id) VALUES (1, 'g1')")
    # turn the units table into the one an older version made (three kinds only)
    connection.execute("PRAGMA foreign_keys=OFF")
    connection.executescript(OLD_UNITS + "; INSERT INTO units_old SELECT * FROM units; DROP VIEW sentences;"
                             " DROP VIEW items; DROP TABLE units; ALTER TABLE units_old RENAME TO units;")
    with pytest.raises(sqlite3.IntegrityError):
        connection.execute("INSERT INTO units(article_id, doc_id, kind, lang, start, end, text, sentence_index)"
                           " VALUES (1, 'doc', 'part', 'sv', 0, 1, 'K', 3)")
    store.close()

    store = Store.open(tmp_path)
    assert store.counts() == {"articles": 1, "sentences": 1, "duties": 0, "skills": 0}
    parts = sentence_parts(sentence)
    with store.transaction():
        store.add_items(1, parts, {3: 1}, fake_embedder.embed_passages([p.text for p in parts]))
    assert store.counts()["sentences"] == 1  # parts are no sentences
    assert store.connection.execute("SELECT group_id FROM group_members WHERE unit_id = 1").fetchone()[0] == "g1"
    store.remove_article("doc")  # foreign keys work again: the membership goes with the unit
    assert store.connection.execute("SELECT COUNT(*) FROM group_members").fetchone()[0] == 0
    store.close()


def test_parts_stay_out_of_the_keyword_index(tmp_path, fake_embedder):
    from kb.storage.fts import keyword_search

    store, _ = _store_with(tmp_path, fake_embedder, with_parts=True)
    kinds = dict(store.connection.execute("SELECT id, kind FROM units"))
    hits = keyword_search(store.connection, "SAP", 20)
    assert hits and {kinds[unit_id] for unit_id, _ in hits} == {"sentence"}
    store.remove_article("doc")
    store.connection.execute("INSERT INTO units_fts(units_fts) VALUES ('integrity-check')")
    assert keyword_search(store.connection, "SAP", 20) == []
    store.close()
