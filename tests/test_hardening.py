"""Input paths under abuse: limits, two writers, a full disk, half-made folders, broken bytes, removal."""
from __future__ import annotations

import csv
import io
import json
import logging
import sqlite3
from pathlib import Path

import pytest

from kb.errors import KBError
from kb.knowledge import KnowledgeBase
from kb.records import Article, Hit, Refused, Sentence
from kb_builder import build_kb

DOCS = {
    "pl1": ("pl", [("duty", "", "oszacować koszty spotkania"), ("skill", "skill", "umiejętności komunikacyjne")]),
    "sv1": ("sv", [("duty", "", "planera möten och boka resor"), ("skill", "trait", "noggrann")]),
}
POLISH = "Koordynator biura\n\nKoordynator biura organizuje spotkania i zamawia materiały biurowe. Wymagana " \
         "jest znajomość języka angielskiego oraz umiejętność pracy w zespole.\n"


@pytest.fixture
def small_kb(tmp_path: Path, fake_embedder):
    with build_kb(tmp_path / "kb", fake_embedder, DOCS) as kb:
        yield kb


# -- formula injection in the search download ---------------------------------------------

def test_search_csv_download_quotes_cells_a_spreadsheet_would_run() -> None:
    from webapp.ui import hits_csv

    hits = [Hit(rank, 0.9, "evil", "=HYPERLINK(\"http://x\")", "en", "skill", text, text, 0, len(text), 0, len(text))
            for rank, text in enumerate(["=1+1", "+48 22 123", "-2", "@SUM(A1)", "plain text"], start=1)]
    rows = list(csv.DictReader(io.StringIO(hits_csv(hits).decode("utf-8-sig"), newline="")))
    assert [row["text"] for row in rows] == ["'=1+1", "'+48 22 123", "'-2", "'@SUM(A1)", "plain text"]
    assert {row["title"] for row in rows} == {"'=HYPERLINK(\"http://x\")"}
    assert [row["rank"] for row in rows] == ["1", "2", "3", "4", "5"]  # numbers are left alone


# -- queries: length and invalid characters -----------------------------------------------

def test_a_query_over_the_length_limit_is_refused_before_any_model_work(small_kb) -> None:
    from kb.search.dense import MAX_QUERY_CHARS

    with pytest.raises(KBError, match=r"1,001 characters long, over the limit of 1,000; shorten it"):
        small_kb.search("a" * (MAX_QUERY_CHARS + 1))


def test_cli_refuses_a_long_query_in_one_error_line(small_kb, capsys) -> None:
    from kb.cli import main

    assert main(["search", "planera " * 200, "--kb", str(small_kb.folder)]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: the query is 1,600 characters long") and error.count("\n") == 1


def test_a_lone_surrogate_in_a_query_is_refused_with_a_message(small_kb) -> None:
    with pytest.raises(KBError, match=r"invalid character \('\\ud800'.*retype the query"):
        small_kb.search("planera \ud800 möten")


# -- two writers, a full disk -------------------------------------------------------------

def test_a_second_writer_waits_then_is_refused_naming_the_first(small_kb, fake_embedder, monkeypatch,
                                                                 caplog) -> None:
    import os

    import kb.storage.store as store

    monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 0.2)
    second = KnowledgeBase.open(small_kb.folder, embedder=fake_embedder)
    try:
        with small_kb.batch(), caplog.at_level(logging.WARNING):
            with pytest.raises(KBError, match=rf"another process \(pid {os.getpid()}: .*\) is writing to this "
                                              r"knowledge base \(waited 0 s\); wait for it to finish"):
                second.remove_article("pl1")
        assert "waiting up to 0 s for it to finish" in caplog.text
        assert second.remove_article("pl1")  # once the first is done, the second writes
    finally:
        second.close()


