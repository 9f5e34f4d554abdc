"""Czech duty and skill extraction with the cue words of ingest/lang/cs.json (rules only)."""
from __future__ import annotations

import pytest

from extract_helpers import items_of, texts


@pytest.mark.parametrize("sentence, expected", [
    ("Skladník odpovídá za příjem a výdej zboží.", "příjem a výdej zboží"),
    ("Recepční má na starosti rezervace hotelových pokojů.", "rezervace hotelových pokojů"),
    ("Asistentka se stará o korespondenci vedení společnosti.", "korespondenci vedení společnosti"),
    ("Mezi hlavní povinnosti patří vedení pokladny.", "vedení pokladny"),
    ("Jeho úkolem je kontrolovat kvalitu výrobků.", "kontrolovat kvalitu výrobků"),
])
def test_responsibility_frames_yield_the_duty(sentence: str, expected: str) -> None:
    assert texts(items_of("cs", sentence), "duty") == [expected]


@pytest.mark.parametrize("sentence, expected", [
    ("Technik musí pravidelně kontrolovat stav strojů.", "kontrolovat stav strojů"),
    ("Budete připravovat podklady pro mzdové účetnictví.", "připravovat podklady pro mzdové účetnictví"),
    ("Účetní by měla zpracovávat faktury od dodavatelů.", "zpracovávat faktury od dodavatelů"),
])
def test_modal_frames_yield_a_duty_without_subject_or_modal(sentence: str, expected: str) -> None:
    assert texts(items_of("cs", sentence), "duty") == [expected]


@pytest.mark.parametrize("sentence, expected, subtype", [
    ("Požadujeme praxi v oboru alespoň dva roky.", "praxi v oboru alespoň dva roky", "experience"),
    ("Vyžaduje se řidičský průkaz pro nákladní automobily.", "řidičský průkaz pro nákladní automobily", "education"),
    ("Výhodou je znalost německého jazyka.", "znalost německého jazyka", "knowledge"),
    ("Uživatelská znalost MS Office je nutná.", "Uživatelská znalost MS Office", "knowledge"),
    ("Máte zkušenosti s vedením malého týmu.", "zkušenosti s vedením malého týmu", "experience"),
    ("Schopnost pracovat pod tlakem je podmínkou.", "Schopnost pracovat pod tlakem", "skill"),
])
def test_requirement_frames_and_heads_yield_skills_with_their_subtype(sentence: str, expected: str,
                                                                      subtype: str) -> None:
    skills = [item for item in items_of("cs", sentence) if item.kind == "skill"]
    assert [(item.text, item.subtype) for item in skills] == [(expected, subtype)]


@pytest.mark.parametrize("sentence, kind, expected", [
    ("Kuchař připravuje teplá jídla, objednává suroviny a udržuje pořádek v kuchyni.", "duty",
     ["připravuje teplá jídla", "objednává suroviny", "udržuje pořádek v kuchyni"]),
    ("K povinnostem skladníka patří vychystávání objednávek, balení zásilek a inventura zásob.", "duty",
     ["vychystávání objednávek", "balení zásilek", "inventura zásob"]),
    ("Očekáváme spolehlivost, samostatnost a dobrou znalost Excelu.", "skill",
     ["spolehlivost", "samostatnost", "dobrou znalost Excelu"]),
])
def test_enumerations_become_one_item_each(sentence: str, kind: str, expected: list[str]) -> None:
    assert texts(items_of("cs", sentence), kind) == expected


@pytest.mark.parametrize("lines, expected", [
    (["Náplň práce:", "Příjem a kontrola zboží", "Obsluha pokladny", "Nabízíme:", "Stravenky a 25 dní dovolené."],
     [("duty", "Příjem a kontrola zboží"), ("duty", "Obsluha pokladny")]),
    (["Požadavky:", "Vzdělání v oboru gastronomie", "Řidičský průkaz skupiny B", "Časová flexibilita a spolehlivost"],
     [("skill", "Vzdělání v oboru gastronomie"), ("skill", "Řidičský průkaz skupiny B"),
      ("skill", "Časová flexibilita"), ("skill", "spolehlivost")]),
    (["O nás", "Jsme rodinná firma s tradicí od roku 1992.", "Co vás čeká", "Obsluha hostů na terase"],
     [("duty", "Obsluha hostů na terase")]),
])
def test_list_items_under_a_section_heading_take_the_heading_kind(lines: list[str],
                                                                 expected: list[tuple[str, str]]) -> None:
    assert [(item.kind, item.text) for item in items_of("cs", *lines)] == expected


@pytest.mark.parametrize("sentence", [
    "Společnost působí na českém trhu již 20 let.",
    "Průměrná mzda účetní v Praze je 45 000 Kč.",
    "Pokud se chcete stát programátorem, začněte kurzem Pythonu.",
    "Mechanik pracuje jako součást servisního týmu.",
    "Praxe není podmínkou.",
    "Nevyžadujeme předchozí praxi.",
])
def test_company_descriptions_career_talk_and_negated_requirements_yield_nothing(sentence: str) -> None:
    assert items_of("cs", sentence) == []
