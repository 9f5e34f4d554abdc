"""German duty and skill rules (ingest/lang/de.json): frames, subtypes, enumerations, sections, non-items."""
from __future__ import annotations

import pytest

from extract_helpers import items_of, texts


@pytest.mark.parametrize("sentence, expected", [
    ("Sie sind verantwortlich für die Wartung der Anlagen.", ["die Wartung der Anlagen"]),
    ("Sie sind für die Planung der Einsätze verantwortlich.", ["die Planung der Einsätze"]),
    ("In dieser Rolle sind Sie auch für die Schulung neuer Mitarbeiter zuständig.", ["die Schulung neuer Mitarbeiter"]),
    ("Zu Ihren Aufgaben gehört auch die Vorbereitung der Unterlagen für den Steuerberater.",
     ["die Vorbereitung der Unterlagen für den Steuerberater"]),
    ("Die Kontrolle der Lieferungen gehört ebenfalls zu Ihren Aufgaben.", ["Die Kontrolle der Lieferungen"]),
    ("Sie kümmern sich um die Buchhaltung.", ["die Buchhaltung"]),
    ("Sie übernehmen die pflegerische Versorgung von drei Patienten.", ["die pflegerische Versorgung von drei Patienten"]),
])
def test_responsibility_frames_yield_the_duty_after_them(sentence: str, expected: list[str]) -> None:
    assert texts(items_of("de", sentence), "duty") == expected


@pytest.mark.parametrize("sentence, expected", [
    ("Die Elektrikerin muss Schaltpläne lesen.", ["Schaltpläne lesen"]),
    ("Sie werden Kunden am Telefon beraten.", ["Kunden am Telefon beraten"]),
    ("Der Mitarbeiter muss täglich die Lagerbestände kontrollieren, damit keine Engpässe entstehen.",
     ["täglich die Lagerbestände kontrollieren"]),
    ("Sie erstellen Angebote für Neukunden.", ["erstellen Angebote für Neukunden"]),
    ("Der Elektriker installiert Beleuchtungsanlagen in Bürogebäuden.",
     ["installiert Beleuchtungsanlagen in Bürogebäuden"]),
])
def test_modal_formal_you_and_role_verb_frames_yield_a_duty(sentence: str, expected: list[str]) -> None:
    assert texts(items_of("de", sentence), "duty") == expected


@pytest.mark.parametrize("sentence", [
    "Die Geschäftsführung muss das Budget genehmigen.",
    "Unser Team unterstützt Sie bei der Einarbeitung.",
])
def test_frames_of_other_people_yield_nothing(sentence: str) -> None:
    assert items_of("de", sentence) == []


@pytest.mark.parametrize("sentence, expected, subtype", [
    ("Die Stelle erfordert Erfahrung im Kundenservice.", "Erfahrung im Kundenservice", "experience"),
    ("Sie haben eine abgeschlossene Ausbildung als Elektroniker.", "eine abgeschlossene Ausbildung als Elektroniker",
     "education"),
    ("Voraussetzung ist ein gültiger Staplerschein.", "ein gültiger Staplerschein", "education"),
    ("Mindestens zwei Jahre Berufserfahrung setzen wir voraus.", "Mindestens zwei Jahre Berufserfahrung", "experience"),
    ("Gute Englischkenntnisse sind von Vorteil.", "Gute Englischkenntnisse", "knowledge"),
    ("Sie verfügen über fundierte Kenntnisse im Arbeitsrecht.", "fundierte Kenntnisse im Arbeitsrecht", "knowledge"),
    ("Sie bringen Erfahrung im Vertrieb mit.", "Erfahrung im Vertrieb", "experience"),
])
def test_requirement_frames_and_heads_yield_skills_with_their_subtype(sentence: str, expected: str,
                                                                      subtype: str) -> None:
    skills = [item for item in items_of("de", sentence) if item.kind == "skill"]
    assert [(item.text, item.subtype) for item in skills] == [(expected, subtype)]


def test_listed_traits_become_one_trait_each() -> None:
    found = items_of("de", "Sie sind teamfähig, zuverlässig und belastbar.")
    assert texts(found) == ["teamfähig", "zuverlässig", "belastbar"]
    assert {item.subtype for item in found} == {"trait"}


