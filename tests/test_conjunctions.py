"""Conjunctions of languages without a rule file, from CLDR list patterns, and the lists they split."""
from __future__ import annotations

import pytest

from extract_helpers import article_sentences
from ingest.extract.conjunctions import cldr_conjunctions
from ingest.extract.extractor import extract
from ingest.extract.rules import load_rules


@pytest.mark.parametrize(("lang", "words"), [
    ("fi", ("ja", "tai")), ("et", ("ja", "või")), ("hu", ("és", "vagy")), ("id", ("dan", "atau")),
    ("tr", ("ve", "veya")), ("el", ("και", "ή")), ("hi", ("और", "या")),
])
def test_cldr_list_patterns_give_each_language_its_and_and_or(lang: str, words: tuple[str, ...]) -> None:
    assert cldr_conjunctions(lang) == words


@pytest.mark.parametrize("lang", ["zh", "ja", "xx", "not-a-language"])
def test_conjunctions_attached_to_a_word_or_unknown_languages_give_none(lang: str) -> None:
    assert cldr_conjunctions(lang) == ()  # Chinese "和" stands inside unsegmented text


def test_a_language_without_a_rule_file_still_knows_its_conjunctions() -> None:
    rules = load_rules("et")
    assert not rules.frames and rules.data["conjunctions"] == ["ja", "või"]


def test_a_list_line_in_a_language_without_rules_splits_into_its_duties(e5) -> None:
    text = ("Müüja\n\nTööülesanded:\n- Toodete esitlemine ja tehingute sõlmimine\n"
            "- Klientide teenindamine kaupluses ja telefonitsi\n\n"
            "Ootame sinult:\n- Head eesti ja inglise keele oskust\n")
    found = [(item.kind, item.text) for item in extract(article_sentences("et", text)[1:], e5, method="rules", texts={"doc": text})]
    # two activities split; a second place of one activity and two languages of one skill do not
    assert found == [("duty", "Toodete esitlemine"), ("duty", "tehingute sõlmimine"),
                     ("duty", "Klientide teenindamine kaupluses ja telefonitsi"),
                     ("skill", "Head eesti ja inglise keele oskust")]


def test_coordinated_activities_split_in_hungarian_too(e5) -> None:
    text = ("Eladó\n\nFeladatok:\n- Termékek bemutatása és az eladás lezárása\n"
            "- Vevők kiszolgálása az üzletben és telefonon\n")
    found = [item.text for item in extract(article_sentences("hu", text)[1:], e5, method="rules", texts={"doc": text})]
    assert found == ["Termékek bemutatása", "az eladás lezárása", "Vevők kiszolgálása az üzletben és telefonon"]
