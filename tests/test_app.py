"""The Streamlit app, page by page, with ``AppTest`` (headless, no browser), and its HTML helpers."""
from __future__ import annotations

import csv
import io
import re
import shutil
from html import escape
from pathlib import Path

import pytest

from kb.records import Hit
from webapp.ui import Span, highlight_html, hit_card_html

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
CALENDAR_QUERY = "manage the executive's calendar"
EVIL_ARTICLE = ("Evil <script>alert('title')</script> coordinator\n\n"
                "You will organise meetings <img src=x onerror=alert(1)> and plan the director's calendar.\n"
                "You need strong knowledge of Excel and <b>good</b> communication skills.\n")


def app_at(kb_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """An AppTest of the whole app, pointed at ``kb_dir`` through $KB_DIR."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KB_DIR", str(kb_dir))
    return AppTest.from_file(str(APP), default_timeout=120)


def on_page(at, page: str):
    """Run the app, switch to a page ("search" is app.py, the others ``pages/<page>.py``) and run it."""
    at.run()
    return at.switch_page("app.py" if page == "search" else f"pages/{page}.py").run()


def search(at, query: str, **filters):
    """Type a query (and set filters by widget key suffix) on the search page."""
    at.run()
    for name, value in filters.items():
        at.selectbox(key=f"search_{name}").set_value(value)
    at.text_input(key="search_query").set_value(query)
    return at.run()


def hit_cards(at) -> list[str]:
    """The HTML of the hit cards on the search page."""
    return [element.value for element in at.markdown if 'class="kb-hit"' in element.value]


def no_exception(at) -> None:
    assert not at.exception, [element.value for element in at.exception]


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Capture what download buttons serve: URL -> bytes (AppTest keeps media in memory only)."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.testing.v1 import app_test

    served: dict[str, bytes] = {}

    class RecordingStorage(MemoryMediaFileStorage):
        def get_url(self, file_id: str) -> str:
            url = super().get_url(file_id)
            served[url] = self.get_file(file_id).content
            return url

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", RecordingStorage)
    return served


def download_data(at, key: str, served: dict[str, bytes]) -> bytes:
    """The bytes behind the download button with this key."""
    (match,) = [button for button in at.download_button if button.key == key]
    return served[match.proto.url]


@pytest.fixture(scope="module")
def evil_kb_dir(tmp_path_factory: pytest.TempPathFactory, e5) -> Path:
    """A knowledge base holding one article full of HTML that must show as text."""
    from ingest.pipeline import ingest

    folder = tmp_path_factory.mktemp("evil")
    source = folder / "evil.txt"
    source.write_text(EVIL_ARTICLE, encoding="utf-8")
    report = ingest([str(source)], kb_dir=folder / "kb", embedder=e5)
    assert report.ok, report.summary()
    return folder / "kb"


# -- helpers -----------------------------------------------------------------------

@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "a & b \"c\" 'd'"])
def test_highlight_escapes_text_inside_and_outside_the_span(text: str) -> None:
    result = highlight_html(f"before {text} after", [Span(7, 7 + len(text))])
    assert "<script" not in result and "<img" not in result
    assert result.count("<mark") == 1 and result.count("</mark>") == 1


def test_highlight_marks_exactly_the_span_and_keeps_line_breaks() -> None:
    result = highlight_html("Plan möten.\nBoka resor.", [Span(0, 4, "duty")])
    assert result.startswith('<mark class="kb-duty"') and ">Plan</mark> möten.<br>Boka resor." in result


def test_highlight_innermost_span_wins_where_spans_overlap() -> None:
    result = highlight_html("abcdef", [Span(0, 6, "sentence"), Span(2, 4, "match")])
    assert 'kb-sentence' in result and '<mark class="kb-match" style' in result
    assert result.index("kb-match") > result.index("ab")


def test_highlight_clamps_offsets_outside_the_text() -> None:
    assert highlight_html("abc", [Span(-5, 99)]).count("<mark") == 1
    assert "<mark" not in highlight_html("abc", [Span(5, 9)])


def test_hit_card_escapes_the_title_and_sentence() -> None:
    hit = Hit(rank=1, score=0.9, doc_id="d", title="<script>x</script>", lang="en", kind="duty",
              text="<b>plan</b>", sentence="We <b>plan</b>.", start=3, end=14, sentence_start=0, sentence_end=15)
    card = hit_card_html(hit)
    assert "<script>" not in card and "&lt;script&gt;" in card
    assert '&lt;b&gt;plan&lt;/b&gt;</mark>' in card


# -- no knowledge base ---------------------------------------------------------------

@pytest.mark.parametrize("page", ["search", "roles", "compare", "skills"])
def test_every_page_without_a_knowledge_base_says_how_to_build_one(page, tmp_path, monkeypatch) -> None:
    at = on_page(app_at(tmp_path / "missing", monkeypatch), page)
    no_exception(at)
    assert any("python -m ingest" in info.value for info in at.info)
    assert any("Not loaded" in warning.value for warning in at.sidebar.warning)


# -- search ------------------------------------------------------------------------

def test_sidebar_shows_the_knowledge_base_embedder_and_counts(corpus_kb_dir, corpus_kb, monkeypatch) -> None:
    at = app_at(corpus_kb_dir, monkeypatch).run()
    no_exception(at)
    metrics = {metric.label: int(metric.value) for metric in at.sidebar.metric}
    stats = corpus_kb.stats()
    assert metrics == {"Articles": stats["articles"], "Sentences": stats["sentences"], "Duties": stats["duties"],
                       "Skills": stats["skills"]}
    assert any("e5" in caption.value for caption in at.sidebar.caption)


def test_search_empty_query_says_what_to_try(corpus_kb_dir, monkeypatch) -> None:
    at = app_at(corpus_kb_dir, monkeypatch).run()
    no_exception(at)
    assert "in any language" in at.info[0].value and not hit_cards(at)


def test_search_english_calendar_query_finds_the_swedish_article(corpus_kb_dir, monkeypatch) -> None:
    at = search(app_at(corpus_kb_dir, monkeypatch), CALENDAR_QUERY)
    no_exception(at)
    cards = hit_cards(at)
    assert len(cards) == 10
    assert "Query language: **en**" in at.caption[0].value
    assert any("<code>sv</code>" in card and "kalender" in card for card in cards[:5]), cards[:5]
    assert all("<mark" in card for card in cards)


@pytest.mark.parametrize("filters, advice", [({}, "other or fewer words"), ({"kind": "skill"}, "back to all")])
def test_search_without_a_good_match_says_so(filters, advice, corpus_kb_dir, monkeypatch) -> None:
    at = search(app_at(corpus_kb_dir, monkeypatch), "recipe for a chocolate cake", **filters)
    no_exception(at)
    assert not hit_cards(at)
    assert at.info[0].value.startswith("No good match") and advice in at.info[0].value
    assert "0 hits" in at.caption[0].value


@pytest.mark.parametrize("name, value, expected", [("lang", "pl", "<code>pl</code>"),
                                                    ("kind", "duty", "<b>duty</b>"),
                                                    ("kind", "sentence", "<b>sentence</b>")])
def test_search_filters_narrow_the_hits(name, value, expected, corpus_kb_dir, monkeypatch) -> None:
    at = search(app_at(corpus_kb_dir, monkeypatch), CALENDAR_QUERY, **{name: value})
    no_exception(at)
    cards = hit_cards(at)
    assert cards and all(expected in card for card in cards)


def test_search_role_filter_keeps_one_article(corpus_kb_dir, corpus_kb, monkeypatch) -> None:
    polish = next(doc for doc in corpus_kb.docs() if doc["lang"] == "pl")
    at = search(app_at(corpus_kb_dir, monkeypatch), CALENDAR_QUERY, role=polish["doc_id"])
    cards = hit_cards(at)
    assert cards and all(polish["title"] in card for card in cards)


def test_search_hit_opens_the_article_with_the_sentence_in_context(corpus_kb_dir, corpus_kb, monkeypatch) -> None:
    at = search(app_at(corpus_kb_dir, monkeypatch), CALENDAR_QUERY)
    (key,) = [key for key in at.session_state if str(key).startswith("open_1_")]
    at.session_state[key] = True
    at.run()
    no_exception(at)
    (context,) = [element.value for element in at.markdown
                  if "<mark" in element.value and 'class="kb-hit"' not in element.value]
    first = corpus_kb.search(CALENDAR_QUERY, k=1)[0]
    assert len(context) > len(corpus_kb.article(first.doc_id)["text"])  # the whole article, marked up
    assert context.count('<mark class="kb-match"') == 1


def test_search_results_download_as_csv(corpus_kb_dir, monkeypatch, downloads) -> None:
    at = search(app_at(corpus_kb_dir, monkeypatch), CALENDAR_QUERY)
    rows = list(csv.DictReader(io.StringIO(download_data(at, "search_download", downloads).decode("utf-8-sig"))))
    assert len(rows) == 10 and rows[0]["rank"] == "1" and {"lang", "kind", "title", "text", "score"} <= set(rows[0])


# -- untrusted article text ------------------------------------------------------------

def test_article_html_shows_as_text_on_search_and_roles(evil_kb_dir, monkeypatch) -> None:
    at = search(app_at(evil_kb_dir, monkeypatch), "organise meetings")
    no_exception(at)
    at.switch_page("pages/roles.py").run()
    (doc_key,) = [key for key in at.session_state if str(key).startswith("text_")]
    at.session_state[doc_key] = True
    at.run()
    no_exception(at)
    html = " ".join(element.value for element in at.markdown)
    text = re.sub(r"<mark[^>]*>|</mark>", "", html)  # an item's highlight may begin or end inside a tag's text
    assert "&lt;img src=x onerror=alert(1" in text and "&lt;script&gt;alert(" in text and "&lt;b&gt;good" in text
    assert "<script" not in html and "<img" not in html and "<b>good" not in html


# -- roles, compare, skills --------------------------------------------------------

def test_roles_page_shows_every_article_with_its_duties_and_skills(corpus_kb_dir, corpus_kb, monkeypatch) -> None:
    at = on_page(app_at(corpus_kb_dir, monkeypatch), "roles")
    no_exception(at)
    html = " ".join(element.value for element in at.markdown)
    for doc in corpus_kb.docs():
        assert f"{doc['duties']} duties · {doc['skills']} skills" in html
    duty = corpus_kb.items(kind="duty")[0]["text"]
    assert duty.replace("\n", "<br>") in html or duty in html


def test_compare_shows_shared_duties_for_two_roles(corpus_kb_dir, corpus_kb, monkeypatch) -> None:
    languages = {doc["doc_id"]: doc["lang"] for doc in corpus_kb.docs()}
    pairs = corpus_kb.compare(*languages)["pairs"]
    shared = [p for p in pairs if p["shared"]]  # two languages where the corpus's items align, else one
    pair = sorted(shared, key=lambda p: languages[p["a"]] == languages[p["b"]])[0]
    at = on_page(app_at(corpus_kb_dir, monkeypatch), "compare")
    assert "Pick two or more roles" in at.info[0].value
    at.multiselect(key="compare_docs").set_value([pair["a"], pair["b"]]).run()
    no_exception(at)
    assert len(at.get("vega_lite_chart")) == 1
    (table,) = [element.value for element in at.markdown if 'class="kb-shared"' in element.value]
    for row in pair["shared"]:  # each aligned pair on one row: A's duty, B's duty, similarity
        cells = [re.escape(escape(row["a_text"])), re.escape(escape(row["b_text"])), f"{row['similarity']:.2f}"]
        assert re.search("<tr>" + "".join(f"<td [^>]*>{cell}</td>" for cell in cells) + "</tr>", table)
    html = " ".join(element.value for element in at.markdown)
    assert "Duties only here" in html and all(escape(text) in html for text in pair["unique_a"][:3])


def read_back(data: bytes, fmt: str, folder: Path) -> tuple[dict, list[dict]]:
    """An export file's metadata (less its time stamp) and rows."""
    from kb.export import read_export

    path = folder / f"export.{fmt}"
    path.write_bytes(data)
    metadata, rows = read_export(path)
    metadata.pop("exported_at", None)
    return metadata, rows


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "xlsx"])
def test_skills_page_downloads_equal_the_cli_export(fmt, corpus_kb_dir, corpus_kb, tmp_path, monkeypatch,
                                                    downloads) -> None:
    from kb.export import export_bytes

    at = on_page(app_at(corpus_kb_dir, monkeypatch), "skills")
    no_exception(at)
    served = read_back(download_data(at, f"skills_download_{fmt}", downloads), fmt, tmp_path)
    expected = read_back(export_bytes(corpus_kb, fmt, kind="skill"), fmt, tmp_path)
    assert served == expected and len(served[1]) == corpus_kb.stats()["skills"]
    at.selectbox(key="skills_lang").set_value("vi").run()
    served = read_back(download_data(at, f"skills_download_{fmt}", downloads), fmt, tmp_path)
    assert served == read_back(export_bytes(corpus_kb, fmt, kind="skill", lang="vi"), fmt, tmp_path)
    assert served[1] and {row["lang"] for row in served[1]} == {"vi"}


