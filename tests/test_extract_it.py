"""Italian duty and skill extraction with the cue words of ingest/lang/it.json (rules only)."""
from __future__ import annotations

import pytest

from extract_helpers import items_of, texts


@pytest.mark.parametrize("sentence, expected", [
    ("Il magazziniere è responsabile della gestione delle scorte.", "gestione delle scorte"),
    ("Il suo compito è preparare gli ordini dei clienti.", "preparare gli ordini dei clienti"),
    ("Il magazziniere è responsabile della gestione della merce e dei documenti di trasporto.",
     "gestione della merce e dei documenti di trasporto"),
])
def test_responsibility_frames_yield_the_duty(sentence: str, expected: str) -> None:
    assert texts(items_of("it", sentence), "duty") == [expected]


@pytest.mark.parametrize("sentence, expected", [
    ("L'addetto dovrà registrare le fatture dei fornitori.", "registrare le fatture dei fornitori"),
    ("Dovrai preparare i report settimanali per la direzione.", "preparare i report settimanali per la direzione"),
    ("La commessa può gestire i resi dei clienti.", "gestire i resi dei clienti"),
])
def test_modal_frames_yield_a_duty_without_subject_or_modal(sentence: str, expected: str) -> None:
    assert texts(items_of("it", sentence), "duty") == [expected]


def test_modal_frames_of_other_people_yield_nothing() -> None:
    assert items_of("it", "I direttori possono approvare il budget annuale.") == []


@pytest.mark.parametrize("sentence, expected, subtype", [
    ("È richiesta esperienza di almeno 2 anni nel settore della ristorazione.",
     "esperienza di almeno 2 anni nel settore della ristorazione", "experience"),
    ("Costituisce titolo preferenziale la conoscenza della lingua tedesca.",
     "la conoscenza della lingua tedesca", "knowledge"),
    ("Il candidato deve possedere la patente di guida.", "la patente di guida", "education"),
    ("Hai maturato esperienza nella vendita al dettaglio.", "esperienza nella vendita al dettaglio", "experience"),
    ("La capacità di lavorare in team è fondamentale.", "La capacità di lavorare in team", "skill"),
])
def test_requirement_frames_and_heads_yield_skills_with_their_subtype(sentence: str, expected: str,
                                                                      subtype: str) -> None:
    skills = [item for item in items_of("it", sentence) if item.kind == "skill"]
    assert [(item.text, item.subtype) for item in skills] == [(expected, subtype)]


@pytest.mark.parametrize("sentence, expected", [
    ("Tra le sue mansioni rientrano accogliere i clienti, rifornire gli scaffali e gestire la cassa.",
     ["accogliere i clienti", "rifornire gli scaffali", "gestire la cassa"]),
    ("Tra le mansioni principali ci sono accogliere i clienti e gestire la cassa.",
     ["accogliere i clienti", "gestire la cassa"]),
    ("L'infermiera somministra i farmaci, controlla i parametri vitali e aggiorna la cartella clinica.",
     ["somministra i farmaci", "controlla i parametri vitali", "aggiorna la cartella clinica"]),
])
def test_enumerated_duties_become_one_item_each(sentence: str, expected: list[str]) -> None:
    assert texts(items_of("it", sentence), "duty") == expected


@pytest.mark.parametrize("sentence, expected", [
    ("Sei una persona precisa, puntuale e affidabile.", ["una persona precisa", "puntuale", "affidabile"]),
    ("Devi essere paziente e organizzato.", ["paziente", "organizzato"]),
])
def test_listed_traits_become_one_trait_each(sentence: str, expected: list[str]) -> None:
    found = items_of("it", sentence)
    assert texts(found) == expected
    assert {item.subtype for item in found} == {"trait"}


@pytest.mark.parametrize("lines, expected", [
    (["Mansioni:", "Registrare le fatture dei fornitori nel gestionale", "Gestione degli incassi e dei pagamenti",
      "Offriamo:", "Contratto a tempo indeterminato e buon ambiente di lavoro."],
     [("duty", "Registrare le fatture dei fornitori nel gestionale"),
      ("duty", "Gestione degli incassi e dei pagamenti")]),
    (["Requisiti:", "Patente B", "Persona precisa, affidabile e con spirito di iniziativa"],
     [("skill", "Patente B"), ("skill", "Persona precisa"), ("skill", "affidabile"),
      ("skill", "con spirito di iniziativa")]),
    (["Chi siamo", "Siamo una catena di hotel con dodici strutture in Toscana.",
      "Responsabilità", "Accogliere gli ospiti alla reception"],
     [("duty", "Accogliere gli ospiti alla reception")]),
])
def test_list_items_under_a_section_heading_take_the_heading_kind(lines: list[str],
                                                                 expected: list[tuple[str, str]]) -> None:
    assert [(item.kind, item.text) for item in items_of("it", *lines)] == expected


@pytest.mark.parametrize("sentence", [
    "Siamo un'azienda leader nel settore della logistica con oltre 500 dipendenti.",
    "L'azienda è stata fondata nel 1990 e ha sedi a Milano e Roma.",
    "Con oltre 20 anni di esperienza, la nostra azienda è un punto di riferimento nel settore.",
    "Lo stipendio medio di un magazziniere in Italia è di 1.400 euro al mese.",
    "Il coordinatore lavora come collegamento tra i reparti.",
])
def test_company_descriptions_role_names_and_career_talk_yield_nothing(sentence: str) -> None:
    assert items_of("it", sentence) == []
