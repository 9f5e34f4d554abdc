"""The vector seam: FAISS files and Milvus (milvus-lite, the same client as a server) behave the same
through ``kb.storage.vectors``; Milvus applies filters itself, before its top-k; an unreachable engine
is refused before anything is written."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kb.errors import KBError
from kb.knowledge import KnowledgeBase
from kb.settings import SETTINGS_FILE
from kb.storage.engines import engine_name, open_index
from kb.storage.vectors import UnitFilter, filtered_search

pytest.importorskip("pymilvus")
ROOT = Path(__file__).resolve().parent.parent
ENGINES = ["", "milvus-lite://vectors.db"]
LANGS = ("sv", "pl", "vi")


def _rows(count: int = 600, seed: int = 0):
    """Unit vectors with (doc_id, lang, kind); only the last 4 are Vietnamese, all of them duties of doc z."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(count, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    fields = [(f"d{i % 20}", LANGS[i % 2], ("sentence", "duty", "skill")[i % 3]) for i in range(count - 4)]
    fields += [("z", "vi", "duty")] * 4
    return np.arange(1, count + 1, dtype=np.int64), vectors, fields


class Store:
    """What the seam asks of the store: its rows, and the ids a filter allows (for engines that need them)."""

    def __init__(self, ids, vectors, fields):
        self.ids, self.vectors, self.fields = ids, vectors, fields
        self.asked = 0

    def rows(self):
        return [(self.ids, self.vectors, self.fields)]

    def unit_ids(self, *, kinds=(), lang=None, doc_id=None):
        self.asked += 1
        return [int(i) for i, (doc, language, kind) in zip(self.ids, self.fields)
                if (not kinds or kind in kinds) and (lang is None or language == lang)
                and (doc_id is None or doc == doc_id)]


def _exact(store: Store, query, k, admitted):
    scores = store.vectors @ query
    order = [i for i in np.argsort(-scores) if admitted(store.fields[i])]
    return [int(store.ids[i]) for i in order[:k]]


@pytest.mark.parametrize("uri", ENGINES)
def test_each_engine_round_trips_add_search_filter_remove_and_reopen(tmp_path, uri):
    store = Store(*_rows())
    index = open_index(tmp_path, 16, generation=1, rows=store.rows, uri=uri)
    assert len(index) == 600
    query = store.vectors[10]
    assert [i for i, _ in index.search(query, 5)] == _exact(store, query, 5, lambda field: True)
    assert index.search(query, 1)[0][1] == pytest.approx(1.0, abs=1e-5)  # cosine of a vector with itself
    where = UnitFilter(kinds=("duty", "skill"), lang="pl")
    found = [i for i, _ in filtered_search(index, store, query, 10, where)]
    assert found == _exact(store, query, 10, lambda field: field[1] == "pl" and field[2] != "sentence")
    np.testing.assert_allclose(index.reconstruct([3, 1]), store.vectors[[2, 0]], atol=1e-6)

    doc = [int(i) for i, field in zip(store.ids, store.fields) if field[0] == "d10"]  # one document's units
    keep = ~np.isin(store.ids, doc)  # the store first (as KnowledgeBase.add_article writes), then the index
    store.ids = np.append(store.ids[keep], 1001)
    store.vectors = np.vstack([store.vectors[keep], -query])
    store.fields = [field for field, kept in zip(store.fields, keep) if kept] + [("new", "sv", "duty")]
    index.remove(doc)
    index.add([1001], -query[None, :], [("new", "sv", "duty")])
    index.save(tmp_path, generation=2)
    assert not set(doc) & {i for i, _ in index.search(query, 50)}
    assert index.search(-query, 1)[0][0] == 1001
    assert len(index) == 600 - len(doc) + 1
    index.close()

    reads = []

    def rows():
        reads.append(1)
        return store.rows()

    reopened = open_index(tmp_path, 16, generation=2, rows=rows, uri=uri)
    assert len(reopened) == 600 - len(doc) + 1 and reopened.search(-query, 1)[0][0] == 1001
    assert len(reads) == (0 if index.pushes_filters else 1)  # Milvus keeps its collection; a flat FAISS index
    reopened.close()                # is built from the store on every open
    rebuilt = open_index(tmp_path, 16, generation=3, rows=rows, uri=uri)  # stale: rebuilt from the store
    assert len(rebuilt) == 600 - len(doc) + 1 and rebuilt.search(-query, 1)[0][0] == 1001 and len(reads) >= 1
    rebuilt.close()


