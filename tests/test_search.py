"""Search: cross-language ranking, keywords, filters, no-match, fusion and offsets."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kb.errors import KBError
from kb.search.hybrid import (Candidate, SearchOptions, SearchRequest, dense_candidates, fuse, group_by_sentence,
                       search, search_vector)

ROOT = Path(__file__).resolve().parent.parent
SV_HOW, SV_WHAT, VI, SV_PROCESS, PL = ("000_8c161820aec857f8", "001_05aa3d396a738bf4", "002_5df17db3aa96b6b9",
                                       "003_7fe56a1790d248dd", "004_fd08960ed22fac1b")

# (query language -> article language, query, documents that answer, a substring of the answering sentence)
CROSS_LANGUAGE = [
    ("sv->pl", "uppskatta vad ett möte kommer att kosta", (PL,), "koszt"),
    ("sv->vi", "hålla korrekta register", (VI,), "hồ sơ chính xác"),
    ("pl->sv", "zarządzanie kalendarzem szefa", (SV_HOW, SV_WHAT), "schema"),
    ("pl->vi", "umiejętności przywódcze", (VI,), "lãnh đạo"),
    ("vi->sv", "quản lý lịch làm việc của giám đốc", (SV_HOW, SV_WHAT), "schema"),
    ("vi->pl", "ước tính chi phí cuộc họp", (PL,), "koszt"),
]


@pytest.mark.parametrize("pair, query, docs, substring", CROSS_LANGUAGE, ids=[case[0] for case in CROSS_LANGUAGE])
def test_query_in_one_language_finds_the_duty_in_another(corpus_kb, pair, query, docs, substring):
    hits = corpus_kb.search(query, k=3)
    assert any(hit.doc_id in docs and substring in hit.sentence for hit in hits), [h.to_dict() for h in hits]


def test_keyword_only_query_finds_the_literal_term(corpus_kb):
    hits = corpus_kb.search("MBA", k=3)
    assert hits and hits[0].doc_id == SV_HOW and "MBA" in hits[0].sentence


def test_keyword_search_matches_only_terms_present(corpus_kb):
    from kb.storage.fts import keyword_search

    connection = corpus_kb.store.connection
    assert keyword_search(connection, "MBA", 5)
    assert keyword_search(connection, "SAP", 5) == []


def test_filters_restrict_language_kind_document_and_count(corpus_kb):
    query = "koordinera möten"
    assert {hit.lang for hit in corpus_kb.search(query, k=10, lang="pl")} == {"pl"}
    assert {hit.kind for hit in corpus_kb.search(query, k=10, kind="duty")} == {"duty"}
    assert {hit.doc_id for hit in corpus_kb.search(query, k=10, doc=VI)} == {VI}
    assert len(corpus_kb.search(query, k=3)) == 3
    sentences = corpus_kb.search(query, k=5, kind="sentence")
    # a sentence, or one of its parts shown as that sentence with the part as the span
    assert sentences and {hit.kind for hit in sentences} == {"sentence"}
    assert all(hit.sentence[hit.start - hit.sentence_start:hit.end - hit.sentence_start] == hit.text
               for hit in sentences)


@pytest.mark.parametrize("lang, query", [("en", "recipe for a chocolate cake"),
                                         ("en", "distance from the sun to the Andromeda galaxy"),
                                         ("sv", "när blommar körsbärsträden i Japan")])
def test_query_about_absent_topic_returns_no_hits(corpus_kb, lang, query):
    assert corpus_kb.search(query, k=5) == []


def test_cli_says_so_when_nothing_matches(corpus_kb_dir):
    result = subprocess.run([sys.executable, "-m", "kb", "search", "recipe for a chocolate cake", "--kb",
                             str(corpus_kb_dir)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0
    assert result.stdout.startswith("no good match")


@pytest.mark.parametrize("query", ["organise the director's diary", "MBA", "przygotowanie budżetu wydarzenia",
                                   "quản lý lịch làm việc của giám đốc", "Excel SAP MBA kandidatexamen"])
@pytest.mark.parametrize("k", [1, 3])
def test_fusion_and_rerank_keep_the_dense_first_hit(corpus_kb, query, k):
    request = SearchRequest(query, k=k)
    vector = corpus_kb.embedder.embed_query(query)
    options = SearchOptions(min_score=-math.inf)
    dense = group_by_sentence(dense_candidates(corpus_kb, request, vector, options))
    fused = search_vector(corpus_kb, request, vector, options)
    assert dense[0].unit_id in {hit.unit_id for hit in fused}


def _candidate(unit_id: int, sentence: int) -> Candidate:
    return Candidate(unit_id, 0.0, {"id": unit_id, "sentence_id": sentence})


def test_fuse_never_drops_dense_first_even_against_strong_keywords():
    dense = [_candidate(1, 1), _candidate(2, 2), _candidate(3, 3)]
    keyword = [_candidate(3, 3), _candidate(2, 2), _candidate(4, 4)]
    fused = fuse(dense, keyword, k=2, options=SearchOptions(keyword_weight=5.0))
    assert 1 in {c.unit_id for c in fused}


def test_scores_follow_the_ranking(corpus_kb):
    hits = corpus_kb.search("MBA kandidatexamen", k=10)
    assert [hit.rank for hit in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    assert all("dense_score" in hit.extra for hit in hits)


def test_duty_and_its_sentence_are_one_result(corpus_kb):
    hits = corpus_kb.search("hantera korrespondens", k=10)
    keys = [(hit.doc_id, hit.sentence_start) for hit in hits]
    assert len(keys) == len(set(keys))


def test_hit_offsets_point_into_the_article(corpus_kb):
    for hit in corpus_kb.search("prowadzenie korespondencji z klientami", k=5):
        text = corpus_kb.article(hit.doc_id)["text"]
        assert text[hit.start:hit.end] == hit.text
        assert text[hit.sentence_start:hit.sentence_end] == hit.sentence
        assert hit.sentence_start <= hit.start <= hit.end <= hit.sentence_end
        assert {"rank", "score", "doc_id", "title", "lang", "kind", "text", "sentence", "start",
                "end"} <= set(hit.to_dict())


@pytest.mark.parametrize("request_args, message", [({"kind": "paragraph"}, "unknown kind"),
                                                   ({"k": 0}, "-k must be"), ({"query": " "}, "empty query"),
                                                   ({"query": "🙂🙂 ?!"}, "has no words")])
def test_bad_requests_are_refused_with_a_hint(corpus_kb, request_args, message):
    with pytest.raises(KBError, match=message):
        search(corpus_kb, SearchRequest(**{"query": "budget", **request_args}))


def test_unknown_option_lists_the_valid_ones(corpus_kb):
    with pytest.raises(KBError, match="use one of none, center, project, project_hub, znorm"):
        search(corpus_kb, SearchRequest("budget"), SearchOptions(correction="pca"))


def test_fts_follows_inserts_and_deletes(tmp_path, fake_embedder):
    from kb.storage.fts import keyword_search
    from kb.records import Article, Sentence
    from kb.storage.store import Store

    store = Store.open(tmp_path)
    article = Article("d1", "d1.txt", "Kräver MBA.", "t", "utf-8", "h", lang="sv")
    article_id = store.add_article(article)
    store.add_sentences(article_id, [Sentence("d1", 0, 0, 11, "Kräver MBA.", "sv")],
                        fake_embedder.embed_passages(["Kräver MBA."]))
    assert [unit for unit, _ in keyword_search(store.connection, "MBA", 5)]
    store.remove_article("d1")
    assert keyword_search(store.connection, "MBA", 5) == []
    store.close()


def test_a_foreign_word_is_a_literal_term_only_when_several_other_languages_spell_it(tmp_path, fake_embedder):
    from kb.storage.fts import literal_terms
    from kb.records import Article, Sentence
    from kb.storage.store import Store

    store = Store.open(tmp_path)
    texts = {"da": "Reparation af varmepumper og Excel-ark.", "vi": "Thành thạo Excel.",
             "es": "Manejo avanzado de Excel."}
    for lang, text in texts.items():
        article_id = store.add_article(Article(lang, f"{lang}.txt", text, "t", "utf-8", lang, lang=lang))
        store.add_sentences(article_id, [Sentence(lang, 0, 0, len(text), text, lang)],
                            fake_embedder.embed_passages([text]))
    # "reparation" is Danish only: a cognate of the Swedish query word, not a name
    assert literal_terms(store.connection, "reparation av ställverk och excel", "sv") == ["excel"]
    store.close()


def test_a_search_counts_the_keyword_index_once_per_knowledge_base_state(tmp_path, fake_embedder, monkeypatch):
    from kb_builder import add_doc, build_kb
    from kb.storage import fts

    counted, count = [], fts.indexed_count
    monkeypatch.setattr(fts, "indexed_count", lambda connection: counted.append(1) or count(connection))
    kb = build_kb(tmp_path, fake_embedder, {"d1": ("sv", [("skill", "", "Kräver MBA och SAP.")])})
    options = SearchOptions(min_score=-math.inf, rerank=False)
    for query in ("MBA", "SAP", "MBA"):
        search(kb, SearchRequest(query), options)
    assert len(counted) == 1
    add_doc(kb, "d2", "pl", [("skill", "", "Znajomość SAP.")])
    search(kb, SearchRequest("SAP"), options)
    assert len(counted) == 2  # the new state is counted again
    kb.close()


def test_a_search_scores_on_one_blas_thread_and_restores_the_thread_count(corpus_kb, monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from kb.search import bias

    def numpy_threads() -> list[int]:
        return [pool["num_threads"] for pool in threadpoolctl.threadpool_info()
                if pool["user_api"] == "blas" and "numpy" in pool["filepath"]]

    before, seen, original = numpy_threads(), [], bias.hub_scores
    monkeypatch.setattr(bias, "hub_scores", lambda *args: seen.append(numpy_threads()) or original(*args))
    assert corpus_kb.search("planera möten", k=3)
    assert seen and all(set(threads) == {1} for threads in seen) and numpy_threads() == before


def test_search_cli_never_imports_torch(corpus_kb_dir):
    runner = ("import runpy, sys\n"
              f"sys.argv = ['kb', 'search', 'MBA', '--json', '--kb', {str(corpus_kb_dir)!r}]\n"
              "try:\n    runpy.run_module('kb', run_name='__main__')\nexcept SystemExit:\n    pass\n"
              "heavy = sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules)\n"
              "print('HEAVY=' + ','.join(heavy))\n")
    result = subprocess.run([sys.executable, "-c", runner], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    output, heavy = result.stdout.rsplit("HEAVY=", 1)
    assert heavy.strip() == ""
    assert json.loads(output)[0]["doc_id"] == SV_HOW


def test_heading_lines_are_never_hits(tmp_path, e5):
    from ingest.pipeline import ingest
    from kb.knowledge import KnowledgeBase

    article = tmp_path / "kock.txt"
    article.write_text("Vad gör en kock?\n\nArbetsuppgifter:\n- Tillaga varma och kalla rätter\n"
                       "- Beställa råvaror\n\nKrav:\n- Körkort\n", encoding="utf-8")
    ingest([article], kb_dir=tmp_path / "kb", embedder=e5)
    with KnowledgeBase.open(tmp_path / "kb", embedder=e5) as kb:
        hits = search(kb, SearchRequest(query="arbetsuppgifter och krav", k=10), SearchOptions(min_score=-math.inf))
    assert hits and not {hit.text for hit in hits} & {"Arbetsuppgifter:", "Krav:"}, [hit.text for hit in hits]


def test_a_duty_inside_a_long_sentence_is_matched_by_its_part(tmp_path, e5):
    from ingest.parts import sentence_parts
    from kb.knowledge import KnowledgeBase
    from kb.records import Article, Sentence

    text = ("I rollen ingår även att planera utskrivningar tillsammans med kommunen, att handleda "
            "sjuksköterskestudenter under deras praktik och att beställa förbrukningsmaterial varje vecka.\n"
            "Du arbetar dag, kväll och helg enligt ett rullande schema.")
    first = text.index("\n")
    sentences = [Sentence("sv", 0, 0, first, text[:first], "sv"), Sentence("sv", 1, first + 1, len(text),
                                                                             text[first + 1:], "sv")]
    parts = [part for sentence in sentences for part in sentence_parts(sentence)]
    kb = KnowledgeBase.create_or_open(tmp_path, embedder=e5)
    vectors = e5.embed_passages([s.text for s in sentences] + [p.text for p in parts])
    with kb.store.transaction():
        article_id = kb.store.add_article(Article("sv", "sv.txt", text, "t", "utf-8", "h", lang="sv"))
        ids = kb.store.add_sentences(article_id, sentences, vectors[:2])
        kb.store.add_items(article_id, parts, {0: ids[0], 1: ids[1]}, vectors[2:])
        kb.store.bump_generation()
    request = SearchRequest("supervise nursing students during their placement", k=5)
    whole, = [hit for hit in search(kb, request, SearchOptions(parts=False, min_score=-math.inf))
              if hit.sentence_start == 0]
    best = search(kb, request, SearchOptions(min_score=-math.inf))[0]
    assert best.kind == "sentence" and best.sentence == sentences[0].text
    assert 0 <= best.start < best.end <= first and best.end - best.start < first  # the part, inside the sentence
    assert "handleda sjuksköterskestudenter" in best.text == text[best.start:best.end]
    assert best.score > whole.score
    assert search(kb, SearchRequest(request.query, kind="duty"), SearchOptions(min_score=-math.inf)) == []
    kb.close()
