"""French duty and skill extraction (rules only, ``ingest/lang/fr.json``): frames, subtypes, lists, sections."""
from __future__ import annotations

import pytest

from extract_helpers import items_of, texts


@pytest.mark.parametrize("sentence, expected", [
    ("Vous serez responsable de la gestion des plannings.", ["la gestion des plannings"]),
    ("Vous êtes chargé de l'accueil des clients.", ["l'accueil des clients"]),
    ("Le poste consiste aussi à préparer les dossiers d'appels d'offres.", ["préparer les dossiers d'appels d'offres"]),
    ("Il a pour mission d'organiser les réunions de service.", ["organiser les réunions de service"]),
    ("L'aide-soignant peut aussi être chargé de la désinfection du matériel.", ["la désinfection du matériel"]),
])
def test_responsibility_frames_yield_the_duty_after_them(sentence: str, expected: list[str]) -> None:
    assert texts(items_of("fr", sentence), "duty") == expected


@pytest.mark.parametrize("sentence, expected", [
    ("L'assistante peut préparer les contrats des clients.", ["préparer les contrats des clients"]),
    ("Vous devrez également saisir les factures fournisseurs.", ["saisir les factures fournisseurs"]),
    ("Au quotidien, vous serez amené à rédiger des courriers.", ["rédiger des courriers"]),
    ("Les directeurs peuvent approuver le budget annuel.", []),  # a modal of other people states no duty
])
def test_modal_frames_yield_a_duty_of_the_role_only(sentence: str, expected: list[str]) -> None:
    assert texts(items_of("fr", sentence)) == expected


@pytest.mark.parametrize("sentence, expected, subtype", [
    ("Le poste requiert un diplôme d'infirmier.", "un diplôme d'infirmier", "education"),
    ("Vous justifiez d'une expérience de deux ans dans la vente.", "une expérience de deux ans dans la vente",
     "experience"),
    ("Une connaissance du logiciel Sage serait un plus.", "Une connaissance du logiciel Sage", "knowledge"),
    ("La maîtrise du Pack Office est indispensable.", "La maîtrise du Pack Office", "skill"),
    ("Le métier exige une grande disponibilité.", "une grande disponibilité", "trait"),
    ("Le permis B est obligatoire.", "Le permis B", "education"),
])
def test_requirement_frames_and_heads_yield_skills_with_their_subtype(sentence: str, expected: str,
                                                                      subtype: str) -> None:
    skills = [item for item in items_of("fr", sentence) if item.kind == "skill"]
    assert [(item.text, item.subtype) for item in skills] == [(expected, subtype)]


@pytest.mark.parametrize("sentence, expected", [
    ("Vous assurerez la gestion des agendas, l'organisation des réunions et la rédaction des comptes rendus.",
     ["la gestion des agendas", "l'organisation des réunions", "la rédaction des comptes rendus"]),
    ("Vous devrez saisir les factures, relancer les impayés et mettre à jour les tableaux de bord.",
     ["saisir les factures", "relancer les impayés", "mettre à jour les tableaux de bord"]),
    ("Elle vérifie les factures, prépare les paiements et tient la comptabilité.",
     ["vérifie les factures", "prépare les paiements", "tient la comptabilité"]),
    ("Le cuisinier prépare les entrées, les plats et les desserts.", ["prépare les entrées, les plats et les desserts"]),
])
def test_enumerated_duties_become_one_item_each_unless_they_share_the_verb(sentence: str,
                                                                          expected: list[str]) -> None:
    assert texts(items_of("fr", sentence), "duty") == expected


def test_listed_traits_become_one_trait_each() -> None:
    found = items_of("fr", "Vous êtes organisé, discret et rigoureux.")
    assert texts(found) == ["organisé", "discret", "rigoureux"]
    assert {item.subtype for item in found} == {"trait"}


@pytest.mark.parametrize("lines, expected", [
    (["Vos missions :", "Accueillir les clients", "Gestion des stocks et réception des livraisons",
      "Nous offrons une mutuelle."],
     [("duty", "Accueillir les clients"), ("duty", "Gestion des stocks"), ("duty", "réception des livraisons")]),
    (["Les missions de l'aide-soignant", "- Refaire les lits et entretenir les chambres",
      "- Participer à l'accueil des familles"],
     [("duty", "Refaire les lits"), ("duty", "entretenir les chambres"), ("duty", "Participer à l'accueil des familles")]),
    (["Profil recherché", "- Permis B", "- Patience, écoute et sens du contact"],
     [("skill", "Permis B"), ("skill", "Patience"), ("skill", "écoute"), ("skill", "sens du contact")]),
])
def test_list_items_under_a_section_heading_take_the_heading_kind(lines: list[str],
                                                                 expected: list[tuple[str, str]]) -> None:
    assert [(item.kind, item.text) for item in items_of("fr", *lines)] == expected


@pytest.mark.parametrize("sentence", [
    "Fondée en 1998, notre entreprise compte 65 salariés à Lyon.",
    "Qui sommes-nous ? Leader de la distribution, nous comptons 300 magasins en France.",
    "Nous proposons un CDI, une mutuelle et des tickets restaurant.",
    "Salaire : un débutant gagne environ 1 800 euros brut par mois.",
    "Si vous voulez devenir aide-soignant, vous devez suivre une formation d'un an.",
    "Aucun diplôme n'est exigé.",
    "L'infirmier exerce en milieu hospitalier ou en libéral.",
])
def test_company_descriptions_offers_and_advice_yield_nothing(sentence: str) -> None:
    assert items_of("fr", sentence) == []


@pytest.mark.parametrize("sentence, expected", [
    ("Il accompagne les patients dans les gestes de la vie quotidienne.",
     ["accompagne les patients dans les gestes de la vie quotidienne"]),
    ("Le technicien effectue la maintenance des équipements et rédige les rapports d'intervention.",
     ["effectue la maintenance des équipements", "rédige les rapports d'intervention"]),
    ("Vous travaillez avec le chef de cuisine et vous participez à l'élaboration des menus.",
     ["travaillez avec le chef de cuisine", "participez à l'élaboration des menus"]),
])
def test_role_subject_with_present_tense_verb_yields_the_verb_phrases(sentence: str, expected: list[str]) -> None:
    assert texts(items_of("fr", sentence), "duty") == expected


def test_a_leading_qualification_and_the_clause_after_it_yield_one_skill_each() -> None:
    found = items_of("fr", "Titulaire d'un BTS comptabilité, vous justifiez d'une expérience de trois ans.")
    assert [(item.text, item.subtype) for item in found] == [("un BTS comptabilité", "education"),
                                                            ("une expérience de trois ans", "experience")]
