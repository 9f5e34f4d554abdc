"""Ingest: idempotent, incremental, interruption-safe, refusing bad files."""
from __future__ import annotations

import re

import pytest

from ingest.pipeline import ingest
from kb.errors import KBError
from kb.storage.faiss_index import FaissIndex
from kb.knowledge import KnowledgeBase


class CountingEmbedder:
    """Wraps an embedder and counts the passages it embeds."""

    def __init__(self, inner, fail_after_calls: int | None = None):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.passages, self.calls, self.fail_after_calls = 0, 0, fail_after_calls

    def embed_passages(self, texts):
        self.calls += 1
        if self.fail_after_calls is not None and self.calls > self.fail_after_calls:
            raise KeyboardInterrupt  # what Ctrl-C does in the middle of an ingest
        self.passages += len(texts)
        return self.inner.embed_passages(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


def _snapshot(folder, embedder):
    with KnowledgeBase.open(folder, embedder=embedder) as kb:
        return kb.docs(), kb.store.counts(), len(kb.index)


def test_reingesting_unchanged_files_changes_and_embeds_nothing(tmp_path, corpus_copy, fake_embedder):
    folder = tmp_path / "kb"
    first = ingest([corpus_copy], kb_dir=folder, embedder=fake_embedder)
    assert first.ok and len(first.ingested) == 5
    before = _snapshot(folder, fake_embedder)
    counting = CountingEmbedder(fake_embedder)
    second = ingest([corpus_copy], kb_dir=folder, embedder=counting)
    assert second.ok and second.ingested == [] and len(second.unchanged) == 5
    assert counting.passages == 0
    assert _snapshot(folder, fake_embedder) == before


def test_files_are_read_again_when_the_ingest_code_changed(tmp_path, corpus_copy, fake_embedder, monkeypatch):
    import ingest.pipeline as pipeline

    folder = tmp_path / "kb"
    ingest([corpus_copy], kb_dir=folder, embedder=fake_embedder)
    monkeypatch.setattr(pipeline, "pipeline_fingerprint", lambda: "another extractor")
    upgraded = ingest([corpus_copy], kb_dir=folder, embedder=fake_embedder)
    assert len(upgraded.ingested) == 5 and upgraded.unchanged == []  # an upgrade re-extracts every article
    assert ingest([corpus_copy], kb_dir=folder, embedder=fake_embedder).ingested == []
    with KnowledgeBase.open(folder, embedder=fake_embedder) as kb:
        assert len(kb.docs()) == 5  # replaced, not added twice


def _stored_units(kb) -> int:
    """Every stored unit: sentences, duties, skills and the parts of long sentences, all in the index."""
    return kb.store.connection.execute("SELECT COUNT(*) FROM units").fetchone()[0]


def test_changed_file_replaces_its_old_rows(tmp_path, corpus_copy, fake_embedder):
    folder = tmp_path / "kb"
    ingest([corpus_copy], kb_dir=folder, embedder=fake_embedder)
    path = corpus_copy / "004_fd08960ed22fac1b.txt"
    path.write_text("Co robi kierowca?\nKierowca przewozi towary i dba o samochód. Planuje trasy dostaw.\n",
                    encoding="utf-8")
    report = ingest([corpus_copy], kb_dir=folder, embedder=fake_embedder)
    assert report.ingested == ["004_fd08960ed22fac1b"] and len(report.unchanged) == 4
    with KnowledgeBase.open(folder, embedder=fake_embedder) as kb:
        doc = next(d for d in kb.docs() if d["doc_id"] == "004_fd08960ed22fac1b")
        assert doc["title"] == "Co robi kierowca?" and doc["sentences"] == 2
        hits = kb.search("koordynator spotkania", k=50, doc="004_fd08960ed22fac1b", kind="sentence")
        assert hits and all("koordynator" not in hit.sentence for hit in hits)
        assert len(kb.index) == _stored_units(kb)


def test_interrupted_ingest_leaves_the_previous_knowledge_base_readable(tmp_path, corpus_copy, fake_embedder):
    folder = tmp_path / "kb"
    ingest([corpus_copy / "000_8c161820aec857f8.txt"], kb_dir=folder, embedder=fake_embedder)
    before = _snapshot(folder, fake_embedder)
    with pytest.raises(KeyboardInterrupt):
        ingest([corpus_copy], kb_dir=folder, embedder=CountingEmbedder(fake_embedder, fail_after_calls=2))
    assert _snapshot(folder, fake_embedder) == before
    with KnowledgeBase.open(folder, embedder=fake_embedder) as kb:
        assert kb.search("seniorkoordinator", k=3)


def test_crash_between_commit_and_index_write_rebuilds_the_index(tmp_path, corpus_copy, fake_embedder, monkeypatch):
    folder = tmp_path / "kb"

    original = FaissIndex.save

    def crash(self, target, generation):
        if generation > 0:  # the save after the ingest's commit
            raise KeyboardInterrupt
        original(self, target, generation)

    monkeypatch.setattr(FaissIndex, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        ingest([corpus_copy], kb_dir=folder, embedder=fake_embedder)
    monkeypatch.undo()
    with KnowledgeBase.open(folder, embedder=fake_embedder) as kb:
        counts = kb.store.counts()
        assert counts["articles"] == 5
        assert len(kb.index) == _stored_units(kb) > counts["sentences"] + counts["duties"] + counts["skills"]
    assert not (folder / "index.faiss").exists()  # a flat index is built from the store, never written


def test_bad_files_are_refused_by_name_and_the_others_still_ingest(tmp_path, corpus_copy, fake_embedder):
    (corpus_copy / "empty.txt").write_text("", encoding="utf-8")
    (corpus_copy / "binary.txt").write_bytes(bytes(range(256)) * 4)
    report = ingest([corpus_copy], kb_dir=tmp_path / "kb", embedder=fake_embedder)
    assert report.ok and len(report.ingested) == 5
    refused = {entry.path.rsplit("/", 1)[-1]: entry.reason for entry in report.refused}
    assert set(refused) == {"empty.txt", "binary.txt"}
    assert "binary.txt" in report.summary() and "empty.txt" in report.summary()


def test_opening_with_another_embedder_is_refused_with_how_to_rebuild(tmp_path, corpus_copy, fake_embedder):
    folder = tmp_path / "kb"
    ingest([corpus_copy / "000_8c161820aec857f8.txt"], kb_dir=folder, embedder=fake_embedder)
    with pytest.raises(KBError, match="built with embedder 'fake'.*rebuild"):
        ingest([corpus_copy], kb_dir=folder, embedder_name="e5")


def test_opening_a_folder_without_knowledge_base_says_how_to_build_one(tmp_path):
    with pytest.raises(KBError, match="python -m ingest"):
        KnowledgeBase.open(tmp_path / "nothing")


def test_corpus_articles_get_their_languages_and_question_titles(corpus_kb):
    docs = {doc["doc_id"]: doc for doc in corpus_kb.docs()}
    assert [docs[key]["lang"] for key in sorted(docs)] == ["sv", "sv", "vi", "sv", "pl"]
    assert docs["000_8c161820aec857f8"]["title"] == "Hur blir jag seniorkoordinator?"
    assert docs["002_5df17db3aa96b6b9"]["title"] == "Điều phối viên bộ phận là gì?"
    assert docs["004_fd08960ed22fac1b"]["title"] == "Co robi koordynator spotkania?"
    assert 20 <= docs["002_5df17db3aa96b6b9"]["sentences"] <= 32


@pytest.mark.parametrize("name, text, duties, skills", [
    ("magazynier_krakow.txt", "Zadania:\n- prowadzenie korespondencji\n- obsługa klientów\nWymagania:\n- znajomość Excela\n",
     ["prowadzenie korespondencji", "obsługa klientów"], ["znajomość Excela"]),
    ("assistent.txt", "Arbetsuppgifter:\n- hantera korrespondens\n- boka resor åt chefen\nKrav:\n- goda kunskaper i Excel\n",
     ["hantera korrespondens", "boka resor åt chefen"], ["goda kunskaper i Excel"])])
def test_an_article_that_opens_with_a_section_heading_keeps_its_first_list(tmp_path, fake_embedder, name, text,
                                                                          duties, skills):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / name).write_text(text, encoding="utf-8")
    assert ingest([tmp_path / "in"], kb_dir=tmp_path / "kb", embedder=fake_embedder).ok
    with KnowledgeBase.open(tmp_path / "kb", embedder=fake_embedder) as kb:
        items = kb.items()
        assert [item["text"] for item in items if item["kind"] == "duty"] == duties
        assert [item["text"] for item in items if item["kind"] == "skill"] == skills
        assert kb.docs()[0]["title"] == name.removesuffix(".txt").replace("_", " ")


def test_the_progress_bar_names_the_file_and_step_at_hand(tmp_path, corpus_copy, fake_embedder, capsys):
    report = ingest([corpus_copy / "004_fd08960ed22fac1b.txt"], kb_dir=tmp_path / "kb", embedder=fake_embedder,
                    progress=True)
    assert report.ok
    shown = capsys.readouterr().err
    assert "004_fd08960ed22fac1b: sentences, duties and skills" in shown
    assert re.search(r"004_fd08960ed22fac1b: embedding \d+ texts", shown)
    assert ingest([corpus_copy], kb_dir=tmp_path / "quiet", embedder=fake_embedder).ok
    assert capsys.readouterr().err == ""


def test_a_large_file_streams_through_bounded_batches_and_nothing_is_kept_between_files(tmp_path, fake_embedder,
                                                                                         monkeypatch):
    from ingest.compute import SLICE_SENTENCES
    from kb.embedding.embedders import CHUNK_SIZE, MemoEmbedder

    articles = tmp_path / "articles"
    articles.mkdir()
    duties = [f"- prowadzenie ewidencji dostaw numer {n} i kontrola faktur" for n in range(2500)]
    (articles / "large.txt").write_text("Magazynier\n\nObowiązki:\n" + "\n".join(duties) + "\n", encoding="utf-8")
    for n in range(3):
        (articles / f"small_{n}.txt").write_text(f"Kucharz {n}\n\nArbetsuppgifter:\n- laga mat\n- diska\n",
                                                 encoding="utf-8")
    batches: list[int] = []
    kept_per_file: list[int] = []
    counting = CountingEmbedder(fake_embedder)
    original_embed, original_clear = counting.embed_passages, MemoEmbedder.clear

    def record_batch(texts):
        batches.append(len(texts))
        return original_embed(texts)

    def record_clear(memo):
        kept_per_file.append(len(memo._vectors))
        original_clear(memo)

    monkeypatch.setattr(counting, "embed_passages", record_batch)
    monkeypatch.setattr(MemoEmbedder, "clear", record_clear)
    report = ingest([articles], kb_dir=tmp_path / "kb", embedder=counting)
    assert report.ok and report.items > 2000 and len(report.ingested) == 4
    assert max(batches) <= CHUNK_SIZE and len(batches) > 2000 / CHUNK_SIZE  # the large file, in bounded batches
    # the texts remembered for short files prepared together, or for a slice of SLICE_SENTENCES sentences of a
    # long one, are dropped before the next: the large file in three slices, then the three small ones
    slices = -(-report.sentences // SLICE_SENTENCES)
    assert slices == 3 and len(kept_per_file) == slices + 1
    assert min(kept_per_file) == kept_per_file[-1] < 3 * 20  # the small files' texts, held together
    assert max(kept_per_file) < 3 * SLICE_SENTENCES  # a slice's sentences, duties and skills, not the file's
    with KnowledgeBase.open(tmp_path / "kb", embedder=counting) as kb:
        large = [doc for doc in kb.docs() if doc["doc_id"] == "large"]
        assert len(large) == 1 and len(kb.items(doc="large")) == report.items - 6


def test_files_are_read_again_when_another_extraction_method_is_chosen(tmp_path, corpus_copy, fake_embedder,
                                                                        monkeypatch):
    folder = tmp_path / "kb"
    monkeypatch.delenv("KB_EXTRACTOR", raising=False)
    ingest([corpus_copy], kb_dir=folder, embedder=fake_embedder)
    monkeypatch.setenv("KB_EXTRACTOR", "learned")
    assert len(ingest([corpus_copy], kb_dir=folder, embedder=fake_embedder).ingested) == 5
    assert ingest([corpus_copy], kb_dir=folder, embedder=fake_embedder).ingested == []



def test_a_long_article_that_fails_in_a_later_slice_is_not_left_half_stored(tmp_path, fake_embedder, monkeypatch):
    import ingest.compute as compute

    articles = tmp_path / "articles"
    articles.mkdir()
    duties = "\n".join(f"- prowadzenie ewidencji dostaw numer {n}" for n in range(12))
    (articles / "long.txt").write_text(f"Magazynier\n\nObowiązki:\n{duties}\n", encoding="utf-8")
    (articles / "short.txt").write_text("Kock\n\nArbetsuppgifter:\n- laga mat\n- diska\n", encoding="utf-8")
    monkeypatch.setattr(compute, "SLICE_SENTENCES", 5)
    embed_and_link = compute.embed_and_link

    def failing_later(processed, *args, continued=False, **kwargs):
        if continued and processed.article.doc_id == "long":
            raise RuntimeError("the model failed")
        return embed_and_link(processed, *args, continued=continued, **kwargs)

    monkeypatch.setattr(compute, "embed_and_link", failing_later)
    report = ingest([articles], kb_dir=tmp_path / "kb", embedder=fake_embedder)
    assert report.ingested == ["short"] and [entry.path for entry in report.failed] == [str(articles / "long.txt")]
    with KnowledgeBase.open(tmp_path / "kb", embedder=fake_embedder) as kb:
        assert [doc["doc_id"] for doc in kb.docs()] == ["short"]
    monkeypatch.setattr(compute, "embed_and_link", embed_and_link)
    again = ingest([articles], kb_dir=tmp_path / "kb", embedder=fake_embedder)
    assert again.ingested == ["long"] and again.sentences >= 12
    with KnowledgeBase.open(tmp_path / "kb", embedder=fake_embedder) as kb:
        assert len(kb.items(doc="long")) >= 12 and len(kb.docs()) == 2
