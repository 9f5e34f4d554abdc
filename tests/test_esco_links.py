"""ESCO links made at ingest: stored with the knowledge base, shown with labels in the reader's language,
counted across roles, and held against the occupation's essential skills."""
from __future__ import annotations

import pytest

from ingest.pipeline import ingest
from kb.esco.match import open_matcher
from kb.knowledge import KnowledgeBase

FORKLIFT_AD = """Forklift operator

Responsibilities:
- Operate forklift
- Load and unload goods from trucks
- Store goods in the warehouse

Requirements:
- Forklift licence
"""


@pytest.fixture(scope="module")
def forklift_kb(tmp_path_factory, e5):
    folder = tmp_path_factory.mktemp("esco_kb")
    (folder / "articles").mkdir()
    (folder / "articles" / "forklift_operator.txt").write_text(FORKLIFT_AD, encoding="utf-8")
    report = ingest([str(folder / "articles")], kb_dir=folder / "kb", embedder=e5)
    assert report.ok, report.summary()
    with KnowledgeBase.open(folder / "kb", embedder=e5) as kb:
        yield kb


@pytest.mark.slow
def test_an_item_phrased_like_an_esco_skill_is_linked_to_it(forklift_kb):
    items = {item["text"]: item for item in forklift_kb.items(kind="duty")}
    assert items["Operate forklift"]["esco_label"] == "operate forklift"
    assert items["Operate forklift"]["esco_type"] == "skill/competence"
    assert 0 < items["Operate forklift"]["esco_score"] <= 1


@pytest.mark.slow
def test_the_article_is_linked_to_the_occupation_and_its_label_follows_the_reader(forklift_kb):
    (doc,) = forklift_kb.docs()
    assert doc["esco_label"] == "forklift operator"
    (swedish,) = forklift_kb.docs(label_lang="sv")
    assert swedish["esco_uri"] == doc["esco_uri"] and swedish["esco_label"] == "gaffeltruckförare"
    (unknown,) = forklift_kb.docs(label_lang="vi")  # ESCO has no Vietnamese: English
    assert unknown["esco_label"] == "forklift operator"


@pytest.mark.slow
def test_role_lists_essential_skills_as_covered_or_gaps(forklift_kb):
    profile = forklift_kb.role("forklift_operator")
    essential = {uri for uri, _ in open_matcher().data.essential_skills(profile["occupations"][0]["esco_uri"])}
    assert {entry["esco_uri"] for entry in profile["essential"]} == essential
    covered = [entry for entry in profile["essential"] if entry["covered"]]
    assert any(entry["esco_label"] == "operate forklift" and entry["item"] == "Operate forklift" for entry in covered)
    assert profile["gaps"] == [entry for entry in profile["essential"] if not entry["covered"]]


@pytest.mark.slow
def test_esco_skills_count_each_linked_concept_once_per_role(forklift_kb):
    linked = [item for item in forklift_kb.items() if item["esco_uri"]]
    counts = forklift_kb.esco_skills()
    assert sum(row["items"] for row in counts) == len(linked)
    assert all(row["roles"] == 1 for row in counts)


@pytest.mark.parametrize("kind, text, label", [
    ("skill", "tar egna initiativ", "show initiative"),
    ("duty", "design av REST-API:er", "design application interfaces"),
    # prose: ESCO's English description of the skill meets it ("Help families ... cope with serious situations")
    ("duty", "pomaga osobom i rodzinom, które znalazły się w trudnej sytuacji życiowej",
     "assist families in crisis situations")])
def test_an_item_links_through_its_words_as_well_as_its_vector(e5, kind, text, label):
    (match,) = open_matcher().link(e5.embed_passages([text]), [kind], passage=True, texts=[text])
    assert match is not None and match.label == label and match.score >= open_matcher().config.calibrations["skill"].threshold


@pytest.mark.slow
def test_ingest_links_items_with_their_texts(tmp_path, e5):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "ad.txt").write_text("Systemutvecklare\n\nArbetsuppgifter:\n- Design av REST-API:er\n- Kodgranskning\n\n"
                                   "Vi söker dig som:\n- tar egna initiativ\n- har god kunskap om SQL\n", encoding="utf-8")
    report = ingest([str(folder)], kb_dir=tmp_path / "kb", embedder=e5)
    assert report.ok, report.summary()
    with KnowledgeBase.open(tmp_path / "kb", embedder=e5) as kb:
        items = [item for item in kb.items() if item["kind"] in ("duty", "skill")]
    assert items
    matcher = open_matcher()
    expected = matcher.link(e5.embed_passages([item["text"] for item in items]), [item["kind"] for item in items],
                            passage=True, texts=[item["text"] for item in items])
    assert [item["esco_uri"] or None for item in items] == [match and match.uri for match in expected]
    assert any(item["esco_uri"] for item in items)


