"""Dutch duty and skill rules (ingest/lang/nl.json): frames, subtypes, enumerations, sections, non-items."""
from __future__ import annotations

import pytest

from extract_helpers import items_of, texts


@pytest.mark.parametrize("sentence, expected", [
    ("Je bent verantwoordelijk voor het onderhoud van de installaties.", ["het onderhoud van de installaties"]),
    ("Als medewerker bent u verantwoordelijk voor de planning van de ritten.", ["de planning van de ritten"]),
    ("Tot je taken behoort ook het bijhouden van de administratie.", ["het bijhouden van de administratie"]),
    ("Je houdt je bezig met de inkoop van materialen.", ["de inkoop van materialen"]),
])
def test_responsibility_frames_yield_the_duty_after_them(sentence: str, expected: list[str]) -> None:
    assert texts(items_of("nl", sentence), "duty") == expected


@pytest.mark.parametrize("sentence, expected", [
    ("De monteur moet storingen verhelpen.", ["storingen verhelpen"]),
    ("Je gaat klanten telefonisch adviseren.", ["klanten telefonisch adviseren"]),
    ("Je beheert de voorraad in ons magazijn.", ["beheert de voorraad in ons magazijn"]),
])
def test_modal_and_informal_you_frames_yield_a_duty(sentence: str, expected: list[str]) -> None:
    assert texts(items_of("nl", sentence), "duty") == expected


def test_frames_of_other_people_yield_nothing() -> None:
    assert items_of("nl", "De directie moet het budget goedkeuren.") == []


@pytest.mark.parametrize("sentence, expected, subtype", [
    ("Voor deze functie is werkervaring in de zorg vereist.", "werkervaring in de zorg", "experience"),
    ("Wij vragen een afgeronde hbo-opleiding.", "een afgeronde hbo-opleiding", "education"),
    ("Je beschikt over goede kennis van Excel.", "goede kennis van Excel", "knowledge"),
    ("Je hebt minimaal drie jaar werkervaring in de logistiek.", "minimaal drie jaar werkervaring in de logistiek",
     "experience"),
    ("Een rijbewijs B is een pré.", "Een rijbewijs B", "education"),
])
def test_requirement_frames_and_heads_yield_skills_with_their_subtype(sentence: str, expected: str,
                                                                      subtype: str) -> None:
    skills = [item for item in items_of("nl", sentence) if item.kind == "skill"]
    assert [(item.text, item.subtype) for item in skills] == [(expected, subtype)]


def test_listed_traits_become_one_trait_each() -> None:
    found = items_of("nl", "Je bent flexibel, betrouwbaar en stressbestendig.")
    assert texts(found) == ["flexibel", "betrouwbaar", "stressbestendig"]
    assert {item.subtype for item in found} == {"trait"}


@pytest.mark.parametrize("sentence, expected", [
    ("Je plant de ritten, beantwoordt vragen van klanten en verwerkt de bestellingen.",
     ["plant de ritten", "beantwoordt vragen van klanten", "verwerkt de bestellingen"]),
    ("Tot je taken behoren de planning van afspraken, de verwerking van bestellingen en de registratie van klachten.",
     ["de planning van afspraken", "de verwerking van bestellingen", "de registratie van klachten"]),
    ("Je bent verantwoordelijk voor de planning, de administratie en de facturatie.",
     ["de planning", "de administratie", "de facturatie"]),
])
def test_enumerated_duties_become_one_item_each(sentence: str, expected: list[str]) -> None:
    assert texts(items_of("nl", sentence), "duty") == expected


@pytest.mark.parametrize("lines, expected", [
    (["Wat ga je doen?", "Onderhoud en reparatie van installaties", "Klanten adviseren", "Offertes opstellen",
      "Wij bieden een goed salaris en een leaseauto."],
     [("duty", "Onderhoud en reparatie van installaties"), ("duty", "Klanten adviseren"),
      ("duty", "Offertes opstellen")]),
    (["Functie-eisen", "Rijbewijs B", "Ervaring in de techniek", "Betrouwbaarheid en flexibiliteit", "Wij bieden",
      "Een goede pensioenregeling"],
     [("skill", "Rijbewijs B"), ("skill", "Ervaring in de techniek"), ("skill", "Betrouwbaarheid"),
      ("skill", "flexibiliteit")]),
])
def test_list_items_under_a_section_heading_take_the_heading_kind(lines: list[str],
                                                                 expected: list[tuple[str, str]]) -> None:
    assert [(item.kind, item.text) for item in items_of("nl", *lines)] == expected


@pytest.mark.parametrize("sentence", [
    "Van Dijk Logistiek is een familiebedrijf met ruim 120 medewerkers.",
    "Wij zijn een jong team en ontwikkelen al sinds 2005 software voor het mkb.",
    "Wij bieden je flexibele werktijden en een leaseauto.",
    "Een monteur verdient gemiddeld 3000 euro bruto per maand.",
    "Solliciteer dan vandaag nog!",
    "Je werkt als aanspreekpunt tussen verkoop en techniek.",
])
def test_company_descriptions_offers_and_advice_yield_nothing(sentence: str) -> None:
    assert items_of("nl", sentence) == []