def test_second_ingest_prints_one_error_line_while_another_writes(small_kb, tmp_path, monkeypatch, capsys) -> None:
    import kb.storage.store as store
    from ingest.__main__ import main

    monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 0.2)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "koordynator.txt").write_text(POLISH, encoding="utf-8")
    other = sqlite3.connect(small_kb.folder / "kb.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process in the middle of its ingest
    try:
        assert main([str(tmp_path / "in"), "--kb", str(small_kb.folder), "--quiet"]) == 1
    finally:
        other.execute("ROLLBACK")
        other.close()
    error = capsys.readouterr().err.splitlines()
    assert error[-1].startswith("error: ") and "is writing to this knowledge base" in error[-1]
    assert not any("Traceback" in line for line in error)


def test_a_full_disk_says_nothing_was_changed(small_kb, fake_embedder) -> None:
    before = small_kb.store.counts()
    pages = small_kb.store.connection.execute("PRAGMA page_count").fetchone()[0]
    small_kb.store.connection.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from here
    text = "Boka resor och planera möten för ledningsgruppen. " * 2000
    article = Article("big", "big.txt", text, "big", "utf-8", "hash", lang="sv")
    with pytest.raises(KBError, match=r"disk full: nothing was changed; free some space"):
        small_kb.add_article(article, [Sentence("big", 0, 0, len(text), text, "sv")], [],
                             fake_embedder.embed_passages([text]))
    assert small_kb.store.counts() == before and not small_kb.store.connection.in_transaction


# -- a knowledge base cut off while being made --------------------------------------------

def test_a_folder_with_only_a_half_made_database_is_made_into_a_knowledge_base(tmp_path, fake_embedder) -> None:
    from kb.storage.store import Store

    folder = tmp_path / "kb"
    Store.open(folder).close()  # what a kill in the first 0.2 s of the old order left: no settings.json
    with KnowledgeBase.create_or_open(folder, embedder=fake_embedder) as kb:
        assert kb.settings.embedder == "fake" and (folder / "settings.json").exists()


def test_a_folder_with_articles_but_no_settings_is_still_refused(small_kb, fake_embedder) -> None:
    (small_kb.folder / "settings.json").unlink()
    with pytest.raises(KBError, match="folder is not empty and holds no knowledge base"):
        KnowledgeBase.create_or_open(small_kb.folder, embedder=fake_embedder)


def test_settings_are_written_before_the_database(tmp_path, fake_embedder, monkeypatch) -> None:
    from kb.settings import Settings

    def killed(self, folder):
        raise KeyboardInterrupt

    monkeypatch.setattr(Settings, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        KnowledgeBase.create_or_open(tmp_path / "kb", embedder=fake_embedder)
    assert not (tmp_path / "kb" / "kb.sqlite").exists()


# -- size limits ---------------------------------------------------------------------------

def test_a_line_without_punctuation_is_split_into_bounded_sentences() -> None:
    from ingest.sentences import MAX_SENTENCE_CHARS, split

    text = "planowanie spotkań zamawianie materiałów obsługa poczty " * 200  # 11,200 characters, no full stop
    article = Article("one", "one.txt", text, "one", "utf-8", "h", lang="pl", body=((0, len(text) - 1),))
    sentences = list(split([article]))
    assert len(sentences) > 10 and all(len(s.text) <= MAX_SENTENCE_CHARS for s in sentences)
    assert all(text[s.start:s.end] == s.text and s.text == s.text.strip() for s in sentences)
    assert " ".join(s.text for s in sentences).split() == text.split()  # every word kept, in order


def test_a_file_over_the_size_limit_is_refused_by_name_and_the_rest_read(tmp_path) -> None:
    from ingest.read import read

    (tmp_path / "dump.txt").write_bytes(b"Koordynator biura. " * 120_000)  # 2.3 MB
    (tmp_path / "koordynator.txt").write_text(POLISH, encoding="utf-8")
    records = {Path(record.path).name: record for record in read([tmp_path])}
    assert isinstance(records["koordynator.txt"], Article)
    refused = records["dump.txt"]
    assert isinstance(refused, Refused)
    assert refused.reason.startswith("the file is 2.3 MB, over the limit of 2 MB per article; split it")


# -- broken bytes --------------------------------------------------------------------------

def test_utf8_with_a_broken_byte_keeps_its_letters_and_warns_by_name(tmp_path, caplog) -> None:
    from ingest.read import read

    raw = POLISH.encode("utf-8").replace("biurowe".encode(), b"biur\xffwe")
    (tmp_path / "zepsuty.txt").write_bytes(raw)
    with caplog.at_level(logging.WARNING):
        (article,) = read([tmp_path / "zepsuty.txt"])
    assert "zamawia materiały biur\ufffdwe" in article.text and "języka angielskiego" in article.text
    assert "zepsuty.txt: not valid UTF-8 (1 broken bytes, the first at byte" in caplog.text


def test_a_real_cp1250_file_is_still_read_as_cp1250(tmp_path) -> None:
    from ingest.read import read

    (tmp_path / "stary.txt").write_bytes(POLISH.encode("cp1250"))
    (article,) = read([tmp_path / "stary.txt"])
    assert article.text == POLISH and article.encoding in ("cp1250", "iso8859-2")


# -- document ids, removal, pruning --------------------------------------------------------

def test_kb_remove_takes_an_article_out_of_store_and_index(small_kb, fake_embedder, monkeypatch, capsys) -> None:
    from kb.cli import main

    monkeypatch.setattr("kb.knowledge.open_embedder", lambda name: fake_embedder)  # the refresh after it embeds
    units = len(small_kb.store.unit_ids(doc_id="pl1"))
    total = len(small_kb.index)
    assert main(["remove", "pl1", "--kb", str(small_kb.folder)]) == 0
    assert capsys.readouterr().out == "removed pl1\n"
    with KnowledgeBase.open(small_kb.folder) as kb:
        assert [doc["doc_id"] for doc in kb.docs()] == ["sv1"]
        assert len(kb.index) == total - units


def test_kb_remove_refuses_an_unknown_id_and_removes_nothing(small_kb, capsys) -> None:
    from kb.cli import main

    assert main(["remove", "sv1", "nope", "--kb", str(small_kb.folder)]) == 1
    assert capsys.readouterr().err == "error: kb: no article 'nope'; give an exact id from 'python -m kb docs'\n"
    assert [doc["doc_id"] for doc in small_kb.docs()] == ["pl1", "sv1"]  # all of them or none


def test_ingest_prune_removes_documents_whose_files_are_gone(tmp_path, corpus_copy, fake_embedder) -> None:
    from ingest.pipeline import ingest

    folder = tmp_path / "kb"
    ingest([corpus_copy], kb_dir=folder, embedder=fake_embedder)
    (corpus_copy / "002_5df17db3aa96b6b9.txt").unlink()
    assert ingest([corpus_copy], kb_dir=folder, embedder=fake_embedder).removed == []  # no --prune: kept
    report = ingest([corpus_copy], kb_dir=folder, embedder=fake_embedder, prune=True)
    assert report.removed == ["002_5df17db3aa96b6b9"] and "removed 1 documents" in report.summary()
    with KnowledgeBase.open(folder, embedder=fake_embedder) as kb:
        assert "002_5df17db3aa96b6b9" not in {doc["doc_id"] for doc in kb.docs()} and len(kb.docs()) == 4


def test_the_same_file_from_another_root_stays_one_document(tmp_path, corpus_copy, fake_embedder) -> None:
    from ingest.pipeline import ingest

    nested = tmp_path / "roles" / "corpus"
    nested.parent.mkdir()
    corpus_copy.rename(nested)
    folder = tmp_path / "kb"
    ingest([tmp_path / "roles"], kb_dir=folder, embedder=fake_embedder)
    again = ingest([nested], kb_dir=folder, embedder=fake_embedder)
    assert len(again.unchanged) == 5 and again.ingested == []
    with KnowledgeBase.open(folder, embedder=fake_embedder) as kb:
        assert [doc["doc_id"] for doc in kb.docs()] == sorted(path.stem for path in nested.glob("*.txt"))


def test_docs_json_and_stats_name_no_absolute_path(tmp_path, corpus_copy, fake_embedder, capsys) -> None:
    from ingest.pipeline import ingest
    from kb.cli import main

    folder = tmp_path / "kb"
    ingest([corpus_copy], kb_dir=folder, embedder=fake_embedder)
    assert main(["docs", "--json", "--kb", str(folder)]) == 0
    docs = json.loads(capsys.readouterr().out)
    assert [doc["path"] for doc in docs] == sorted(path.name for path in corpus_copy.glob("*.txt"))
    with KnowledgeBase.open(folder) as kb:
        assert kb.stats()["kb"] == "kb" and str(tmp_path) not in json.dumps([kb.stats(), kb.docs()])
        assert kb.article(docs[0]["doc_id"])["path"] == docs[0]["path"]



def test_cli_search_takes_top_as_well_as_k() -> None:
    from kb.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["search", "planera möten", "--top", "3"]).k == 3
    assert parser.parse_args(["search", "planera möten", "-k", "4"]).k == 4
    assert parser.parse_args(["search", "planera möten"]).k == 10