def test_a_knowledge_base_of_another_embedder_has_no_links(tmp_path, corpus_copy, fake_embedder):
    ingest([corpus_copy], kb_dir=tmp_path / "kb", embedder=fake_embedder)
    with KnowledgeBase.open(tmp_path / "kb", embedder=fake_embedder) as kb:
        assert kb.esco_matcher is None
        assert all(item["esco_uri"] is None for item in kb.items())
        assert kb.esco_skills() == []


@pytest.mark.parametrize("lang, title", [("sv", "Truckförare"), ("pl", "Operator wózka widłowego"),
                                         ("en", " Forklift operator ")])
def test_the_title_vector_for_links_is_its_query_vector(e5, lang, title):
    import numpy as np

    from ingest.link import embed_title

    assert np.array_equal(embed_title(e5, title), e5.embed_query(title.strip()))


def test_an_article_without_a_title_has_no_title_vector(e5):
    from ingest.link import embed_title

    assert embed_title(e5, "  \n") is None


@pytest.mark.slow
def test_titles_are_embedded_together_and_link_as_each_alone(tmp_path, e5, monkeypatch):
    articles = tmp_path / "articles"
    articles.mkdir()
    titles = {"forklift": "Forklift operator", "kock": "Kock", "kucharz": "Kucharz"}
    (articles / "forklift.txt").write_text(FORKLIFT_AD, encoding="utf-8")
    (articles / "kock.txt").write_text("Kock\n\nArbetsuppgifter:\n- laga mat\n- planera menyer\n", encoding="utf-8")
    (articles / "kucharz.txt").write_text("Kucharz\n\nObowiązki:\n- przygotowywanie posiłków\n- planowanie menu\n",
                                          encoding="utf-8")
    batches, alone = [], []
    embed_queries, embed_query = e5.embed_queries, e5.embed_query
    monkeypatch.setattr(e5, "embed_queries", lambda texts: batches.append(list(texts)) or embed_queries(texts))
    monkeypatch.setattr(e5, "embed_query", lambda text: alone.append(text) or embed_query(text))
    from kb.embedding.tokens import TokenEncoder  # where the token encoder is built, it embeds the titles

    query_vectors, with_finals = TokenEncoder.query_vectors, TokenEncoder.queries_with_final_states
    monkeypatch.setattr(TokenEncoder, "query_vectors", lambda encoder, texts: (
        batches.append(list(texts)) if len(texts) > 1 else alone.extend(texts)) or query_vectors(encoder, texts))
    monkeypatch.setattr(TokenEncoder, "queries_with_final_states", lambda encoder, texts: (  # a batch of titles
        batches.append(list(texts)) if len(texts) > 1 else alone.extend(texts)) or with_finals(encoder, texts))
    assert ingest([str(articles)], kb_dir=tmp_path / "kb", embedder=e5).ok
    assert sorted(titles.values()) in [sorted(batch) for batch in batches]  # one batch (search calibration has others)
    assert not set(alone) & set(titles.values())
    from kb.embedding.embedders import MemoEmbedder

    monkeypatch.setattr(MemoEmbedder, "prefetch_queries", lambda memo, texts: None)  # each title alone
    assert ingest([str(articles)], kb_dir=tmp_path / "alone", embedder=e5).ok
    assert set(titles.values()) <= set(alone)
    with KnowledgeBase.open(tmp_path / "kb", embedder=e5) as kb, \
            KnowledgeBase.open(tmp_path / "alone", embedder=e5) as each:
        occupations = {doc["doc_id"]: (doc["esco_uri"], doc["esco_score"]) for doc in kb.docs()}
        assert occupations == {doc["doc_id"]: (doc["esco_uri"], doc["esco_score"]) for doc in each.docs()}
        assert occupations["forklift"][0] is not None


@pytest.mark.slow
def test_titles_that_cannot_be_embedded_together_are_embedded_one_by_one(tmp_path, e5, monkeypatch):
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "forklift_operator.txt").write_text(FORKLIFT_AD, encoding="utf-8")
    embed_queries = e5.embed_queries

    def failing_for_titles(texts):
        if "Forklift operator" in texts:
            raise RuntimeError("the batch failed")
        return embed_queries(texts)

    monkeypatch.setattr(e5, "embed_queries", failing_for_titles)
    report = ingest([str(tmp_path / "articles")], kb_dir=tmp_path / "kb", embedder=e5)
    assert report.ok and report.ingested == ["forklift_operator"]
    with KnowledgeBase.open(tmp_path / "kb", embedder=e5) as kb:
        assert kb.docs()[0]["esco_label"] == "forklift operator"


