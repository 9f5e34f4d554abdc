"""Rules-only duty and skill extraction of every language with a rule file, driven by data.

Each language's cases live in tests/data/extract_cases/<lang>.json, next to its rules in ingest/lang/<lang>/rules.json:
adding a language means adding those two files. A case file holds, besides ``"lang"``, lists of cases by family;
each case has a ``"why"`` (shown in the test id), its input as one ``"sentence"`` or several ``"lines"`` (one
sentence each, in article order) and, except in ``nothing``, what is ``"expected"``:

- ``duties``: the texts of the duty items;
- ``skills``: the ``[text, subtype]`` pairs of the skill items;
- ``skill_lists``: the texts of the skill items (enumerated requirements);
- ``subtypes``: the ``[text, subtype]`` pairs of all items (listed traits, section items, leading qualifications);
- ``items``: the ``[kind, text]`` pairs of all items (list lines under section headings);
- ``texts``: the texts of all items, of any kind;
- ``nothing``: no items at all.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from extract_helpers import items_of, texts

ROOT = Path(__file__).resolve().parent.parent
CASE_DIR = ROOT / "tests" / "data" / "extract_cases"
RULE_DIR = ROOT / "ingest" / "lang"
FAMILIES = ("duties", "skills", "skill_lists", "subtypes", "items", "texts", "nothing")
REQUIRED = ("duties", "skills", "items", "nothing")  # every language has cases of these


def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


CASE_FILES = {path.stem: _load(path) for path in sorted(CASE_DIR.glob("*.json"))}


def cases(family: str) -> list:
    """(lang, case) parameters of one family across all case files, with readable ids."""
    return [pytest.param(lang, case, id=f"{lang}-{family}-{number}-{case['why']}")
            for lang, data in CASE_FILES.items()
            for number, case in enumerate(data.get(family, []), 1)]


def lines_of(case: dict) -> list[str]:
    """The case's input sentences."""
    return [case["sentence"]] if "sentence" in case else case["lines"]


@pytest.mark.parametrize("lang, case", cases("duties"))
def test_duty_cues_of_each_language_yield_their_duties(lang: str, case: dict) -> None:
    assert texts(items_of(lang, *lines_of(case)), "duty") == case["expected"]


@pytest.mark.parametrize("lang, case", cases("skills"))
def test_skill_cues_of_each_language_yield_skills_with_their_subtype(lang: str, case: dict) -> None:
    skills = [item for item in items_of(lang, *lines_of(case)) if item.kind == "skill"]
    assert [[item.text, item.subtype] for item in skills] == case["expected"]


@pytest.mark.parametrize("lang, case", cases("skill_lists"))
def test_listed_requirements_of_each_language_become_one_skill_each(lang: str, case: dict) -> None:
    assert texts(items_of(lang, *lines_of(case)), "skill") == case["expected"]


@pytest.mark.parametrize("lang, case", cases("subtypes"))
def test_traits_and_qualifications_of_each_language_yield_items_with_their_subtype(lang: str, case: dict) -> None:
    assert [[item.text, item.subtype] for item in items_of(lang, *lines_of(case))] == case["expected"]


@pytest.mark.parametrize("lang, case", cases("items"))
def test_list_lines_of_each_language_yield_their_items(lang: str, case: dict) -> None:
    assert [[item.kind, item.text] for item in items_of(lang, *lines_of(case))] == case["expected"]


@pytest.mark.parametrize("lang, case", cases("texts"))
def test_sentences_of_each_language_yield_only_the_expected_items(lang: str, case: dict) -> None:
    assert texts(items_of(lang, *lines_of(case))) == case["expected"]


@pytest.mark.parametrize("lang, case", cases("nothing"))
def test_sentences_of_each_language_without_duties_or_skills_yield_nothing(lang: str, case: dict) -> None:
    assert items_of(lang, *lines_of(case)) == []


def test_case_files_exist() -> None:
    assert CASE_FILES, f"no case files in {CASE_DIR}"


@pytest.mark.parametrize("lang", sorted(CASE_FILES))
def test_every_case_file_is_a_language_with_rules_and_cases_of_each_family_it_needs(lang: str) -> None:
    data = CASE_FILES[lang]
    assert (RULE_DIR / lang / "rules.json").is_file(), f"no rule file ingest/lang/{lang}/rules.json"
    assert data.get("lang") == lang
    assert set(data) - {"lang"} <= set(FAMILIES), f"unknown families: {set(data) - {'lang'} - set(FAMILIES)}"
    for family in REQUIRED:
        assert data.get(family), f"{lang} has no {family} cases"
    for family in FAMILIES:
        for case in data.get(family, []):
            assert isinstance(case.get("why"), str) and case["why"], case
            assert ("sentence" in case) != ("lines" in case), case
            assert ("expected" in case) == (family != "nothing"), case
            assert set(case) <= {"why", "sentence", "lines", "expected"}, case
