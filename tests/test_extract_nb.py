"""Norwegian Bokmål duty and skill extraction with the cue words of ingest/lang/nb.json (rules only)."""
from __future__ import annotations

import pytest

from extract_helpers import items_of, texts


@pytest.mark.parametrize("sentence, expected", [
    ("Som regnskapsfører er du ansvarlig for lønnskjøringen.", "lønnskjøringen"),
    ("Du får ansvaret for kantinens daglige drift.", "kantinens daglige drift"),
    ("Du kommer til å stå for innkjøp av råvarer.", "innkjøp av råvarer"),
    ("Din oppgave er å gi kundene råd om forsikringer.", "gi kundene råd om forsikringer"),
])
def test_responsibility_frames_yield_the_duty(sentence: str, expected: str) -> None:
    assert texts(items_of("nb", sentence), "duty") == [expected]


@pytest.mark.parametrize("sentence, expected", [
    ("Sykepleieren skal dokumentere pleien i journalen.", "dokumentere pleien i journalen"),
    ("Du vil undervise elevene i matematikk og fysikk.", "undervise elevene i matematikk og fysikk"),
    ("Medarbeideren kan også betjene kassen i helgene.", "betjene kassen i helgene"),
])
def test_modal_frames_yield_a_duty_without_subject_or_modal(sentence: str, expected: str) -> None:
    assert texts(items_of("nb", sentence), "duty") == [expected]


def test_present_tense_verbs_of_the_role_yield_one_duty_each() -> None:
    found = items_of("nb", "Du bestiller varer hos leverandørene og sjekker leveransene.")
    assert texts(found, "duty") == ["bestiller varer hos leverandørene", "sjekker leveransene"]


def test_modal_frames_of_other_people_yield_nothing() -> None:
    assert items_of("nb", "Direktøren skal godkjenne budsjettet.") == []


@pytest.mark.parametrize("sentence, expected, subtype", [
    ("Stillingen krever erfaring med lønnssystemer.", "erfaring med lønnssystemer", "experience"),
    ("Du må ha erfaring fra byggebransjen.", "erfaring fra byggebransjen", "experience"),
    ("Du har en mastergrad i økonomi.", "en mastergrad i økonomi", "education"),
    ("Det er et krav at du har svennebrev som tømrer.", "svennebrev som tømrer", "education"),
    ("Førerkort for lastebil kreves.", "Førerkort for lastebil", "education"),
    ("Kjennskap til Visma er en fordel.", "Kjennskap til Visma", "knowledge"),
    ("Vi forventer at du har gode samarbeidsevner.", "gode samarbeidsevner", "skill"),
])
def test_requirement_frames_and_heads_yield_skills_with_their_subtype(sentence: str, expected: str,
                                                                      subtype: str) -> None:
    skills = [item for item in items_of("nb", sentence) if item.kind == "skill"]
    assert [(item.text, item.subtype) for item in skills] == [(expected, subtype)]


def test_listed_traits_become_one_trait_each() -> None:
    found = items_of("nb", "Du er positiv, ansvarsbevisst og stabil.")
    assert texts(found) == ["positiv", "ansvarsbevisst", "stabil"]
    assert {item.subtype for item in found} == {"trait"}


@pytest.mark.parametrize("sentence, expected", [
    ("Dine oppgaver består av å ta imot pasienter, booke timer og besvare telefonen.",
     ["ta imot pasienter", "booke timer", "besvare telefonen"]),
    ("Stillingen omfatter blant annet rådgivning av kunder, utarbeidelse av tilbud og oppfølging av salg.",
     ["rådgivning av kunder", "utarbeidelse av tilbud", "oppfølging av salg"]),
])
def test_enumerated_duties_become_one_item_each(sentence: str, expected: list[str]) -> None:
    assert texts(items_of("nb", sentence), "duty") == expected


@pytest.mark.parametrize("lines, expected", [
    (["Arbeidsoppgaver:", "Klargjøring av biler før levering", "Kontakt med kunder og forhandlere",
      "Vi tilbyr:", "Firmabil og helseforsikring."],
     [("duty", "Klargjøring av biler før levering"), ("duty", "Kontakt med kunder og forhandlere")]),
    (["Kvalifikasjoner", "Utdannet bilmekaniker", "Erfaring med diagnoseverktøy", "Gode datakunnskaper, både i Excel og Word"],
     [("skill", "Utdannet bilmekaniker"), ("skill", "Erfaring med diagnoseverktøy"),
      ("skill", "Gode datakunnskaper, både i Excel og Word")]),
    (["Om oss", "Vi er en av Norges største byggentreprenører.", "Dine oppgaver", "Oppmåling og tilbudsarbeid"],
     [("duty", "Oppmåling og tilbudsarbeid")]),
])
def test_list_items_under_a_section_heading_take_the_heading_kind(lines: list[str],
                                                                 expected: list[tuple[str, str]]) -> None:
    assert [(item.kind, item.text) for item in items_of("nb", *lines)] == expected


@pytest.mark.parametrize("sentence", [
    "Vi er en familieeid bedrift med 120 ansatte i Bergen.",
    "Selskapet ble grunnlagt i 1987 og har kontorer i Oslo og Tromsø.",
    "Hvis du vil bli elektriker, kan du begynne som lærling.",
    "Koordinatoren fungerer som bindeledd mellom avdelingene.",
    "Stillingen krever ikke førerkort.",
])
def test_company_descriptions_role_names_career_talk_and_negations_yield_nothing(sentence: str) -> None:
    assert items_of("nb", sentence) == []
