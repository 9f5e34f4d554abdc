"""Role comparison: JSON schema, cross-language pairs, the two senior-coordinator articles."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kb.cli import main
from kb.analysis.compare import align_duties
from kb.errors import KBError
from kb_builder import build_kb

LABELLED = Path(__file__).parent / "data" / "groups.jsonl"
ROLE_PAIRS = Path(__file__).parent / "data" / "role_pairs.jsonl"
GOLD = Path(__file__).parent / "data" / "dev" / "gold"
SV_A = [("duty", "", "hantera chefens scheman"), ("duty", "", "hantera researrangemang"),
        ("duty", "", "ta screeningsamtal"), ("duty", "", "koordinera utbildningstillfällen"),
        ("skill", "education", "kandidatexamen i företagsekonomi")]
SV_B = [("duty", "", "hanterar ett verkställande schema"), ("duty", "", "ordnar transport och hotellrum för resor"),
        ("duty", "", "screenar inkommande telefonsamtal"), ("duty", "", "ge råd till företagsledningen")]
PL = [("duty", "", "oszacować koszty spotkania"), ("duty", "", "rezerwować sale konferencyjne"),
      ("duty", "", "przygotować materiały dla uczestników"), ("skill", "skill", "umiejętności organizacyjne")]


def _background(lang: str) -> tuple[str, list]:
    """Other roles' items from the labelled set, so that the language means are those of a real knowledge base."""
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    return lang, [(row["kind"], "skill" if row["kind"] == "skill" else "", row["text"]) for row in rows
                  if row["lang"] == lang and row["group"] not in ("travel", "calendar", "screen_calls")]


def _check_schema(result: dict) -> None:
    docs = result["docs"]
    assert len(result["similarity"]) == len(docs) and all(len(row) == len(docs) for row in result["similarity"])
    for pair in result["pairs"]:
        assert set(pair) >= {"a", "b", "similarity", "shared", "unique_a", "unique_b"}
        assert pair["a"] in docs and pair["b"] in docs and isinstance(pair["similarity"], float)
        for shared in pair["shared"]:
            assert set(shared) == {"a_text", "b_text", "similarity"}
        assert all(isinstance(text, str) for text in pair["unique_a"] + pair["unique_b"])


def test_shared_duties_are_aligned_across_articles(tmp_path: Path, e5) -> None:
    docs = {"a": ("sv", SV_A), "b": ("sv", SV_B), "p": ("pl", PL), "sv_other": _background("sv"),
            "pl_other": _background("pl")}
    with build_kb(tmp_path / "kb", e5, docs) as kb:
        result = kb.compare("a", "b", "p")
        _check_schema(result)
        pair = next(p for p in result["pairs"] if {p["a"], p["b"]} == {"a", "b"})
        aligned = {(s["a_text"], s["b_text"]) for s in pair["shared"]}
        assert ("hantera chefens scheman", "hanterar ett verkställande schema") in aligned
        assert ("ta screeningsamtal", "screenar inkommande telefonsamtal") in aligned
        assert "koordinera utbildningstillfällen" in pair["unique_a"]


def test_role_pair_labels_pair_gold_duties_of_their_articles_one_to_one() -> None:
    duties = {path.stem: {item["text"] for item in json.loads(path.read_text(encoding="utf-8"))["items"]
                          if item["kind"] == "duty"} for path in GOLD.glob("*.json")}
    examined, used = set(), set()
    for line in ROLE_PAIRS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert row["a"] in duties and row["b"] in duties and row["a"] != row["b"], row
        if row.get("pair"):
            assert (row["a"], row["b"]) not in examined and (row["b"], row["a"]) not in examined, row
            examined.add((row["a"], row["b"]))
            continue
        assert (row["a"], row["b"]) in examined, f"duty pair before its article pair: {row}"
        assert row["a_text"] in duties[row["a"]] and row["b_text"] in duties[row["b"]], row
        for side in (("a", row["a"], row["b"], row["a_text"]), ("b", row["a"], row["b"], row["b_text"])):
            assert side not in used, f"duty aligned twice in one article pair: {row}"
            used.add(side)
    assert len(examined) >= 100 and len(used) >= 400