def test_listed_requirements_after_a_fronted_cue_become_one_skill_each() -> None:
    found = items_of("de", "Wichtig sind Geduld, Kreativität und Einfühlungsvermögen.")
    assert texts(found, "skill") == ["Geduld", "Kreativität", "Einfühlungsvermögen"]


@pytest.mark.parametrize("sentence, expected", [
    ("Sie erstellen Angebote, schreiben Rechnungen und überwachen den Zahlungseingang.",
     ["erstellen Angebote", "schreiben Rechnungen", "überwachen den Zahlungseingang"]),
    ("Zu Ihren Aufgaben gehören die Terminplanung, die Pflege der Datenbank sowie die Erstellung von Präsentationen.",
     ["die Terminplanung", "die Pflege der Datenbank", "die Erstellung von Präsentationen"]),
    ("Die Pflegekraft versorgt Patienten, verabreicht Medikamente und dokumentiert die Pflege.",
     ["versorgt Patienten", "verabreicht Medikamente", "dokumentiert die Pflege"]),
    ("Sie werden Kunden beraten und Angebote erstellen.", ["Kunden beraten", "Angebote erstellen"]),
])
def test_enumerated_duties_become_one_item_each(sentence: str, expected: list[str]) -> None:
    assert texts(items_of("de", sentence), "duty") == expected


@pytest.mark.parametrize("lines, expected", [
    (["Ihre Aufgaben:", "Wartung und Reparatur von Schaltanlagen", "Vitalzeichen überwachen und dokumentieren",
      "Kunden beraten", "Wir bieten ein tolles Team und ein Firmenfahrzeug."],
     [("duty", "Wartung und Reparatur von Schaltanlagen"), ("duty", "Vitalzeichen überwachen und dokumentieren"),
      ("duty", "Kunden beraten")]),
    (["Das bringen Sie mit", "Führerschein Klasse B", "Erfahrung in der Pflege von Vorteil",
      "Zuverlässigkeit und Teamfähigkeit", "Was wir bieten", "Betriebliche Altersvorsorge"],
     [("skill", "Führerschein Klasse B"), ("skill", "Erfahrung in der Pflege von Vorteil"),
      ("skill", "Zuverlässigkeit"), ("skill", "Teamfähigkeit")]),
])
def test_list_items_under_a_section_heading_take_the_heading_kind(lines: list[str],
                                                                 expected: list[tuple[str, str]]) -> None:
    assert [(item.kind, item.text) for item in items_of("de", *lines)] == expected


def test_section_skill_items_take_the_subtype_of_their_head() -> None:
    found = items_of("de", "Ihr Profil:", "Abgeschlossene Ausbildung als Koch", "Mehrjährige Berufserfahrung")
    assert [(item.text, item.subtype) for item in found] == [("Abgeschlossene Ausbildung als Koch", "education"),
                                                             ("Mehrjährige Berufserfahrung", "experience")]


@pytest.mark.parametrize("sentence", [
    "Die Schmidt GmbH ist ein Familienunternehmen mit 40 Mitarbeitern im Raum Hannover.",
    "Wir sind ein junges Team und entwickeln seit 2005 Software für den Mittelstand.",
    "Wir bieten Ihnen flexible Arbeitszeiten und ein Firmenfahrzeug.",
    "Ein Elektriker verdient im Durchschnitt 3000 Euro brutto im Monat.",
    "Wenn Sie Elektriker werden wollen, sollten Sie sich bei einem Handwerksbetrieb bewerben.",
    "Wir freuen uns auf Ihre Bewerbung!",
])
def test_company_descriptions_offers_and_advice_yield_nothing(sentence: str) -> None:
    assert items_of("de", sentence) == []


@pytest.mark.parametrize("sentence, expected", [
    ("Sie planen Touren, um die Lieferzeiten zu verkürzen.", ["planen Touren"]),
    ("Sie arbeiten als Schnittstelle zwischen Vertrieb und Technik.", []),
])
def test_purpose_clauses_and_role_names_add_no_items(sentence: str, expected: list[str]) -> None:
    assert texts(items_of("de", sentence)) == expected