def test_milvus_applies_filters_itself_before_its_top_k(tmp_path):
    store = Store(*_rows())
    index = open_index(tmp_path, 16, generation=1, rows=store.rows, uri="milvus-lite://vectors.db")
    assert index.pushes_filters
    query = store.vectors[0]  # a Swedish sentence: the 4 Vietnamese duties are far from the top-10
    found = filtered_search(index, store, query, 10, UnitFilter(kinds=("duty",), lang="vi"))
    assert sorted(i for i, _ in found) == [597, 598, 599, 600]  # every admitted unit, none other
    assert store.asked == 0  # the store was not asked for allowed ids: the engine filtered
    by_doc = filtered_search(index, store, query, 3, UnitFilter(doc_id="z"))
    assert {i for i, _ in by_doc} <= {597, 598, 599, 600} and len(by_doc) == 3
    index.close()


def test_the_faiss_files_are_given_the_ids_the_store_allows(tmp_path):
    store = Store(*_rows())
    index = open_index(tmp_path, 16, generation=1, rows=store.rows)
    assert not index.pushes_filters
    found = filtered_search(index, store, store.vectors[0], 10, UnitFilter(kinds=("duty",), lang="vi"))
    assert sorted(i for i, _ in found) == [597, 598, 599, 600] and store.asked == 1


@pytest.mark.parametrize("uri", ["milvus://127.0.0.1:1/units", "lancedb://somewhere", "milvus-lite://vectors.txt"])
def test_an_unreachable_or_unknown_vector_store_is_refused_and_nothing_is_written(tmp_path, fake_embedder, uri):
    folder = tmp_path / "kb"
    with pytest.raises(KBError) as raised:
        KnowledgeBase.create_or_open(folder, embedder=fake_embedder, vectors=uri)
    assert any(words in str(raised.value) for words in ("cannot reach", "unknown vector store", "needs a file"))
    assert not folder.exists()


