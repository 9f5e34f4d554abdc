"""Danish duty and skill extraction with the cue words of ingest/lang/da.json (rules only)."""
from __future__ import annotations

import pytest

from extract_helpers import items_of, texts


@pytest.mark.parametrize("sentence, expected", [
    ("Som bogholder er du ansvarlig for lønkørslen.", "lønkørslen"),
    ("Du får ansvaret for kantinens daglige drift.", "kantinens daglige drift"),
    ("Du kommer til at stå for indkøb af råvarer.", "indkøb af råvarer"),
    ("Din opgave er at rådgive kunderne om forsikringer.", "rådgive kunderne om forsikringer"),
])
def test_responsibility_frames_yield_the_duty(sentence: str, expected: str) -> None:
    assert texts(items_of("da", sentence), "duty") == [expected]


@pytest.mark.parametrize("sentence, expected", [
    ("Sygeplejersken skal dokumentere plejen i journalen.", "dokumentere plejen i journalen"),
    ("Du vil undervise eleverne i matematik og fysik.", "undervise eleverne i matematik og fysik"),
    ("Medarbejderen kan også betjene kassen i weekenden.", "betjene kassen i weekenden"),
])
def test_modal_frames_yield_a_duty_without_subject_or_modal(sentence: str, expected: str) -> None:
    assert texts(items_of("da", sentence), "duty") == [expected]


def test_present_tense_verbs_of_the_role_yield_one_duty_each() -> None:
    found = items_of("da", "Du planlægger ugens vagter og bestiller varer hos leverandørerne.")
    assert texts(found, "duty") == ["planlægger ugens vagter", "bestiller varer hos leverandørerne"]


def test_modal_frames_of_other_people_yield_nothing() -> None:
    assert items_of("da", "Direktøren skal godkende budgettet.") == []


@pytest.mark.parametrize("sentence, expected, subtype", [
    ("Stillingen kræver erfaring med lønsystemer.", "erfaring med lønsystemer", "experience"),
    ("Du skal have erfaring fra byggebranchen.", "erfaring fra byggebranchen", "experience"),
    ("Du har en kandidatuddannelse i økonomi.", "en kandidatuddannelse i økonomi", "education"),
    ("Det er et krav, at du har svendebrev som tømrer.", "svendebrev som tømrer", "education"),
    ("Kørekort til lastbil kræves.", "Kørekort til lastbil", "education"),
    ("Kendskab til Navision er en fordel.", "Kendskab til Navision", "knowledge"),
    ("Vi forventer, at du har gode samarbejdsevner.", "gode samarbejdsevner", "skill"),
])
def test_requirement_frames_and_heads_yield_skills_with_their_subtype(sentence: str, expected: str,
                                                                      subtype: str) -> None:
    skills = [item for item in items_of("da", sentence) if item.kind == "skill"]
    assert [(item.text, item.subtype) for item in skills] == [(expected, subtype)]


def test_listed_traits_become_one_trait_each() -> None:
    found = items_of("da", "Du er positiv, ansvarsbevidst og mødestabil.")
    assert texts(found) == ["positiv", "ansvarsbevidst", "mødestabil"]
    assert {item.subtype for item in found} == {"trait"}


@pytest.mark.parametrize("sentence, expected", [
    ("Dine opgaver består af at tage imod patienter, booke tider og besvare telefonen.",
     ["tage imod patienter", "booke tider", "besvare telefonen"]),
    ("Stillingen omfatter bl.a. rådgivning af kunder, udarbejdelse af tilbud og opfølgning på salg.",
     ["rådgivning af kunder", "udarbejdelse af tilbud", "opfølgning på salg"]),
])
def test_enumerated_duties_become_one_item_each(sentence: str, expected: list[str]) -> None:
    assert texts(items_of("da", sentence), "duty") == expected


@pytest.mark.parametrize("lines, expected", [
    (["Arbejdsopgaver:", "Klargøring af biler til levering", "Kontakt med kunder og forhandlere",
      "Vi tilbyder:", "Firmabil og sundhedsforsikring."],
     [("duty", "Klargøring af biler til levering"), ("duty", "Kontakt med kunder og forhandlere")]),
    (["Kvalifikationer", "Uddannet automekaniker", "Erfaring med diagnoseudstyr", "Du er grundig og pålidelig"],
     [("skill", "Uddannet automekaniker"), ("skill", "Erfaring med diagnoseudstyr"), ("skill", "grundig"),
      ("skill", "pålidelig")]),
    (["Om os", "Vi er en af Danmarks største byggevirksomheder.", "Dine opgaver", "Opmåling og tilbudsgivning"],
     [("duty", "Opmåling og tilbudsgivning")]),
])
def test_list_items_under_a_section_heading_take_the_heading_kind(lines: list[str],
                                                                 expected: list[tuple[str, str]]) -> None:
    assert [(item.kind, item.text) for item in items_of("da", *lines)] == expected


@pytest.mark.parametrize("sentence", [
    "Vi er en familieejet virksomhed med 120 ansatte i Aarhus.",
    "Virksomheden blev grundlagt i 1987 og har kontorer i Odense og Malmø.",
    "Hvis du vil være elektriker, kan du starte som lærling.",
    "Koordinatoren fungerer som bindeled mellem afdelingerne.",
    "Stillingen kræver ikke kørekort.",
])
def test_company_descriptions_role_names_career_talk_and_negations_yield_nothing(sentence: str) -> None:
    assert items_of("da", sentence) == []