# -- add articles --------------------------------------------------------------------

def test_upload_adds_an_article_that_the_other_pages_see(corpus_kb_dir, corpus_kb, tmp_path, monkeypatch) -> None:
    kb_dir = tmp_path / "kb"
    shutil.copytree(corpus_kb_dir, kb_dir)
    at = on_page(app_at(kb_dir, monkeypatch), "add_articles")
    no_exception(at)
    english = ("Office coordinator\n\nThe office coordinator manages the director's calendar and books travel. "
               "You will order supplies and answer the phone. Good knowledge of Excel is required.\n")
    at.file_uploader(key="upload_files").set_value([("office coordinator.txt", english.encode(), "text/plain"),
                                                    ("empty.txt", b"", "text/plain")])
    at.run()
    at.button(key="upload_ingest").click().run()
    no_exception(at)
    assert any("office_coordinator.txt: added" in success.value and "language en" in success.value
               for success in at.success), [s.value for s in at.success]
    assert any(error.value.startswith("empty.txt: refused") for error in at.error), [e.value for e in at.error]
    assert (kb_dir / "uploads" / "office_coordinator.txt").read_text(encoding="utf-8") == english
    assert {m.label: m.value for m in at.sidebar.metric}["Articles"] == str(len(corpus_kb.docs()) + 1)
    at.switch_page("app.py").run()
    at.text_input(key="search_query").set_value("answer the phone and order supplies").run()
    assert "Office coordinator" in hit_cards(at)[0]