def test_ingest_from_the_command_line_refuses_an_unreachable_engine_and_writes_nothing(tmp_path):
    folder = tmp_path / "kb"
    done = subprocess.run([sys.executable, "-m", "ingest", str(ROOT / "corpus"), "--kb", str(folder), "--quiet",
                           "--embedder", "e5", "--vectors", "milvus://127.0.0.1:1/units"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 1
    assert "cannot reach the vector store milvus://127.0.0.1:1/units" in done.stderr and "nothing was written" in done.stderr
    assert not folder.exists()


def test_a_knowledge_base_keeps_its_engine_and_refuses_another(tmp_path, fake_embedder):
    folder = tmp_path / "kb"
    KnowledgeBase.create_or_open(folder, embedder=fake_embedder, vectors="milvus-lite://vectors.db").close()
    assert json.loads((folder / SETTINGS_FILE).read_text())["vectors"] == "milvus-lite://vectors.db"
    with KnowledgeBase.open(folder, embedder=fake_embedder) as kb:
        assert kb.settings.vectors == "milvus-lite://vectors.db"
    with pytest.raises(KBError, match="keeps its vectors in 'milvus-lite://vectors.db', not 'faiss'"):
        KnowledgeBase.create_or_open(folder, embedder=fake_embedder, vectors="faiss")
    assert engine_name("") == engine_name("faiss") == "faiss"


def _milvus_copy(corpus_kb_dir: Path, folder: Path) -> Path:
    """A copy of the corpus knowledge base whose settings name milvus-lite (its collection is built on open)."""
    shutil.copytree(corpus_kb_dir, folder)
    settings = json.loads((folder / SETTINGS_FILE).read_text())
    (folder / SETTINGS_FILE).write_text(json.dumps({**settings, "vectors": "milvus-lite://vectors.db"}))
    return folder


@pytest.mark.slow
def test_search_through_milvus_gives_the_faiss_top_10_on_the_corpus(corpus_kb_dir, corpus_kb, e5, tmp_path):
    folder = _milvus_copy(corpus_kb_dir, tmp_path / "kb")
    queries = ["plan the manager's meetings", "zarządzanie kalendarzem", "kommunikationsförmåga",
               "quản lý lịch làm việc", "Excel and budgeting"]
    with KnowledgeBase.open(folder, embedder=e5) as milvus:  # the collection is built from the store
        assert milvus.index.pushes_filters and len(milvus.index) == len(corpus_kb.index)
        for query in queries:
            for filters in ({}, {"lang": "sv"}, {"kind": "duty"}):
                expected = [(hit.doc_id, hit.text) for hit in corpus_kb.search(query, k=10, **filters)]
                assert [(hit.doc_id, hit.text) for hit in milvus.search(query, k=10, **filters)] == expected


@pytest.mark.slow
def test_ingest_into_milvus_replaces_and_removes_documents(tmp_path, corpus_copy, fake_embedder):
    from ingest.pipeline import ingest

    folder = tmp_path / "kb"
    assert ingest([corpus_copy], kb_dir=folder, embedder=fake_embedder, vectors="milvus-lite://vectors.db").ok
    with KnowledgeBase.open(folder, embedder=fake_embedder) as kb:
        doc = kb.docs()[0]["doc_id"]
        before = len(kb.index)
        units = len(kb.store.unit_ids(doc_id=doc))
        kb.remove(doc)
        assert len(kb.index) == before - units
        assert all(hit.doc_id != doc for hit in kb.search("samordnare", k=50))
    with KnowledgeBase.open(folder, embedder=fake_embedder) as kb:  # reopened: the engine file is current
        assert len(kb.index) == before - units


def test_the_default_search_imports_no_vector_database_client(corpus_kb_dir):
    code = ("import sys; from kb.cli import main; main(['search', 'budget', '--kb', sys.argv[1], '-k', '1']); "
            "print('loaded', [name for name in ('pymilvus', 'milvus_lite', 'ray') if name in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code, str(corpus_kb_dir)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "loaded []" in done.stdout


@pytest.mark.slow
def test_the_app_searches_a_knowledge_base_kept_in_milvus(corpus_kb_dir, corpus_kb, tmp_path, monkeypatch):
    from test_app import app_at, hit_cards, no_exception, search

    at = search(app_at(_milvus_copy(corpus_kb_dir, tmp_path / "kb"), monkeypatch), "plan the manager's meetings",
                lang="sv")
    no_exception(at)
    cards = hit_cards(at)
    best = corpus_kb.search("plan the manager's meetings", k=1, lang="sv")[0]
    assert cards and best.title in cards[0] and all("<code>sv</code>" in card for card in cards)


def test_a_milvus_lite_file_open_in_another_process_is_refused_in_one_line(tmp_path, capfd):
    folder = tmp_path / "kb"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from kb.knowledge import KnowledgeBase; "
                               "kb = KnowledgeBase.create_or_open(sys.argv[1], embedder_name='e5', "
                               "vectors='milvus-lite://vectors.db'); kb.index; print('open', flush=True); "
                               "time.sleep(120)", str(folder)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "open"
        capfd.readouterr()
        with KnowledgeBase.open(folder) as kb, pytest.raises(KBError) as raised:
            kb.index
        assert "another process has it open" in str(raised.value) and "Milvus server" in str(raised.value)
        assert "Traceback" not in capfd.readouterr().err
    finally:
        holder.kill()
        holder.wait()
