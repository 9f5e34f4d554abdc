"""Token states (kb.embedding.tokens) and the token-alignment rerank (kb.search.rerank)."""
from __future__ import annotations

import math
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from kb.embedding import tokens
from kb.embedding.embedders import normalize
from kb.search.rerank import alignment, rerank, token_mean
from kb.storage.token_pool import pool_states
from kb.search.hybrid import (Candidate, SearchOptions, SearchRequest, dense_candidates, group_by_sentence, keep_first,
                       search)


@pytest.fixture(scope="module")
def encoder():
    found = tokens.encoder_for("e5")
    if found is None:
        pytest.skip(f"no token-state library here: {tokens.available()[1]}")
    return found


def test_token_states_have_one_row_per_word_piece_of_the_text_alone(encoder):
    short, longer = encoder.encode(["kontroll", "kontroll av inkommande varor och fakturor"])
    as_query = encoder.encode(["kontroll av inkommande varor och fakturor"], is_query=True)[0]
    assert short.dtype == np.float16 and short.shape[1] == encoder.dim
    assert 1 <= len(short) < len(longer)
    assert len(as_query) == len(longer)  # the prefixes ("query: ", "passage: ") are left out, whatever their length
    assert not np.allclose(as_query, longer)  # the prefix still shapes the states


def test_a_query_pass_runs_on_one_thread_and_passages_on_all(encoder, monkeypatch):
    lib, seen = encoder._lib, []
    default, original = lib.omp_get_max_threads(), lib.e5t_embed
    monkeypatch.setattr(lib, "e5t_embed", lambda *args: seen.append(lib.omp_get_max_threads()) or original(*args))
    encoder.embed(["planera möten"], is_query=True)
    encoder.embed(["planera möten, resor och konferenser för ledningsgruppen"] * 20, is_query=True)  # past SERIAL_PIECES
    encoder.embed(["planera möten"])  # ingest's passes are throughput, however short
    encoder.vectors(["planera möten"])
    assert seen == [1, default, default, default] and lib.omp_get_max_threads() == default


def test_passage_vectors_alone_are_the_embedders_vectors(encoder, e5):
    texts = ["prowadzenie korespondencji", "quản lý lịch làm việc của giám đốc", "ord " * 600]
    vectors = encoder.vectors(texts)
    assert vectors.shape == (3, e5.dim)
    assert np.allclose(vectors, encoder.embed(texts)[0])
    assert (vectors * e5.embed_passages(texts)).sum(axis=1).min() > 0.999


def test_batches_and_single_texts_give_the_same_states(encoder):
    texts = [f"zadanie numer {n}: obsługa wózka widłowego" for n in range(tokens.CHUNK + 3)]
    together = encoder.encode(texts)
    alone = encoder.encode(texts[-1:])[0]
    assert len(together) == len(texts)
    assert np.allclose(together[-1].astype(np.float32), alone.astype(np.float32), atol=2e-2)


def test_one_pass_gives_the_embedders_vectors_and_the_same_token_states(encoder, e5):
    texts = ["prowadzenie korespondencji", "quản lý lịch làm việc của giám đốc", "ord " * 600]  # the last: past the window
    for is_query in (True, False):
        vectors, states = encoder.embed(texts, is_query=is_query)
        expected = np.vstack([e5.embed_query(t) for t in texts]) if is_query else e5.embed_passages(texts)
        assert vectors.shape == (3, e5.dim) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        # the same engine built here: equal up to the compilers' rounding
        assert np.all(np.sum(vectors * expected, axis=1) > 0.9995)
        alone = encoder.encode(texts, is_query=is_query)
        assert all(np.array_equal(a, b) for a, b in zip(states, alone))
    assert len(states[2]) < 600  # token states come from the first window only


def test_a_search_runs_the_model_once_for_the_vector_and_the_rerank(corpus_kb, encoder, monkeypatch):
    calls = []

    def count(name, function):
        def counted(*args, **kwargs):
            calls.append(name)
            return function(*args, **kwargs)
        return counted

    monkeypatch.setattr(corpus_kb.embedder, "embed_query", count("embed_query", corpus_kb.embedder.embed_query))
    monkeypatch.setattr(encoder, "embed", count("embed", encoder.embed))
    hits = search(corpus_kb, SearchRequest("przygotowanie budżetu wydarzenia", k=5), SearchOptions(min_score=-math.inf))
    assert hits and all(hit.extra["alignment"] is not None for hit in hits)
    assert calls == ["embed"]
    calls.clear()
    search(corpus_kb, SearchRequest("przygotowanie budżetu wydarzenia", k=5),
           SearchOptions(min_score=-math.inf, rerank=False))
    assert calls == ["embed_query"]


@pytest.mark.parametrize("query, match, other", [
    ("book hotels and transport for business trips", "ordnar transport och hotellrum för resor",
     "giới thiệu các dịch vụ của khách sạn như spa, nhà hàng và tour du lịch"),
    ("prowadzenie korespondencji", "hantera korrespondens", "Mengarsipkan dokumen pengiriman"),
])
def test_words_shared_across_languages_align_better_than_a_topic_alone(corpus_kb, encoder, query, match, other):
    query_tokens = encoder.encode([query], is_query=True)[0]
    matched, unmatched = encoder.encode([match, other])
    mean = token_mean(corpus_kb)
    assert alignment(query_tokens, matched, mean) > alignment(query_tokens, unmatched, mean) + 0.05