def upload(at, *files: tuple[str, str]):
    """Choose files (name, text) on the Add articles page and press the button."""
    at.file_uploader(key="upload_files").set_value([(name, text.encode(), "text/plain") for name, text in files])
    at.run()
    return at.button(key="upload_ingest").click().run()


def messages(at) -> list[str]:
    return [element.value for kind in (at.success, at.info, at.error) for element in kind]


def test_an_upload_never_replaces_a_corpus_article_or_another_upload(corpus_kb_dir, corpus_kb, tmp_path,
                                                                    monkeypatch) -> None:
    from kb.knowledge import KnowledgeBase

    kb_dir = tmp_path / "kb"
    shutil.copytree(corpus_kb_dir, kb_dir)
    corpus_id = "001_05aa3d396a738bf4"
    sentences = {doc["doc_id"]: doc["sentences"] for doc in corpus_kb.docs()}[corpus_id]
    first = "Kock\n\nKocken lagar mat och beställer råvaror. Du har utbildning inom restaurang.\n"
    other = "Kucharz\n\nKucharz przygotowuje posiłki i zamawia produkty. Wymagane doświadczenie w kuchni.\n"
    at = on_page(app_at(kb_dir, monkeypatch), "add_articles")
    upload(at, (f"{corpus_id}.txt", first), (f"{corpus_id}.txt", other))  # the same name twice in one batch
    no_exception(at)
    assert any(f"{corpus_id}.txt: added as upload/{corpus_id} " in text for text in messages(at)), messages(at)
    assert any(f"{corpus_id}_2.txt: added as upload/{corpus_id}_2 " in text for text in messages(at)), messages(at)
    upload(at, (f"{corpus_id}.txt", first))
    assert any("already there" in text and f"upload/{corpus_id})" in text for text in messages(at)), messages(at)
    upload(at, (f"{corpus_id}.txt", first.replace("restaurang", "hotell")))
    assert any(f"{corpus_id}.txt: updated your earlier upload upload/{corpus_id} " in text
               for text in messages(at)), messages(at)
    with KnowledgeBase.open(kb_dir) as kb:
        docs = {doc["doc_id"]: doc for doc in kb.docs()}
    assert docs[corpus_id]["sentences"] == sentences  # the corpus article is as it was
    assert {f"upload/{corpus_id}", f"upload/{corpus_id}_2"} <= set(docs) and len(docs) == len(sentences_of(corpus_kb)) + 2