def test_role_text_names_an_occupation_without_essential_skills_instead_of_counting_zero_of_zero():
    from kb.analysis.gaps import format_profile

    occupation = {"esco_uri": "http://data.europa.eu/esco/occupation/x", "esco_label": "process officer",
                  "esco_score": 0.6}
    profile = {"doc_id": "003", "title": "Hur blir jag processkoordinator?", "lang": "sv",
               "occupations": [occupation], "essential": [], "gaps": []}
    text = format_profile(profile)
    assert "ESCO occupation 1: process officer (0.60)" in text
    assert text.endswith("ESCO lists no essential skills for process officer") and "0 of 0" not in text
    assert format_profile({**profile, "occupations": []}).endswith("no ESCO occupation fits this article")


@pytest.mark.slow
@pytest.mark.parametrize("title", ["Kierowca autobusu",
                                   # as a whole it names no occupation; its word run "Bussförare" does
                                   "Bussförare till regionaltrafiken i Västerdal"])
def test_an_article_title_links_as_kb_esco_match_links_the_same_text(tmp_path, e5, title):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "bus.txt").write_text(f"{title}\n\nProwadzi autobus na liniach miejskich i sprzedaje bilety.\n",
                                    encoding="utf-8")
    report = ingest([str(folder)], kb_dir=tmp_path / "kb", embedder=e5)
    assert report.ok, report.summary()
    (expected,) = open_matcher().match([title], type="occupation", top=1, embedder=e5)
    with KnowledgeBase.open(tmp_path / "kb", embedder=e5) as kb:
        (doc,) = kb.docs()
    assert expected and doc["esco_uri"] == expected[0].uri and doc["esco_label"] == "bus driver"
    # the title is read on the same path (texts: n-grams, title head, text calibration; the vector alone gave
    # 0.57 here), and the body about driving a bus adds to it: 1 - (1 - p_title)(1 - p_body)
    assert expected[0].score - 0.01 <= doc["esco_score"] < 1.0


@pytest.mark.slow
def test_ingest_reads_a_titles_word_runs_from_the_pass_that_embedded_the_title(tmp_path, e5, monkeypatch):
    from kb.embedding.tokens import TokenEncoder

    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "bus.txt").write_text("Bussförare till regionaltrafiken i Västerdal\n\n"
                                    "Du kör buss i linjetrafik och hjälper resenärerna.\n", encoding="utf-8")
    monkeypatch.setattr(TokenEncoder, "query_final_states",
                        lambda encoder, texts: pytest.fail("the title was encoded a second time for its runs"))
    report = ingest([str(folder)], kb_dir=tmp_path / "kb", embedder=e5)
    assert report.ok, report.summary()
    with KnowledgeBase.open(tmp_path / "kb", embedder=e5) as kb:
        (doc,) = kb.docs()
    assert doc["esco_label"] == "bus driver"


@pytest.mark.slow
@pytest.mark.parametrize("name, occupation", [("dev/articles/vi_ketoan.txt", "accountant"),
                                              ("prose/articles/lt_prose.txt", "pharmacist")])
def test_an_article_is_linked_by_its_title_and_body_together(tmp_path, e5, name, occupation):
    from pathlib import Path

    source = Path(__file__).parent / "data" / name
    title = source.read_text(encoding="utf-8").splitlines()[0]
    # the title alone links nothing ("Tuyển dụng Kế toán tổng hợp", "Ką veikia vaistininkas ...")
    assert open_matcher().match([title], type="occupation", embedder=e5) == [[]]
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / source.name).write_bytes(source.read_bytes())
    report = ingest([str(folder)], kb_dir=tmp_path / "kb", embedder=e5)
    assert report.ok, report.summary()
    with KnowledgeBase.open(tmp_path / "kb", embedder=e5) as kb:
        (doc,) = kb.docs()
    assert doc["esco_label"] == occupation and 0.0 < doc["esco_score"] < 1.0


@pytest.mark.slow
def test_an_articles_score_is_the_chance_that_its_title_or_its_body_is_right(e5):
    from kb.embedding.embedders import embed_queries, normalize

    matcher = open_matcher()
    title = "Kierowca autobusu"
    body = ["Kierowca autobusu prowadzi autobus na liniach miejskich.",
            "Sprzedaje bilety i udziela pasażerom informacji o trasie.",
            "Dba o bezpieczeństwo pasażerów i sprawdza stan techniczny pojazdu przed wyjazdem."]
    title_vector = embed_queries(e5, [title])
    body_vector = normalize(e5.embed_passages(body).mean(axis=0, keepdims=True))
    [(by_title, *_)] = matcher.match_vectors(title_vector, "occupation", 3, texts=[title])
    [(by_body, *_)] = matcher.match_vectors(body_vector, "occupation", 3, passage=True)
    [together] = matcher.match_articles(title_vector, [title], body_vector, 3)
    assert by_title.uri == by_body.uri == together[0].uri and together[0].label == "bus driver"
    expected = 1 - (1 - by_title.score) * (1 - by_body.score)
    assert together[0].score == pytest.approx(expected, abs=2e-4) and together[0].score > by_title.score
    with pytest.raises(ValueError):
        matcher.match_articles(title_vector, [title, title], body_vector)