def test_compare_refuses_unknown_and_single_ids(tmp_path: Path, fake_embedder) -> None:
    with build_kb(tmp_path / "kb", fake_embedder, {"a": ("sv", SV_A), "b": ("sv", SV_B)}) as kb:
        with pytest.raises(KBError, match="no article 'zzz'.*python -m kb docs"):
            kb.compare("a", "zzz")
        with pytest.raises(KBError, match="at least two"):
            kb.compare("a", "a")


def test_align_duties_is_one_to_one() -> None:
    import numpy as np

    units = [{"kind": "duty", "text": "x"}, {"kind": "duty", "text": "y"}]
    vectors = np.eye(2, dtype=np.float32)
    shared, unique_a, unique_b = align_duties((units, vectors), (units[:1], vectors[:1]))
    assert [(s["a_text"], s["b_text"]) for s in shared] == [("x", "x")] and unique_a == ["y"] and unique_b == []


def _align_scores(scores: list[list[float]]) -> set[tuple[str, str]]:
    """align_duties on a given score matrix: duties a0.. and b0.., one-hot vectors against the matrix's columns."""
    matrix = np.array(scores, dtype=np.float32)
    units_a = [{"kind": "duty", "text": f"a{i}"} for i in range(matrix.shape[0])]
    units_b = [{"kind": "duty", "text": f"b{j}"} for j in range(matrix.shape[1])]
    shared, _, _ = align_duties((units_a, np.eye(matrix.shape[0], dtype=np.float32)), (units_b, matrix.T))
    return {(s["a_text"], s["b_text"]) for s in shared}


ALIKE_ROLES = [[0.50, 0.10, 0.05],  # a0-b0 and a1-b1 pass the threshold: the roles are alike
               [0.12, 0.41, 0.09],
               [0.09, 0.07, 0.28]]  # a2-b2: under the threshold, but each other's best match by far


def test_alike_roles_align_a_clear_mutual_best_match_under_the_threshold() -> None:
    assert _align_scores(ALIKE_ROLES) == {("a0", "b0"), ("a1", "b1"), ("a2", "b2")}


def test_a_mutual_best_match_needs_two_confident_pairs_beside_it() -> None:
    one_confident = [row[:] for row in ALIKE_ROLES]
    one_confident[1][1] = 0.30
    assert _align_scores(one_confident) == {("a0", "b0")}


def test_a_mutual_best_match_needs_a_margin_over_either_duty_s_next_best() -> None:
    close_runner_up = [row[:] for row in ALIKE_ROLES]
    close_runner_up[0][2] = 0.25  # b2's next best (a0) is within 0.05 of a2
    assert _align_scores(close_runner_up) == {("a0", "b0"), ("a1", "b1")}


def test_a_mutual_best_match_needs_the_lowest_cosine() -> None:
    weak = [row[:] for row in ALIKE_ROLES]
    weak[2][2] = 0.20
    assert _align_scores(weak) == {("a0", "b0"), ("a1", "b1")}


@pytest.mark.slow
def test_senior_coordinator_articles_are_the_most_similar_pair(corpus_kb) -> None:
    ids = [doc["doc_id"] for doc in corpus_kb.docs() if doc["doc_id"][:3] in ("000", "001", "002", "003", "004")]
    result = corpus_kb.compare(*ids)
    best = result["pairs"][0]
    assert {best["a"][:3], best["b"][:3]} == {"000", "001"}, [(p["a"], p["b"], p["similarity"]) for p in result["pairs"]]


def _shared_pair(corpus_kb, a_words: tuple[str, ...], b_words: tuple[str, ...]) -> list[dict]:
    ids = [doc["doc_id"] for doc in corpus_kb.docs() if doc["doc_id"][:3] in ("000", "001")]
    pair = corpus_kb.compare(*ids)["pairs"][0]
    if not pair["a"].startswith("000"):
        a_words, b_words = b_words, a_words
    return [shared for shared in pair["shared"] if any(word in shared["a_text"] for word in a_words)
            and any(word in shared["b_text"] for word in b_words)]


