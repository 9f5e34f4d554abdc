"""SQLite store and FAISS index: round trip, filters, generations."""
from __future__ import annotations

import numpy as np

from kb.storage.faiss_index import FaissIndex
from kb.records import Article, Item, Sentence
from kb.storage.store import Store

TEXT = "Vad gör en koordinator?\nHon hanterar korrespondens. Hon bokar resor."


def _article() -> Article:
    return Article(doc_id="roles/koordinator", path="x/roles/koordinator.txt", text=TEXT,
                   title="Vad gör en koordinator?", encoding="utf-8", content_hash="abc",
                   body=((24, len(TEXT)),), lang="sv", title_span=(0, 23))


def _units() -> tuple[list[Sentence], list[Item]]:
    first, second = TEXT.index("Hon hanterar"), TEXT.index("Hon bokar")
    sentences = [Sentence("roles/koordinator", 0, first, first + 27, TEXT[first:first + 27], "sv"),
                 Sentence("roles/koordinator", 1, second, len(TEXT), TEXT[second:], "sv")]
    start = TEXT.index("hanterar korrespondens")
    items = [Item("roles/koordinator", 0, "duty", "", start, start + 22, TEXT[start:start + 22], "sv", 0.9, "test")]
    return sentences, items


def test_store_round_trip_keeps_offsets_language_and_sentence_link(tmp_path, fake_embedder):
    store = Store.open(tmp_path)
    sentences, items = _units()
    with store.transaction():
        article_id = store.add_article(_article())
        ids = store.add_sentences(article_id, sentences, fake_embedder.embed_passages([s.text for s in sentences]))
        store.add_items(article_id, items, {0: ids[0], 1: ids[1]}, fake_embedder.embed_passages([items[0].text]))
        store.bump_generation()
    store.close()

    store = Store.open(tmp_path)
    assert store.counts() == {"articles": 1, "sentences": 2, "duties": 1, "skills": 0}
    (duty,) = store.select_units(kinds=("duty",))
    assert TEXT[duty["start"]:duty["end"]] == duty["text"] == "hanterar korrespondens"
    assert duty["sentence"] == "Hon hanterar korrespondens." and duty["lang"] == "sv"
    assert store.select_units(kinds=("sentence",), lang="pl") == []
    assert store.generation == 1
    ids, vectors = next(store.vectors())
    assert len(ids) == 3 and vectors.shape == (3, fake_embedder.dim)


def test_transaction_rolls_back_everything_on_error(tmp_path):
    store = Store.open(tmp_path)
    try:
        with store.transaction():
            store.add_article(_article())
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert store.counts()["articles"] == 0


def test_index_search_filters_and_removes_and_a_flat_index_writes_no_second_copy(tmp_path, fake_embedder):
    texts = ["hantera korrespondens", "boka resor", "skriva manualer"]
    index = FaissIndex(fake_embedder.dim)
    index.add([10, 20, 30], fake_embedder.embed_passages(texts))
    query = fake_embedder.embed_query("boka resor")
    assert index.search(query, 1)[0][0] == 20
    assert [i for i, _ in index.search(query, 3, allowed=[10, 30])] in ([10, 30], [30, 10])
    index.remove([20])
    assert 20 not in [i for i, _ in index.search(query, 3)]
    index.save(tmp_path, generation=7)  # a flat index is the store's vectors: no second copy on disk
    assert FaissIndex.load(tmp_path, fake_embedder.dim, generation=7) is None
    assert not (tmp_path / "index.faiss").exists()


def test_vectors_are_stored_as_int8_and_float16_vectors_of_earlier_versions_still_read(tmp_path, fake_embedder):
    store = Store.open(tmp_path)
    sentences, _ = _units()
    vectors = fake_embedder.embed_passages([s.text for s in sentences])
    with store.transaction():
        ids = store.add_sentences(store.add_article(_article()), sentences, vectors)
    lengths = [length for (length,) in store.connection.execute("SELECT length(vector) FROM units ORDER BY id")]
    assert lengths == [1 + 2 + fake_embedder.dim] * 2  # marker, a float16 scale, a byte a value
    with store.transaction():  # the second sentence as the previous version wrote it
        store.connection.execute("UPDATE units SET vector = ? WHERE id = ?",
                                 (vectors[1].astype(np.float16).tobytes(), ids[1]))
    store.close()

    store = Store.open(tmp_path)
    read_ids, read_vectors = next(store.vectors())
    assert list(read_ids) == list(ids)
    np.testing.assert_allclose(read_vectors, vectors, atol=2e-3)