def test_every_sentence_has_token_states_and_other_units_none(corpus_kb, encoder):
    connection = corpus_kb.store.connection
    sentences = connection.execute("SELECT COUNT(*) FROM units WHERE kind = 'sentence'").fetchone()[0]
    kinds = dict(connection.execute("SELECT kind, COUNT(*) FROM unit_tokens JOIN units ON units.id = unit_id"
                                    " GROUP BY kind").fetchall())
    assert sentences > 50 and kinds == {"sentence": sentences}
    mean = token_mean(corpus_kb)
    assert mean is not None and mean.shape == (corpus_kb.settings.dim,)


def test_stored_states_are_the_one_pass_states_pooled_and_quantized(corpus_kb, encoder):
    row = corpus_kb.store.connection.execute(
        "SELECT id, text FROM units WHERE kind = 'sentence' AND length(text) > 60 LIMIT 1").fetchone()
    stored = corpus_kb.store.tokens([row[0]], corpus_kb.settings.dim)[row[0]]
    fresh = encoder.encode([row[1]])[0].astype(np.float32)
    pooled = pool_states(fresh)
    assert stored.shape == pooled.shape and len(stored) == -(-len(fresh) // 4)  # kb.storage.token_pool
    cosines = np.sum(normalize(stored) * normalize(pooled), axis=1)
    assert cosines.min() > 0.9 and cosines.mean() > 0.96  # 4-bit (kb.storage.codec)
    # every word piece of the sentence finds a stored row near it (what the rerank's alignment reads), nearer
    # than if every fourth piece were kept
    def reach(rows):
        return (normalize(fresh) @ normalize(rows).T).max(axis=1).mean()

    assert reach(stored) > 0.85 and reach(stored) > reach(fresh[::4]) + 0.03


def test_rerank_reorders_only_the_first_results_and_scores_them(corpus_kb, encoder):
    request = SearchRequest("keep the manager's calendar", k=10)
    vector = corpus_kb.embedder.embed_query(request.query)
    dense = group_by_sentence(dense_candidates(corpus_kb, request, vector, SearchOptions(min_score=-math.inf)))
    reranked = rerank(corpus_kb, request.query, dense, depth=8)
    assert {c.unit_id for c in reranked[:8]} == {c.unit_id for c in dense[:8]}
    assert [c.unit_id for c in reranked[8:]] == [c.unit_id for c in dense[8:]]
    assert all(c.alignment is not None for c in reranked[:8]) and all(c.alignment is None for c in reranked[8:])
    by_alignment = rerank(corpus_kb, request.query, dense, depth=8, weight=100.0)  # alignment alone decides
    assert [c.alignment for c in by_alignment[:8]] == sorted((c.alignment for c in by_alignment[:8]), reverse=True)


def test_a_knowledge_base_without_token_states_ranks_as_before(corpus_kb_dir, e5, tmp_path):
    from kb.knowledge import KnowledgeBase

    folder = tmp_path / "old"
    shutil.copytree(corpus_kb_dir, folder)
    connection = sqlite3.connect(folder / "kb.sqlite")
    connection.execute("DELETE FROM unit_tokens")
    connection.commit()
    connection.close()
    (folder / "search" / "token_mean.npy").unlink(missing_ok=True)
    with KnowledgeBase.open(folder, embedder=e5) as kb:
        request = SearchRequest("przygotowanie budżetu wydarzenia", k=10)
        on = search(kb, request, SearchOptions(min_score=-math.inf))
        off = search(kb, request, SearchOptions(min_score=-math.inf, rerank=False))
    assert on and [hit.unit_id for hit in on] == [hit.unit_id for hit in off]
    assert all(hit.extra["alignment"] is None for hit in on)


def test_the_mean_token_state_follows_an_ingest_made_elsewhere(corpus_kb_dir, e5, tmp_path):
    from ingest.pipeline import ingest
    from kb.knowledge import KnowledgeBase

    folder = tmp_path / "kb"
    shutil.copytree(corpus_kb_dir, folder)
    article = tmp_path / "sv_kock.txt"
    shutil.copy(Path(__file__).parent / "data" / "dev" / "articles" / "sv_kock.txt", article)
    with KnowledgeBase.open(folder, embedder=e5) as kb:
        before = token_mean(kb)
        assert token_mean(kb) is before  # read once per knowledge-base state
        report = ingest([str(article)], kb_dir=folder, embedder=e5)  # another process, as far as kb knows
        assert report.ok and report.ingested
        after = token_mean(kb)
        assert not np.allclose(before, after)
        assert np.array_equal(after, np.load(folder / "search" / "token_mean.npy"))


def test_keep_first_puts_a_fallen_first_hit_in_the_last_place():
    def candidate(unit_id):
        return Candidate(unit_id, 0.0, {"id": unit_id, "sentence_id": None})

    ranked = [candidate(n) for n in (5, 6, 7, 1)]
    assert [c.unit_id for c in keep_first(ranked, [candidate(1)], 2)] == [5, 1]
    assert [c.unit_id for c in keep_first(ranked, [candidate(6)], 2)] == [5, 6]
    assert [c.unit_id for c in keep_first(ranked, [], 2)] == [5, 6]


def test_an_unknown_engine_source_is_refused_not_miscompiled():
    with pytest.raises(RuntimeError, match="not the one this module patches"):
        tokens.patched_source("int main(void) { return 0; }")


def test_without_a_compiler_the_install_step_says_so_and_succeeds(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(tokens, "library_dirs", lambda: [tmp_path])
    monkeypatch.setattr(tokens, "compiler", lambda: None)
    assert tokens.main() == 0
    assert "no C compiler" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())