def sentences_of(kb) -> dict[str, int]:
    return {doc["doc_id"]: doc["sentences"] for doc in kb.docs()}


def test_an_upload_while_another_ingest_writes_shows_the_error_and_keeps_no_file(corpus_kb_dir, tmp_path,
                                                                                monkeypatch) -> None:
    import sqlite3

    import kb.storage.store as store

    kb_dir = tmp_path / "kb"
    shutil.copytree(corpus_kb_dir, kb_dir)
    monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 0.2)
    at = on_page(app_at(kb_dir, monkeypatch), "add_articles")
    other = sqlite3.connect(kb_dir / "kb.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # an ingest from the command line, in the middle of its work
    try:
        upload(at, ("kock.txt", "Kock\n\nKocken lagar mat och beställer råvaror.\n"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    no_exception(at)
    (error,) = at.error
    assert error.value.startswith("kock.txt: refused: ") and "is writing to this knowledge base" in error.value
    assert not (kb_dir / "uploads" / "kock.txt").exists()


def test_a_query_over_the_limit_in_the_link_is_refused_not_searched(corpus_kb_dir, monkeypatch) -> None:
    at = app_at(corpus_kb_dir, monkeypatch)
    at.query_params["search_query"] = "planera möten " * 100  # 1,400 characters through ?search_query=
    at.run()
    no_exception(at)
    # Streamlit cuts a bound value to max_chars; a longer one would be refused by kb.search (st.error)
    query = at.text_input(key="search_query").value
    assert len(query) <= 1000 or any("over the limit of 1,000" in error.value for error in at.error)


# -- ESCO ------------------------------------------------------------------------------

def esco_page(kb_dir: Path, monkeypatch: pytest.MonkeyPatch, page: str, label_lang: str = "en"):
    """A page of the ESCO knowledge base with ESCO labels in ``label_lang`` (chosen in the sidebar)."""
    at = on_page(app_at(kb_dir, monkeypatch), page)
    at.sidebar.selectbox(key="esco_label_lang").set_value(label_lang).run()
    no_exception(at)
    return at


@pytest.mark.parametrize("label_lang, occupation, forklift", [("en", "forklift operator", "operate forklift"),
                                                              ("sv", "gaffeltruckförare", "köra gaffeltruck")])
def test_roles_page_shows_the_esco_occupation_and_each_items_concept_in_the_chosen_language(
        label_lang, occupation, forklift, esco_kb_dir, monkeypatch) -> None:
    at = esco_page(esco_kb_dir, monkeypatch, "roles", label_lang)
    captions = [caption.value for caption in at.caption]
    assert sum(caption.startswith(f"ESCO occupation: {occupation} (") for caption in captions) == 2
    html = " ".join(element.value for element in at.markdown)
    assert f"Operate forklift <small class=\"kb-esco\" style=\"opacity:0.75\">→ ESCO: {forklift} · " in html
    assert f"Köra gaffeltruck <small class=\"kb-esco\" style=\"opacity:0.75\">→ ESCO: {forklift} · " in html
    assert "data.europa.eu" not in html + " ".join(captions)  # labels, never a bare URI


def test_roles_page_lists_covered_essential_skills_with_the_sentence_and_the_gaps(esco_kb_dir, monkeypatch,
                                                                                 downloads) -> None:
    from kb.knowledge import KnowledgeBase

    at = esco_page(esco_kb_dir, monkeypatch, "roles")
    at.session_state["esco_truckforare"] = True
    at.run()
    no_exception(at)
    (table,) = [frame.value for frame in at.dataframe if "essential skill" in frame.value.columns]
    with KnowledgeBase.open(esco_kb_dir) as kb:
        profile = kb.role("truckforare")
    covered = table[table["covered"]]
    assert ("operate forklift", "Köra gaffeltruck", "Köra gaffeltruck") in set(
        zip(covered["essential skill"], covered["item"], covered["sentence"]))
    assert sorted(table[~table["covered"]]["essential skill"]) == sorted(gap["esco_label"] for gap in profile["gaps"])
    assert any(f"of {len(table)} essential skills of **forklift operator** covered; {len(profile['gaps'])} gaps"
               in caption.value for caption in at.caption)
    rows = list(csv.DictReader(io.StringIO(download_data(at, "gaps_download_truckforare", downloads)
                                           .decode("utf-8-sig"))))
    assert [row["essential skill"] for row in rows] == list(table["essential skill"])
    assert {row["covered"] for row in rows} == {"True", "False"}


def test_skills_page_counts_esco_concepts_across_roles_and_languages_with_a_chart(esco_kb_dir, monkeypatch) -> None:
    at = esco_page(esco_kb_dir, monkeypatch, "skills", "sv")
    at.radio(key="skills_by").set_value("ESCO concepts").run()
    no_exception(at)
    (table,) = [frame.value for frame in at.dataframe if "concept" in frame.value.columns]
    forklift = table[table["concept"] == "köra gaffeltruck"].iloc[0]
    # "Operate forklift", "Köra gaffeltruck" and the requirement "Forklift licence"
    assert (forklift["roles"], forklift["items"], forklift["languages"], forklift["type"]) == (
        2, 3, "en, sv", "skill/competence")
    assert list(table["roles"]) == sorted(table["roles"], reverse=True)
    assert len(at.get("vega_lite_chart")) == 1
    at.selectbox(key="skills_lang").set_value("en").run()
    (table,) = [frame.value for frame in at.dataframe if "concept" in frame.value.columns]
    assert set(table["languages"]) == {"en"} and "kommunikation" not in set(table["concept"])


def test_skills_page_counts_only_esco_links_at_the_minimum_score(esco_kb_dir, monkeypatch) -> None:
    at = esco_page(esco_kb_dir, monkeypatch, "skills", "sv")
    at.radio(key="skills_by").set_value("ESCO concepts").run()
    (before,) = [frame.value for frame in at.dataframe if "concept" in frame.value.columns]
    bar = float(before["best score"].max())
    at.slider(key="skills_min_esco_score").set_value(bar).run()
    no_exception(at)
    (after,) = [frame.value for frame in at.dataframe if "concept" in frame.value.columns]
    assert set(after["concept"]) == set(before[before["best score"] >= bar]["concept"]) != set(before["concept"])
    counts = dict(zip(before["concept"], before["items"]))
    assert all(items <= counts[concept] for concept, items in zip(after["concept"], after["items"]))


def test_roles_page_shows_no_esco_concept_under_the_minimum_esco_score(esco_kb_dir, monkeypatch) -> None:
    import math
    import re

    at = esco_page(esco_kb_dir, monkeypatch, "roles", "en")
    scores = [float(score) for element in at.markdown for score in re.findall(r"→ ESCO: [^<]* · ([0-9.]+)<",
                                                                               element.value)]
    bar = math.floor(min(scores) * 20 + 1) / 20  # the slider's next step above the least sure link
    assert bar < 1.0
    at.slider(key="roles_min_esco_score").set_value(bar).run()
    no_exception(at)
    after = [float(score) for element in at.markdown for score in re.findall(r"→ ESCO: [^<]* · ([0-9.]+)<",
                                                                              element.value)]
    assert len(after) == sum(score >= bar - 0.005 for score in scores) < len(scores)
    assert all(score >= bar - 0.005 for score in after)
    assert "Operate forklift" in " ".join(element.value for element in at.markdown)  # the items stay


def test_compare_page_shows_shared_esco_concepts_next_to_text_similarity(esco_kb_dir, monkeypatch) -> None:
    at = esco_page(esco_kb_dir, monkeypatch, "compare", "sv")
    at.multiselect(key="compare_docs").set_value(["forklift_operator", "truckforare"]).run()
    no_exception(at)
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Shared ESCO concepts"] == "1" and float(metrics["Text similarity"]) < 0.35
    (table,) = [frame.value for frame in at.dataframe if "ESCO concept" in frame.value.columns]
    assert table.values.tolist() == [["köra gaffeltruck", "Operate forklift; Forklift licence", "Köra gaffeltruck"]]


def test_roles_page_hides_items_under_the_minimum_confidence_and_marks_unsure_ones(corpus_kb_dir, corpus_kb,
                                                                                  monkeypatch) -> None:
    from webapp.ui import LOW_CONFIDENCE

    at = on_page(app_at(corpus_kb_dir, monkeypatch), "roles")
    unsure = [item for item in corpus_kb.items() if item["confidence"] < LOW_CONFIDENCE]
    html = " ".join(element.value for element in at.markdown)
    assert ("(low confidence " in html) == bool(unsure)
    at.slider(key="roles_min_confidence").set_value(LOW_CONFIDENCE).run()
    no_exception(at)
    html = " ".join(element.value for element in at.markdown)
    assert "(low confidence " not in html
    kept = corpus_kb.items(min_confidence=LOW_CONFIDENCE)
    assert all(item["text"] not in html for item in unsure if all(item["text"] not in other["text"] for other in kept))


def test_search_hits_show_their_esco_concept_in_the_chosen_language(esco_kb_dir, monkeypatch) -> None:
    at = esco_page(esco_kb_dir, monkeypatch, "search", "sv")
    at.text_input(key="search_query").set_value("operate a forklift truck").run()
    no_exception(at)
    cards = hit_cards(at)
    linked = [card for card in cards if "Operate forklift" in card or "Köra gaffeltruck" in card]
    assert linked and all("→ ESCO: köra gaffeltruck · " in card for card in linked)
    assert not any("data.europa.eu" in card for card in cards)