@pytest.mark.slow
def test_senior_coordinator_articles_align_their_schedule_duties(corpus_kb) -> None:
    assert _shared_pair(corpus_kb, ("schema", "scheman", "kalender"), ("schema",))


@pytest.mark.slow
def test_senior_coordinator_articles_align_their_travel_duties(corpus_kb) -> None:
    assert _shared_pair(corpus_kb, ("researrangemang",), ("resor", "transport"))


@pytest.mark.slow
def test_senior_coordinator_articles_do_not_pair_schedules_with_flowcharts(corpus_kb) -> None:
    ids = [doc["doc_id"] for doc in corpus_kb.docs() if doc["doc_id"][:3] in ("000", "001", "003")]
    shared = [s for pair in corpus_kb.compare(*ids)["pairs"] for s in pair["shared"]]
    # "scheman" (schedules) and "flödesscheman" (flowcharts) share letters, not meaning
    assert not [s for s in shared if "flödesscheman" in s["a_text"] + s["b_text"]]


@pytest.mark.slow
def test_senior_coordinator_articles_align_their_screening_duties(corpus_kb) -> None:
    # e5 scores this paraphrase at about 0.28: found by the second pass (mutual best of alike roles)
    assert _shared_pair(corpus_kb, ("screeningsamtal",), ("screenar",))


@pytest.mark.slow
def test_cli_compare_json_for_a_swedish_and_a_polish_role(corpus_kb_dir: Path, capsys) -> None:
    assert main(["compare", "000", "004", "--kb", str(corpus_kb_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"docs", "similarity", "pairs"}
    assert [doc[:3] for doc in result["docs"]] == ["000", "004"]
    _check_schema(result)


def test_cli_compare_unknown_id_prints_one_error_line(tmp_path: Path, fake_embedder, capsys) -> None:
    build_kb(tmp_path / "kb", fake_embedder, {"a": ("sv", SV_A)}).close()
    assert main(["compare", "a", "nope", "--kb", str(tmp_path / "kb")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: no article 'nope'") and error.count("\n") == 1


@pytest.mark.parametrize("command", ["skills", "export", "compare"])
def test_new_commands_have_help_with_an_example(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"example: python -m kb {command}" in capsys.readouterr().out


def test_paraphrase_vectors_are_embedded_once_and_follow_changed_items(tmp_path: Path, fake_embedder) -> None:
    from kb.analysis.paraphrase import paraphrase_vectors

    with build_kb(tmp_path / "kb", fake_embedder, {"a": ("sv", SV_A), "b": ("sv", SV_B)}) as kb:
        units, _ = kb.store.unit_vectors(("duty", "skill"))
        calls = []
        kb.embedder.embed_query = lambda text: calls.append(text) or fake_embedder._vector(text)
        first = paraphrase_vectors(kb, units)
        assert len(calls) == len(units) and first.shape == (len(units), fake_embedder.dim)
        assert np.allclose(paraphrase_vectors(kb, units), first) and len(calls) == len(units)  # cached
        changed = [{**units[0], "text": "boka resor åt chefen"}] + units[1:]
        paraphrase_vectors(kb, changed)
        assert calls[len(units):] == ["boka resor åt chefen"]


def test_compare_lists_the_esco_concepts_both_roles_are_linked_to(esco_kb_dir: Path, capsys) -> None:
    assert main(["compare", "--kb", str(esco_kb_dir), "forklift", "truck", "--label-lang", "sv", "--json"]) == 0
    (pair,) = json.loads(capsys.readouterr().out)["pairs"]
    assert pair["shared_esco"] == [{"esco_uri": "http://data.europa.eu/esco/skill/28cb374e-6261-4133-8371-f9a5470145da",
                                    "esco_label": "köra gaffeltruck", "a_items": ["Operate forklift", "Forklift licence"],
                                    "b_items": ["Köra gaffeltruck"]}]
    assert not pair["shared"]  # the text alignment misses what ESCO joins
    assert main(["compare", "--kb", str(esco_kb_dir), "forklift", "truck"]) == 0
    text = capsys.readouterr().out
    assert "0 shared duties, 1 shared ESCO concepts" in text
    assert "  ESCO operate forklift: Operate forklift; Forklift licence  <->  Köra gaffeltruck" in text
