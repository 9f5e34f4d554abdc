"""Duty and skill extraction: rule families per language, enumerations, offsets, subtypes, end to end."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.extract.candidates import _article_candidates, list_head_endings
from ingest.extract.extractor import _merge_non_duties, extract
from kb.records import Item
from extract_helpers import article_sentences, items_of, sentences_of, texts

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "dev"


@pytest.mark.parametrize("lang, sentence, expected", [
    ("sv", "Som sjuksköterska ansvarar du för omvårdnaden av patienter.", "omvårdnaden av patienter"),
    ("sv", "Koordinatorer kan vara ansvariga för att hantera konferenser.", "hantera konferenser"),
    ("pl", "Kierownik odpowiada także za planowanie grafiku pracy.", "planowanie grafiku pracy"),
    ("vi", "Trưởng nhóm chịu trách nhiệm quản lý ngân sách dự án.", "quản lý ngân sách dự án"),
    ("en", "The assistant is responsible for booking travel.", "booking travel"),
])
def test_responsibility_frames_yield_the_duty_after_them(lang: str, sentence: str, expected: str) -> None:
    assert texts(items_of(lang, sentence), "duty") == [expected]


@pytest.mark.parametrize("lang, sentence, expected", [
    ("sv", "Du kommer att besvara frågor från kunder.", "besvara frågor från kunder"),
    ("pl", "Asystent może przygotowywać umowy z klientami.", "przygotowywać umowy z klientami"),
    ("vi", "Nhân viên sẽ kiểm tra hàng hóa trong kho.", "kiểm tra hàng hóa trong kho"),
    ("en", "The clerk will file incoming invoices.", "file incoming invoices"),
])
def test_modal_verb_frames_yield_a_duty_without_subject_or_modal(lang: str, sentence: str, expected: str) -> None:
    assert texts(items_of(lang, sentence), "duty") == [expected]


@pytest.mark.parametrize("lang, sentence, expected, subtype", [
    ("sv", "Tjänsten kräver erfarenhet av ekonomiarbete.", "erfarenhet av ekonomiarbete", "experience"),
    ("sv", "De flesta har en kandidatexamen i företagsekonomi.", "en kandidatexamen i företagsekonomi", "education"),
    ("pl", "Wymagamy doświadczenia w sprzedaży.", "doświadczenia w sprzedaży", "experience"),
    ("pl", "Przydatna jest znajomość języka niemieckiego.", "znajomość języka niemieckiego", "knowledge"),
    ("vi", "Yêu cầu kinh nghiệm quản lý kho.", "kinh nghiệm quản lý kho", "experience"),
    ("vi", "Kỹ năng lãnh đạo cũng rất quan trọng.", "Kỹ năng lãnh đạo cũng rất quan trọng", "skill"),
    ("en", "The job requires a degree in nursing.", "a degree in nursing", "education"),
    ("en", "Knowledge of employment law is essential.", "Knowledge of employment law", "knowledge"),
])
def test_requirement_frames_and_heads_yield_skills_with_their_subtype(lang: str, sentence: str, expected: str,
                                                                      subtype: str) -> None:
    skills = [item for item in items_of(lang, sentence) if item.kind == "skill"]
    assert [(item.text, item.subtype) for item in skills] == [(expected, subtype)]


@pytest.mark.parametrize("lang, sentence, expected", [
    ("sv", "Analys- och dokumentationserfaring inkluderar uppgifter som att intervjua personal, skapa "
           "flödesscheman, bestämma processineffektivitet och skriva processmanualer.",
     ["intervjua personal", "skapa flödesscheman", "bestämma processineffektivitet", "skriva processmanualer"]),
    ("pl", "Do obowiązków należy przyjmowanie towaru, kompletowanie zamówień i obsługa klientów.",
     ["przyjmowanie towaru", "kompletowanie zamówień", "obsługa klientów"]),
    ("vi", "Nhân viên chịu trách nhiệm nhập hàng, kiểm kê kho và giao hàng cho khách.",
     ["nhập hàng", "kiểm kê kho", "giao hàng cho khách"]),
    ("en", "Duties include answering phones, filing documents and ordering office supplies.",
     ["answering phones", "filing documents", "ordering office supplies"]),
])
def test_enumerated_duties_become_one_item_each(lang: str, sentence: str, expected: list[str]) -> None:
    assert texts(items_of(lang, sentence), "duty") == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("sv", "Koordinatorn ska samarbeta med läkare, sjuksköterskor och kuratorer.",
     ["samarbeta med läkare, sjuksköterskor och kuratorer"]),
    ("en", "You will design, build and maintain backend services.", ["design, build and maintain backend services"]),
    ("pl", "Specjaliści mogą oszacować koszty spotkania, konferencji lub wydarzenia.",
     ["oszacować koszty spotkania, konferencji lub wydarzenia"]),
])
def test_shared_objects_and_heads_keep_an_enumeration_in_one_item(lang: str, sentence: str,
                                                                 expected: list[str]) -> None:
    assert texts(items_of(lang, sentence)) == expected


@pytest.mark.parametrize("lang, lines, expected", [
    ("sv", ["Arbetsuppgifter:", "Baka bröd och servera varma och kalla drycker"],
     ["Baka bröd", "servera varma och kalla drycker"]),
    ("es", ["Funciones:", "Revisar pedidos y albaranes de proveedores"], ["Revisar pedidos y albaranes de proveedores"]),
    ("en", ["Responsibilities:", "Write user and admin guides for the product"],
     ["Write user and admin guides for the product"]),
    ("vi", ["Nhiệm vụ:", "Tiếp nhận và xử lý đơn hàng của khách"], ["Tiếp nhận và xử lý đơn hàng của khách"]),
])
def test_objects_joined_by_a_conjunction_share_the_verb_before_them(lang: str, lines: list[str],
                                                                   expected: list[str]) -> None:
    assert texts(items_of(lang, *lines), "duty") == expected


@pytest.mark.parametrize("lang, lines, expected", [
    ("cs", ["Náplň práce:", "Pravidelné mazání a čištění strojů"], ["Pravidelné mazání a čištění strojů"]),
    ("pl", ["Obowiązki:", "Codzienne sprawdzanie i uzupełnianie dokumentacji"],
     ["Codzienne sprawdzanie i uzupełnianie dokumentacji"]),
])
def test_an_action_noun_with_one_modifier_shares_the_object_after_the_next_one(lang: str, lines: list[str],
                                                                                expected: list[str]) -> None:
    assert texts(items_of(lang, *lines), "duty") == expected


@pytest.mark.parametrize("lang, lines, expected", [
    ("en", ["Requirements:", "A degree in economics, preferably from a business school"],
     ["A degree in economics, preferably from a business school"]),
    ("sv", ["Krav:", "Gymnasieutbildning, gärna med inriktning mot restaurang"],
     ["Gymnasieutbildning, gärna med inriktning mot restaurang"]),
    ("da", ["Krav:", "En relevant uddannelse, gerne som elektriker"], ["En relevant uddannelse, gerne som elektriker"]),
    ("nb", ["Kvalifikasjoner:", "Fagbrev, helst som kokk"], ["Fagbrev, helst som kokk"]),
    ("de", ["Sie haben eine abgeschlossene Ausbildung, vorzugsweise im Bereich Logistik."],
     ["eine abgeschlossene Ausbildung, vorzugsweise im Bereich Logistik"]),
    ("nl", ["Wat vragen wij?", "Een hbo-diploma, bij voorkeur in de richting bedrijfskunde"],
     ["Een hbo-diploma, bij voorkeur in de richting bedrijfskunde"]),
    ("fr", ["Profil :", "Un diplôme de niveau bac+2, idéalement en comptabilité"],
     ["Un diplôme de niveau bac+2, idéalement en comptabilité"]),
    ("es", ["Requisitos:", "Formación profesional, preferiblemente en administración"],
     ["Formación profesional, preferiblemente en administración"]),
    ("it", ["Requisiti:", "Diploma di scuola superiore, preferibilmente in ragioneria"],
     ["Diploma di scuola superiore, preferibilmente in ragioneria"]),
    ("pt", ["Requisitos:", "Licenciatura em Contabilidade, preferencialmente com mestrado"],
     ["Licenciatura em Contabilidade, preferencialmente com mestrado"]),
    ("pl", ["Wymagania:", "Wykształcenie średnie, najlepiej techniczne"], ["Wykształcenie średnie, najlepiej techniczne"]),
    ("cs", ["Požadujeme:", "Výuční list, nejlépe v oboru automechanik"], ["Výuční list, nejlépe v oboru automechanik"]),
    ("ru", ["Требования:", "Высшее образование, желательно экономическое"], ["Высшее образование, желательно экономическое"]),
    ("vi", ["Yêu cầu:", "Tốt nghiệp đại học, ưu tiên chuyên ngành kế toán"],
     ["Tốt nghiệp đại học, ưu tiên chuyên ngành kế toán"]),
    # a hedge that names a skill of another kind is an item of its own
    ("en", ["Requirements:", "A degree in economics, ideally experience in retail"],
     ["A degree in economics", "experience in retail"]),
    ("ru", ["Требования:", "Высшее образование, желательно опыт работы в закупках"],
     ["Высшее образование", "опыт работы в закупках"]),
])
def test_a_hedge_of_preference_after_a_comma_narrows_the_item_before_it(lang: str, lines: list[str],
                                                                       expected: list[str]) -> None:
    assert texts(items_of(lang, *lines)) == expected


@pytest.mark.parametrize("lang, lines, expected", [
    ("nl", ["Je bent verantwoordelijk voor een schone en veilige werkplek."], ["een schone en veilige werkplek"]),
    ("en", ["You are responsible for a clean and safe warehouse."], ["a clean and safe warehouse"]),
    ("de", ["Aufgaben:", "Die schriftliche und mündliche Kommunikation mit Kunden"],
     ["Die schriftliche und mündliche Kommunikation mit Kunden"]),
    ("fr", ["Vous êtes responsable de l'accueil téléphonique et physique des visiteurs."],
     ["l'accueil téléphonique et physique des visiteurs"]),
    ("es", ["Funciones:", "La atención telefónica y presencial de los clientes"],
     ["La atención telefónica y presencial de los clientes"]),
    ("it", ["Mansioni:", "La gestione amministrativa e contabile dei fornitori"],
     ["La gestione amministrativa e contabile dei fornitori"]),
    # each conjunct with its own article is an item of its own
    ("nl", ["Je bent verantwoordelijk voor de planning en de administratie."], ["de planning", "de administratie"]),
])
def test_coordinated_modifiers_of_one_noun_stay_one_item(lang: str, lines: list[str], expected: list[str]) -> None:
    assert texts(items_of(lang, *lines), "duty") == expected


@pytest.mark.parametrize("lang, lines, expected", [
    ("ru", ["Требования:", "Знание программы 1С:Бухгалтерия"], [("skill", "Знание программы 1С:Бухгалтерия")]),
    ("cs", ["Jste pečlivý a spolehlivý?", "Požadujeme:", "řidičský průkaz skupiny B"],
     [("skill", "pečlivý"), ("skill", "spolehlivý"), ("skill", "řidičský průkaz skupiny B")]),
])
def test_a_colon_inside_a_name_and_a_question_to_the_reader_open_no_section(lang: str, lines: list[str],
                                                                          expected: list[tuple[str, str]]) -> None:
    assert [(item.kind, item.text) for item in items_of(lang, *lines)] == expected


@pytest.mark.parametrize("lang, lines, expected", [
    ("en", ["Requirements:", "Design and build REST APIs"], ["Design and build REST APIs"]),
    ("sv", ["Krav:", "Boka och samordna resor"], ["Boka och samordna resor"]),
    ("sv", ["Vi söker dig som", "talar och skriver svenska"], ["talar och skriver svenska"]),
])
def test_a_lone_verb_in_a_skill_list_shares_the_next_verbs_object(lang: str, lines: list[str],
                                                                  expected: list[str]) -> None:
    assert texts(items_of(lang, *lines), "skill") == expected


def article_items(lang: str, text: str) -> list[tuple[str, str]]:
    """Rules-only (kind, text) items of an article text, with its layout known to the extractor."""
    return [(item.kind, item.text) for item in extract(article_sentences(lang, text), texts={"doc": text})]


def test_a_bullet_that_starts_with_a_cue_stays_in_its_section() -> None:
    text = "Lagerarbetare\n\nVi söker dig som\n- har truckkort A och B\n- är noggrann, punktlig och flexibel\n"
    assert article_items("sv", text) == [("skill", "truckkort A och B"), ("skill", "noggrann"), ("skill", "punktlig"),
                                         ("skill", "flexibel")]


def test_a_sentence_that_opens_with_its_own_heading_takes_its_kind() -> None:
    text = "Lagerarbetare\n\nKrav: körkort B och minst två års erfarenhet av lagerarbete.\n"
    assert article_items("sv", text) == [("skill", "körkort B"), ("skill", "två års erfarenhet av lagerarbete")]


def test_a_paragraph_under_a_duty_heading_is_read_by_the_rules() -> None:
    text = ("Lagerarbetare\n\nOm tjänsten\nSom lagerarbetare packar du order och kontrollerar leveranser mot "
            "följesedlar.\n- Ta emot gods\n")
    assert article_items("sv", text) == [("duty", "packar du order"), ("duty", "kontrollerar leveranser mot följesedlar"),
                                         ("duty", "Ta emot gods")]


@pytest.mark.parametrize("lang, lines, expected", [
    ("en", ["Responsibilities:", "Review invoices and fix billing errors"], ["Review invoices", "fix billing errors"]),
    ("es", ["El técnico se encarga de revisar los equipos y de reparar las averías."],
     ["revisar los equipos", "reparar las averías"]),
    ("fr", ["Missions :", "Accueillir les clients et les orienter vers le bon service"],
     ["Accueillir les clients", "les orienter vers le bon service"]),
])
def test_a_verb_after_a_conjunction_still_starts_a_new_duty(lang: str, lines: list[str], expected: list[str]) -> None:
    assert texts(items_of(lang, *lines), "duty") == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("sv", "Du är noggrann, flexibel och stresstålig.", ["noggrann", "flexibel", "stresstålig"]),
    ("en", "You are patient, friendly and reliable.", ["patient", "friendly", "reliable"]),
    ("pl", "Nauczyciel powinien być cierpliwy i komunikatywny.", ["cierpliwy", "komunikatywny"]),
])
def test_listed_traits_become_one_trait_each(lang: str, sentence: str, expected: list[str]) -> None:
    found = items_of(lang, sentence)
    assert texts(found) == expected
    assert {item.subtype for item in found} == {"trait"}


@pytest.mark.parametrize("lang, sentence", [
    ("sv", "Företaget grundades 1990 och har 200 anställda i Göteborg."),
    ("sv", "Det finns flera karriärvägar och metoder för att bli en processkoordinator."),
    ("pl", "Firma działa na rynku od 20 lat i ma biura w Krakowie."),
    ("vi", "Công ty được thành lập năm 2010 tại Hà Nội."),
    ("en", "Our company was founded in 2001 and has offices in Oslo."),
    ("en", "The Bureau of Labor Statistics projects employment to grow."),
])
def test_company_descriptions_and_career_advice_yield_nothing(lang: str, sentence: str) -> None:
    assert items_of(lang, sentence) == []


@pytest.mark.parametrize("lang, lines, expected", [
    ("sv", ["Arbetsuppgifter:", "Boka möten åt ledningen", "Svara i telefon", "Vi erbjuder friskvårdsbidrag."],
     [("duty", "Boka möten åt ledningen"), ("duty", "Svara i telefon")]),
    ("pl", ["Wymagania:", "prawo jazdy kat. B,", "sumienność i dokładność."],
     [("skill", "prawo jazdy kat. B"), ("skill", "sumienność"), ("skill", "dokładność")]),
    ("en", ["Responsibilities", "Monitor production systems", "About us", "We build tools for hospitals."],
     [("duty", "Monitor production systems")]),
])
def test_list_items_under_a_section_heading_take_the_heading_kind(lang: str, lines: list[str],
                                                                 expected: list[tuple[str, str]]) -> None:
    assert [(item.kind, item.text) for item in items_of(lang, *lines)] == expected


def test_item_offsets_slice_back_to_the_item_text_in_the_article() -> None:
    article, sentences = sentences_of("sv", "Företaget har 50 anställda.",
                                      "Du kommer att administrera läkemedel och dokumentera i journalen.",
                                      "Vi söker dig som har erfarenhet av akutsjukvård.")
    found = list(extract(sentences))
    assert len(found) == 3
    for item in found:
        assert article[item.start:item.end] == item.text
        assert 0.0 <= item.confidence <= 1.0 and item.source.startswith("rule:sv:")


def test_language_without_data_file_yields_no_rule_items_and_does_not_fail() -> None:
    assert items_of("fi", "Hän vastaa laitteiden huollosta ja korjauksista.") == []


def test_development_gold_offsets_slice_back_to_their_text() -> None:
    prose = ROOT / "tests" / "data" / "prose"
    assert len(list((prose / "gold").glob("*.json"))) == len(list((prose / "articles").glob("*.txt"))) == 10
    for path in sorted((DEV / "gold").glob("*.json")) + sorted((prose / "gold").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        text = (ROOT / record["path"]).read_text(encoding="utf-8-sig")
        for item in record["items"]:
            assert text[item["start"]:item["end"]] == item["text"], (path.name, item["text"])
            assert item["kind"] in ("duty", "skill")


@pytest.fixture(scope="module")
def corpus_items() -> dict[str, list[Item]]:
    """Items of three corpus articles through the real stages and the real e5 embedder."""
    from ingest.language import detect, detect_sentences
    from ingest.read import read
    from ingest.sentences import split
    from kb.embedding.embedders import open_embedder

    paths = [ROOT / "corpus" / name for name in
             ("002_5df17db3aa96b6b9.txt", "003_7fe56a1790d248dd.txt", "004_fd08960ed22fac1b.txt")]
    articles = list(detect(read(paths)))
    titles = {article.doc_id: article.title for article in articles}
    found = list(extract(detect_sentences(split(articles)), open_embedder("e5"), titles, method="rules"))
    return {prefix: [item for item in found if item.doc_id.startswith(prefix)] for prefix in ("002", "003", "004")}


@pytest.mark.parametrize("doc, expected", [
    ("003", "intervjua personal"), ("003", "skapa flödesscheman"), ("003", "skriva processmanualer"),
    ("004", "oszacować koszty spotkania"), ("002", "giữ các hồ sơ chính xác"), ("002", "kỹ năng lãnh đạo"),
])
def test_corpus_articles_yield_their_duties_and_skills(corpus_items: dict[str, list[Item]], doc: str,
                                                       expected: str) -> None:
    assert any(expected in item.text for item in corpus_items[doc]), texts(corpus_items[doc])


@pytest.mark.parametrize("lang, sentence, expected", [
    ("sv", "En kock tillagar mat i restaurangens kök.", ["tillagar mat i restaurangens kök"]),
    ("pl", "Nauczyciel prowadzi lekcje w szkole podstawowej.", ["prowadzi lekcje w szkole podstawowej"]),
    ("vi", "Anh ta tổ chức các cuộc họp với khách hàng.", ["tổ chức các cuộc họp với khách hàng"]),
    ("en", "She prepares monthly payroll reports.", ["prepares monthly payroll reports"]),
])
def test_role_subject_with_present_tense_verb_yields_the_verb_phrase(lang: str, sentence: str,
                                                                     expected: list[str]) -> None:
    assert texts(items_of(lang, sentence), "duty") == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("pl", "Często sporządza deklaracje podatkowe dla klientów.", ["sporządza deklaracje podatkowe dla klientów"]),
    ("pl", "Również wystawia faktury i prowadzi kasę.", ["wystawia faktury", "prowadzi kasę"]),
    ("pl", "Od lat obsługujemy sieci handlowe.", []),  # the company speaks, in the first person
    ("pl", "Przyjmują zgłoszenia przez całą dobę.", []),  # a plural has a subject of its own
    ("pl", "Nasi pracownicy korzystają z prywatnej opieki medycznej.", []),  # the employer's staff
    ("pl", "Wiele osób wybiera go z powołania.", []),  # "go" stands for the job, as object
    ("pl", "Sprawdza faktury, zanim je zatwierdzi.", ["Sprawdza faktury"]),  # a clause of its own after "zanim"
])
def test_a_clause_opened_by_a_third_person_verb_keeps_the_role_as_its_dropped_subject(
        lang: str, sentence: str, expected: list[str]) -> None:
    assert texts(items_of(lang, sentence), "duty") == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("pl", "Kierownik zajmuje się również obsługą reklamacji.", ["obsługą reklamacji"]),
    ("pl", "Nasza firma zajmuje się dystrybucją leków.", []),
    ("pl", "Koordynator jest planistą, który specjalizuje się w logistyce konferencji.", ["logistyce konferencji"]),
    ("pl", "Może pracować nad wydarzeniami, które mają miejsce w dziale.",
     ["pracować nad wydarzeniami, które mają miejsce w dziale"]),
    ("pl", "To jest część tego, co koordynatorzy mogą potrzebować.", []),
])
def test_engage_frames_ask_for_the_role_as_subject_and_relative_clauses_stay_in_the_object(
        lang: str, sentence: str, expected: list[str]) -> None:
    assert texts(items_of(lang, sentence), "duty") == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("sv", "Koordinatorn hanterar scheman, ordnar transport och hotellrum för resor och screenar inkommande samtal.",
     ["hanterar scheman", "ordnar transport och hotellrum för resor", "screenar inkommande samtal"]),
    ("pl", "Magazynier przyjmuje towar, kompletuje zamówienia według listy i obsługuje wózek widłowy.",
     ["przyjmuje towar", "kompletuje zamówienia według listy", "obsługuje wózek widłowy"]),
    ("vi", "Kế toán viên kiểm tra chứng từ và lập báo cáo thuế.", ["kiểm tra chứng từ", "lập báo cáo thuế"]),
    ("en", "The nurse monitors patients, administers medication and updates records.",
     ["monitors patients", "administers medication", "updates records"]),
])
def test_coordinated_verb_phrases_split_before_each_verb(lang: str, sentence: str, expected: list[str]) -> None:
    assert texts(items_of(lang, sentence), "duty") == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("sv", "Assistenten kan även fungera som receptionist, sköta flera uppgifter som bokar möten, "
           "beställer kaffe och kontorsmaterial och besvarar samtal.",
     ["bokar möten", "beställer kaffe och kontorsmaterial", "besvarar samtal"]),
    ("pl", "Asystentka może pełnić wiele zadań, które obejmują rezerwację sal i odbieranie telefonów.", None),
])
def test_a_relative_clause_after_a_word_for_tasks_lists_the_duties(lang: str, sentence: str,
                                                                  expected: list[str] | None) -> None:
    found = texts(items_of(lang, sentence), "duty")
    if expected is None:  # the vague "many tasks" phrase is never a duty of its own
        assert found and not any(text.endswith(("zadań", "zadania")) for text in found)
    else:
        assert found == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("sv", "Assistenten kommer att boka möten och resor för chefen, beställa material och svara på samtal.",
     ["boka möten och resor för chefen", "beställa material", "svara på samtal"]),
    ("en", "The assistant will book meetings and trips for the director, order supplies and answer calls.",
     ["book meetings and trips for the director", "order supplies", "answer calls"]),
    ("pl", "Asystentka będzie rezerwować sale i bilety dla dyrektora, zamawiać materiały i odbierać telefony.",
     ["rezerwować sale i bilety dla dyrektora", "zamawiać materiały", "odbierać telefony"]),
])
def test_a_list_of_infinitive_duties_splits_before_each_verb_only(lang: str, sentence: str,
                                                                 expected: list[str]) -> None:
    assert texts(items_of(lang, sentence), "duty") == expected


@pytest.mark.parametrize("lang, sentence", [
    ("pl", "Nie wymagamy doświadczenia w sprzedaży."),
    ("vi", "Không yêu cầu kinh nghiệm làm việc."),
    ("en", "The job does not require a degree."),
    ("sv", "Tjänsten kräver inte körkort."),
    ("de", "Ein Führerschein ist nicht erforderlich."),
    ("pl", "Prawo jazdy nie jest wymagane."),
    ("en", "A degree is not required."),
])
def test_a_negated_requirement_asks_for_nothing(lang: str, sentence: str) -> None:
    assert items_of(lang, sentence) == []


@pytest.mark.parametrize("lang, lines, expected", [
    ("fr", ["Quelles sont ses missions ?", "- Accueillir les patients", "- Préparer les repas"],
     ["Accueillir les patients", "Préparer les repas"]),
    ("en", ["What are the responsibilities?", "- Answer phones", "- File documents"], ["Answer phones", "File documents"]),
])
def test_a_question_heading_opens_a_list_section(lang: str, lines: list[str], expected: list[str]) -> None:
    assert texts(items_of(lang, *lines), "duty") == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("de", "Gute Deutschkenntnisse (mind. B2) sind erforderlich.", ["Gute Deutschkenntnisse (mind. B2)"]),
    ("en", "You need a driving licence (category B) and experience in logistics.",
     ["a driving licence (category B)", "experience in logistics"]),
])
def test_a_short_bracketed_aside_stays_inside_its_item(lang: str, sentence: str, expected: list[str]) -> None:
    assert texts(items_of(lang, sentence), "skill") == expected


@pytest.mark.parametrize("lang, sentence, kind, expected", [
    ("fr", "Vous serez responsable de la gestion des stocks, de l'organisation des réunions et de la rédaction "
           "des comptes rendus.", "duty",
     ["la gestion des stocks", "l'organisation des réunions", "la rédaction des comptes rendus"]),
    ("en", "Duties include the preparation of invoices and the booking of travel.", "duty",
     ["the preparation of invoices", "the booking of travel"]),
    ("es", "Se requiere formación en Turismo y experiencia mínima de dos años.", "skill",
     ["formación en Turismo", "experiencia mínima de dos años"]),
    ("sv", "Vi kräver kunskap om livsmedelshygien och allergener.", "skill", ["kunskap om livsmedelshygien och allergener"]),
])
def test_action_nouns_after_determiners_and_new_skill_words_start_new_items(lang: str, sentence: str, kind: str,
                                                                           expected: list[str]) -> None:
    assert texts(items_of(lang, sentence), kind) == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("sv", "Vi söker dig med IT-utbildning och B-körkort.", ["IT-utbildning", "B-körkort"]),
    ("de", "Sie haben eine IT-Ausbildung.", ["eine IT-Ausbildung"]),
])
def test_hyphenated_compounds_end_in_a_skill_head(lang: str, sentence: str, expected: list[str]) -> None:
    assert texts(items_of(lang, sentence), "skill") == expected


@pytest.mark.parametrize("lang, sentence, kind", [
    ("pl", "Doświadczenie w sprzedaży jest mile widziane.", "skill"),
    ("de", "Erfahrung im Vertrieb ist wünschenswert.", "skill"),
    ("es", "Atender llamadas y gestionar la agenda son habilidades necesarias.", "duty"),
])
def test_a_skill_word_subject_stays_a_skill_and_duty_verbs_make_activities(lang: str, sentence: str,
                                                                           kind: str) -> None:
    found = items_of(lang, sentence)
    assert found and {item.kind for item in found} == {kind}


@pytest.mark.parametrize("lang, sentence, expected", [
    ("pl", "Koordynator może współpracować z personelem odpowiedzialnym za sprzątanie sali.",
     "współpracować z personelem odpowiedzialnym za sprzątanie sali"),
    ("sv", "Samordnaren kan kontakta personal ansvarig för städningen.", "kontakta personal ansvarig för städningen"),
    ("en", "The assistant will contact the staff responsible for cleaning the rooms.",
     "contact the staff responsible for cleaning the rooms"),
    ("vi", "Trưởng nhóm sẽ quyết định các mục tiêu có thể đạt được cho nhóm.",
     "quyết định các mục tiêu có thể đạt được cho nhóm"),
    ("vi", "Trưởng nhóm quyết định các mục tiêu có thể đạt được cho nhóm.",
     "quyết định các mục tiêu có thể đạt được cho nhóm"),
])
def test_a_cue_that_modifies_the_object_of_a_duty_stays_inside_it(lang: str, sentence: str, expected: str) -> None:
    assert texts(items_of(lang, sentence), "duty") == [expected]


@pytest.mark.parametrize("lang, sentence, expected", [
    ("vi", "Nhân viên sẽ theo dõi họ để đạt được các mục tiêu của nhóm.",
     "theo dõi họ để đạt được các mục tiêu của nhóm"),
    ("sv", "Du kommer att följa upp dem för att säkerställa kvaliteten.",
     "följa upp dem för att säkerställa kvaliteten"),
    ("sv", "Du kommer att planera måltider för att säkerställa kvaliteten.", "planera måltider"),
])
def test_a_purpose_clause_stays_only_when_the_duty_is_vague_without_it(lang: str, sentence: str,
                                                                      expected: str) -> None:
    assert texts(items_of(lang, sentence), "duty") == [expected]


@pytest.mark.parametrize("lang, sentence", [
    ("sv", "Ledande befattningshavare måste kunna granska ett flödesschema."),
    ("pl", "Dyrektorzy mogą zatwierdzać budżet firmy."),
    ("vi", "Giám đốc có thể phê duyệt ngân sách của công ty."),
    ("en", "Executives must approve the annual budget."),
])
def test_modal_frames_of_other_people_yield_nothing(lang: str, sentence: str) -> None:
    assert items_of(lang, sentence) == []


@pytest.mark.parametrize("lang, sentence", [
    ("sv", "Om du vill bli kock kan du börja som diskare på en restaurang."),
    ("pl", "Jeśli chcesz zostać nauczycielem, musisz zdobyć praktykę w szkole."),
    ("vi", "Nếu bạn muốn trở thành kế toán, bạn nên tham gia thực tập tại công ty."),
    ("en", "If you want to become a nurse, you should volunteer at a hospital."),
])
def test_career_advice_to_the_reader_yields_no_duties(lang: str, sentence: str) -> None:
    assert items_of(lang, sentence) == []


@pytest.mark.parametrize("lang, sentence, expected", [
    # a modal in a relative clause about the object belongs to the object: no item of its own, no cut
    ("pl", "Koordynator aktualizuje listę gości, którzy mogą uczestniczyć w spotkaniu.",
     ["aktualizuje listę gości, którzy mogą uczestniczyć w spotkaniu"]),
    ("en", "The coordinator updates the list of guests who may attend the meeting.",
     ["updates the list of guests who may attend the meeting"]),
    ("sv", "Koordinatorn fungerar som en länk mellan avdelningarna.", []),
    ("en", "The assistant serves as a link between departments.", []),
    ("sv", "Det finns ingen formell utbildning för yrket.", []),
])
def test_relative_clauses_role_names_and_negated_heads_add_no_items(lang: str, sentence: str,
                                                                    expected: list[str]) -> None:
    assert texts(items_of(lang, sentence)) == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("sv", "Att hantera researrangemang, koordinera möten med andra chefers assistenter och screeningsamtal är "
           "alla nödvändiga färdigheter för en assistent.",
     ["hantera researrangemang", "koordinera möten med andra chefers assistenter", "screeningsamtal"]),
    ("sv", "Att boka möten är en av de primära uppgifterna för en assistent.", ["boka möten"]),
    ("pl", "Oszacowanie kosztów i zakup są częścią pracy koordynatora.", ["Oszacowanie kosztów", "zakup"]),
    ("vi", "Lập kế hoạch và đặt phòng là các nhiệm vụ của điều phối viên.", ["Lập kế hoạch", "đặt phòng"]),
    ("en", "Booking travel and screening calls are all necessary skills for an assistant.",
     ["Booking travel", "screening calls"]),
])
def test_activities_listed_as_subject_of_a_predicate_are_duties(lang: str, sentence: str,
                                                                 expected: list[str]) -> None:
    items = items_of(lang, sentence)
    assert texts(items, "duty") == expected
    assert texts(items, "skill") == []  # the predicate's own head ("färdigheter") is no skill


@pytest.mark.parametrize("lang, sentence, expected", [
    ("sv", "Goda språkkunskaper är meriterande.", "Goda språkkunskaper"),
    ("sv", "Att lära sig olika ledningstekniker är nödvändigt.", "lära sig olika ledningstekniker"),
    ("en", "Knowledge of employment law is an essential skill.", "Knowledge of employment law"),
])
def test_skills_as_subject_of_a_skill_predicate_stay_skills(lang: str, sentence: str, expected: str) -> None:
    items = items_of(lang, sentence)
    assert texts(items, "skill") == [expected]
    assert texts(items, "duty") == []


@pytest.mark.parametrize("lang, sentence, expected", [
    ("pl", "Kolejnym aspektem koordynowania spotkań jest utrzymywanie ról obecności.", ["utrzymywanie ról obecności"]),
    ("pl", "Nauczyciel odpowiada za kontakt z rodzicami uczniów oraz prowadzenie dziennika elektronicznego.",
     ["kontakt z rodzicami uczniów", "prowadzenie dziennika elektronicznego"]),
    ("en", "Another duty is booking travel.", ["booking travel"]),
    ("pl", "Kolejnym aspektem pracy jest wysokie wynagrodzenie.", []),
    ("pl", "Wszystko to jest tylko częścią tego, co robią planiści.", []),
])
def test_verbal_nouns_head_duties_after_a_duty_predicate(lang: str, sentence: str, expected: list[str]) -> None:
    assert texts(items_of(lang, sentence), "duty") == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("sv", "Att skriva tydliga instruktioner är en färdighet som tar tid och övning att utveckla.", []),
    ("sv", "Dokumentationserfarenhet inkluderar uppgifter som att intervjua personal.", []),
    ("sv", "Det är viktigt att vara stresstålig, noggrann och kreativ.", ["stresstålig", "noggrann", "kreativ"]),
    ("sv", "Tjänsten kräver erfarenhet av ekonomiarbete.", ["erfarenhet av ekonomiarbete"]),
])
def test_skill_words_in_general_statements_are_no_requirements(lang: str, sentence: str,
                                                               expected: list[str]) -> None:
    assert texts(items_of(lang, sentence), "skill") == expected


def test_a_gender_ending_after_a_slash_keeps_the_role_as_subject() -> None:
    sentence = "Cerchiamo un/a magazziniere/a che si occuperà della ricezione della merce."
    assert texts(items_of("it", sentence), "duty") == ["ricezione della merce"]


@pytest.mark.parametrize("lang, lines, expected", [
    ("vi", ["Nhân viên phải được tổ chức cao và có một sự chú ý đến từng chi tiết."],
     [["skill", "tổ chức cao"], ["skill", "một sự chú ý đến từng chi tiết"]]),
    ("vi", ["Một nhân viên kế toán giỏi của công ty kiểm tra sổ sách hàng tuần."], [["duty", "kiểm tra sổ sách hàng tuần"]]),
    ("vi", ["Ứng viên nên tham gia các khóa học trong kế toán, quản lý hoặc tài chính."],
     [["skill", "tham gia các khóa học trong kế toán, quản lý hoặc tài chính"]]),
    ("vi", ["Họ cũng phải có khả năng làm việc với người khác và quản lý nhiều dự án cùng lúc."],
     [["skill", "khả năng làm việc với người khác"], ["skill", "quản lý nhiều dự án cùng lúc"]]),
    ("vi", ["Nhiệm vụ:", "Nhận đơn hàng qua điện thoại, email và các kênh trực tuyến."],
     [["duty", "Nhận đơn hàng qua điện thoại, email và các kênh trực tuyến"]]),
    ("vi", ["Nhân viên chịu trách nhiệm cho các báo cáo tháng, tùy thuộc vào quy mô công ty."],
     [["duty", "các báo cáo tháng"]]),
])
def test_vietnamese_conjunctions_subjects_and_tagged_verbs_shape_items(lang: str, lines: list[str],
                                                                      expected: list[list[str]]) -> None:
    """No item ends in a conjunction; a role subject spans words, not syllables; a noun that pyvi tags as a
    verb stays in a skill's object list after a comma, while a verb after "và" still starts a new skill."""
    assert [[item.kind, item.text] for item in items_of(lang, *lines)] == expected


def test_a_purpose_clause_is_no_item_of_its_own() -> None:
    lines = ["Nhiệm vụ:", "Phối hợp với bộ phận kho để kiểm tra hàng tồn."]
    assert texts(items_of("vi", *lines)) == ["Phối hợp với bộ phận kho"]


class _DutyProbability:
    """A classifier stand-in whose verdicts are their own duty probabilities."""

    def probability(self, verdict: float, kind: str) -> float:
        return verdict


def test_a_verb_phrase_the_rules_split_off_stays_a_duty_when_the_classifier_doubts_it() -> None:
    from ingest.extract.candidates import _article_candidates
    from ingest.extract.extractor import _merge_non_duties

    _, sentences = sentences_of("vi", "Nhiệm vụ:", "Kiểm tra chứng từ thu chi và hạch toán các nghiệp vụ kế toán.")
    candidate = next(c for c in _article_candidates(sentences) if c.region.source.endswith(":section"))
    verb_part, object_part = candidate.duty_parts[1], (candidate.duty_parts[1][0] + 2, candidate.duty_parts[1][1])
    first = candidate.duty_parts[0]
    kept = _merge_non_duties(candidate, [(first, 0.9), (verb_part, 0.3)], _DutyProbability())
    merged = _merge_non_duties(candidate, [(first, 0.9), (object_part, 0.3)], _DutyProbability())
    assert [part for part, _ in kept] == [first, verb_part]
    assert [part for part, _ in merged] == [(first[0], object_part[1])]


@pytest.mark.parametrize("lang, sentence, expected", [
    ("vi", "Chúng có thể bao gồm các lĩnh vực kế toán, kiểm toán hoặc thuế.", []),
    ("vi", "Báo cáo là các nhiệm vụ khác mà anh ta có thể hoàn thành hàng tuần.", [["duty", "Báo cáo"]]),
    ("vi", "Nhân viên chịu trách nhiệm cho các hoạt động và dự án.", [["duty", "các hoạt động và dự án"]]),
    ("vi", "Anh ta hướng dẫn nhân viên mới, kỹ năng giao tiếp cũng rất quan trọng.",
     [["duty", "hướng dẫn nhân viên mới"], ["skill", "kỹ năng giao tiếp cũng rất quan trọng"]]),
])
def test_vietnamese_subjects_relatives_one_word_nouns_and_skill_words_bound_duties(lang: str, sentence: str,
                                                                                  expected: list[list[str]]) -> None:
    """"chúng" (they, of things) is no subject for the role; a clause opened by a relative pronoun has the
    antecedent as its subject; a one-word noun after "và" shares the object before it; a skill word after a
    comma ends a duty."""
    assert [[item.kind, item.text] for item in items_of(lang, sentence)] == expected


def test_a_part_with_a_verb_of_its_own_joins_no_duty_before_it() -> None:
    class NoDuty:
        @staticmethod
        def probability(verdict: object, kind: str) -> float:
            return 0.0

    sentences = sentences_of("sv", "Du deltar i ronder och samarbetar med läkare.")[1]
    candidate = next(c for c in _article_candidates(sentences) if c.region.source.endswith(":role_verb"))
    merged = _merge_non_duties(candidate, [(part, None) for part in candidate.duty_parts], NoDuty())
    assert [candidate.text(*part) for part, _ in merged] == ["deltar i ronder", "samarbetar med läkare"]


@pytest.mark.parametrize("lang, sentence, expected", [
    ("vi", "Trưởng nhóm thực hiện nhiều nhiệm vụ khác nhau trong suốt tuần làm việc.", []),
    ("vi", "Anh ta xử lý những công việc đó cho trưởng phòng.", []),
    ("en", "The coordinator performs several key tasks during a typical day.", []),
    ("sv", "Som kock utför du olika arbetsuppgifter under dagen.", []),
    ("pl", "Magazynier wykonuje różne zadania w ciągu dnia.", []),
    ("de", "Der Elektriker erledigt verschiedene Aufgaben im Betrieb.", []),
    ("vi", "Kế toán viên thực hiện các nhiệm vụ kế toán của công ty.", ["thực hiện các nhiệm vụ kế toán của công ty"]),
    ("vi", "Nhân viên bàn giao các công việc cho ca sau.", ["bàn giao các công việc cho ca sau"]),
    ("en", "She performs various tasks such as filing invoices.", ["performs various tasks such as filing invoices"]),
    ("sv", "Hon utför uppgifter som tilldelats av chefen.", ["utför uppgifter som tilldelats av chefen"]),
])
def test_a_duty_whose_object_is_only_a_vague_word_for_tasks_names_no_duty(lang: str, sentence: str,
                                                                          expected: list[str]) -> None:
    """"these tasks", "olika arbetsuppgifter", "nhiều nhiệm vụ khác nhau" say no particular duty; a task word
    with a content word ("nhiệm vụ kế toán"), examples or a relative clause after it does."""
    assert texts(items_of(lang, sentence), "duty") == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("vi", "Yêu cầu bằng cấp cho một kế toán viên khác nhau tùy theo từng công ty.", []),
    ("sv", "Kraven på utbildning skiljer sig mellan olika arbetsgivare.", []),
    ("en", "Education requirements vary by employer, but a bachelor's degree is required.", ["a bachelor's degree"]),
    ("en", "You need a driving licence, education requirements vary by employer.", ["a driving licence"]),
    ("vi", "Công việc yêu cầu bằng cao đẳng trở lên.", ["bằng cao đẳng trở lên"]),
])
def test_requirements_said_to_vary_by_employer_are_no_requirement(lang: str, sentence: str,
                                                                  expected: list[str]) -> None:
    assert texts(items_of(lang, sentence), "skill") == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("vi", "Gọi điện cho khách hàng để giới thiệu sản phẩm và soạn thảo hợp đồng là các nhiệm vụ chính của "
           "nhân viên.", ["Gọi điện cho khách hàng để giới thiệu sản phẩm", "soạn thảo hợp đồng"]),
    ("sv", "Att ringa kunder för att boka möten och skriva avtal är viktiga uppgifter för en säljare.",
     ["ringa kunder för att boka möten", "skriva avtal"]),
    ("en", "Calling clients to book meetings and drafting contracts are the main duties of a sales assistant.",
     ["Calling clients to book meetings", "drafting contracts"]),
])
def test_a_purpose_inside_the_subject_of_a_duty_predicate_keeps_the_list_whole(lang: str, sentence: str,
                                                                              expected: list[str]) -> None:
    assert texts(items_of(lang, sentence), "duty") == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("vi", "Nhân viên phối hợp với các trưởng nhóm và quản lý cấp cao.",
     ["phối hợp với các trưởng nhóm và quản lý cấp cao"]),
    ("vi", "Nhân viên làm việc với khách hàng và quản lý dự án.", ["làm việc với khách hàng", "quản lý dự án"]),
])
def test_a_conjunction_between_two_roles_joins_people_not_duties(lang: str, sentence: str,
                                                                 expected: list[str]) -> None:
    assert texts(items_of(lang, sentence), "duty") == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("nl", "Daarnaast werk je nauw samen met artsen en paramedici.", ["werk je nauw samen met artsen en paramedici"]),
    ("nl", "Ook begeleid je stagiairs van de opleiding.", ["begeleid je stagiairs van de opleiding"]),
    ("nl", "In overleg met je leidinggevende plan je de werkzaamheden.", ["plan je de werkzaamheden"]),
    ("de", "Außerdem arbeitest du eng mit den Ärzten zusammen.", ["arbeitest du eng mit den Ärzten zusammen"]),
    ("sv", "Dessutom handleder du nya kollegor.", ["handleder du nya kollegor"]),
    ("da", "Derudover vejleder du nye kolleger.", ["vejleder du nye kolleger"]),
    ("nl", "Wij bieden je een goed salaris.", []),
    ("nl", "Bij ons krijg je de ruimte.", []),
    ("nl", "Een baan waar je trots op bent.", []),
    ("nl", "Herken jij jezelf in dit profiel?", []),
])
def test_a_verb_before_the_role_pronoun_after_a_fronted_phrase_states_a_duty(lang: str, sentence: str,
                                                                             expected: list[str]) -> None:
    """Verb-second order: after a fronted adverb or phrase the role's verb comes before its pronoun, in Dutch
    in a bare stem ("werk je", "begeleid je"); the employer's doing, a subordinate clause ("waar je") and a
    question (nothing fronted) state none."""
    assert texts(items_of(lang, sentence), "duty") == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("nl", "Je rapporteert in het elektronisch patiëntendossier.", ["rapporteert in het elektronisch patiëntendossier"]),
    ("nl", "Je overlegt met je leidinggevende over de planning.", ["overlegt met je leidinggevende over de planning"]),
    ("nl", "U verwerkt de post en beantwoordt vragen van klanten.", ["verwerkt de post", "beantwoordt vragen van klanten"]),
    ("de", "Du dokumentierst die Pflege in der Patientenakte.", ["dokumentierst die Pflege in der Patientenakte"]),
])
def test_the_role_pronoun_before_a_present_tense_verb_states_a_duty(lang: str, sentence: str,
                                                                     expected: list[str]) -> None:
    """"Je rapporteert X" says what the role does, as "Du dokumentierst X" does; a possessive "je" after a
    preposition ("met je leidinggevende") is no new subject that ends the duty."""
    assert [(item.kind, item.text) for item in items_of(lang, sentence)] == [("duty", text) for text in expected]


@pytest.mark.parametrize("lang, text, kinds", [
    ("nl", "Monteur\n\nWat ga je doen?\nJe onderhoudt installaties bij klanten in de regio.\n\n"
           "Wat vragen wij?\nJe beschikt over een afgeronde opleiding in de techniek.\n"
           "Je spreekt en schrijft vloeiend Nederlands en Engels.\n", ["duty", "any"]),
    ("de", "Monteur\n\nDeine Aufgaben\nDu wartest Anlagen bei unseren Kunden in der Region.\n\n"
           "Dein Profil\nDu verfügst über eine abgeschlossene Ausbildung als Elektriker.\n"
           "Du sprichst fließend Deutsch und Englisch.\n", ["duty", "any"]),
])
def test_what_the_role_does_under_a_skill_heading_is_the_classifiers_call(lang: str, text: str,
                                                                         kinds: list[str]) -> None:
    """A role's verb in prose under the profile heading ("Je spreekt vloeiend Engels") is as often a skill as a
    duty, even after prose with a cue of its own has ended the heading's list."""
    sentences = article_sentences(lang, text)[1:]
    found = [c.region.kind for c in _article_candidates(sentences, text=text) if c.region.source.endswith(":role_verb")]
    assert found == kinds


class _Verdict:
    """A classifier verdict stand-in: a duty probability."""

    def __init__(self, duty: float) -> None:
        self.duty = duty


class _ByVerdict:
    @staticmethod
    def probability(verdict: _Verdict, kind: str) -> float:
        return verdict.duty


@pytest.mark.parametrize("lang, line, expected", [
    ("nl", "Orders verzamelen en verzendklaar maken", ["Orders verzamelen en verzendklaar maken"]),
    ("sv", "Plocka order och packa paket", ["Plocka order och packa paket"]),
    ("nl", "Inkomende facturen controleren en openstaande betalingen verwerken",
     ["Inkomende facturen controleren", "openstaande betalingen verwerken"]),
])
def test_a_clause_the_classifier_alone_reads_stays_whole_when_a_part_is_too_short(lang: str, line: str,
                                                                                 expected: list[str]) -> None:
    """Parts too short to be duties by themselves ("Orders verzamelen") share their object with the rest of the
    clause; parts long enough stand alone."""
    from ingest.extract.extractor import MODEL_SOURCE, _short_parts_joined

    sentences = sentences_of(lang, line)[1]
    candidate = next(c for c in _article_candidates(sentences) if c.region.source == MODEL_SOURCE)
    parts = _merge_non_duties(candidate, [(part, _Verdict(0.9)) for part in candidate.duty_parts], _ByVerdict())
    joined = _short_parts_joined(candidate, parts, _Verdict(0.99))
    assert [candidate.text(*part) for part, _ in joined] == expected


@pytest.mark.parametrize("lang, text, expected", [
    ("nl", "Monteur\n\nJouw functie\nAls monteur ben je verantwoordelijk voor het onderhoud van installaties.\n"
           "- Storingen verhelpen bij klanten thuis\n- Onderdelen bestellen en vervangen\n",
     ["het onderhoud van installaties", "Storingen verhelpen bij klanten thuis", "Onderdelen bestellen en vervangen"]),
    ("fr", "Électricien H/F\n\nVos missions\nAu sein de l'équipe travaux, vous assurez la coordination du chantier.\n"
           "- Pose des chemins de câbles\n- Raccordement des tableaux électriques\n",
     ["la coordination du chantier", "Pose des chemins de câbles", "Raccordement des tableaux électriques"]),
    ("nl", "Monteur\n\nAls monteur ben je verantwoordelijk voor het onderhoud van installaties.\n"
           "- Storingen verhelpen bij klanten thuis\n", ["het onderhoud van installaties"]),
])
def test_list_lines_after_prose_with_its_own_cues_resume_the_headings_kind(lang: str, text: str,
                                                                          expected: list[str]) -> None:
    """An intro paragraph with a cue of its own ends the heading's list, but the list lines after it still stand
    under the heading (rules only: they are duties; with the classifier, when it agrees); with no heading
    they are left to the classifier. A part too short to be a duty shares the object of the line."""
    sentences = article_sentences(lang, text)[1:]
    assert texts(list(extract(sentences, texts={"doc": text})), "duty") == expected


@pytest.mark.parametrize("lang, lines, expected", [
    ("nl", ["Jouw profiel", "Een afgeronde mbo-opleiding Logistiek of een vakdiploma"],
     ["Een afgeronde mbo-opleiding Logistiek of een vakdiploma"]),
    ("de", ["Dein Profil:", "Eine abgeschlossene Ausbildung oder ein Studium der Informatik"],
     ["Eine abgeschlossene Ausbildung oder ein Studium der Informatik"]),
    ("en", ["Requirements:", "A nursing degree or a care certificate"], ["A nursing degree or a care certificate"]),
    ("nl", ["Jouw profiel", "Een mbo-diploma of ervaring in de logistiek"], ["Een mbo-diploma", "ervaring in de logistiek"]),
])
def test_skill_words_of_one_subtype_joined_by_or_are_one_requirement(lang: str, lines: list[str],
                                                                     expected: list[str]) -> None:
    """"X or Y" between two degrees offers alternatives for one requirement; between a degree and experience
    it names two skills."""
    assert texts(items_of(lang, *lines), "skill") == expected


@pytest.mark.parametrize("lang, sentence, expected", [
    ("nl", "Als planner draag je zorg voor een sluitende planning van de monteurs.",
     ["een sluitende planning van de monteurs"]),
    ("de", "Außerdem trägst du die Verantwortung für die Einsatzplanung der Monteure.",
     ["die Einsatzplanung der Monteure"]),
    ("nl", "Daarnaast verzorg je de wonden van patiënten.", ["verzorg je de wonden van patiënten"]),
])
def test_a_role_verb_that_leads_into_another_cue_is_part_of_it(lang: str, sentence: str, expected: list[str]) -> None:
    """"draag je zorg voor X": the verb before the pronoun opens the responsibility cue and is no duty of its own;
    a verb whose lemma a role noun shares ("verzorgen", "verzorgende") is still a verb."""
    assert texts(items_of(lang, sentence), "duty") == expected


def test_parts_of_an_enumeration_beside_a_confident_duty_need_less_evidence(e5) -> None:
    # no German frame matches: the classifier alone reads the clause (bar 0.9); "nehmen Anrufe entgegen" is
    # surely a duty, and the part listed with it is taken at the lower sibling bar (0.8)
    text = "Außerdem planen Sie die Dienstreisen des Vorstands und nehmen Anrufe entgegen."
    found = texts(list(extract(sentences_of("de", text)[1], e5, method="rules")), "duty")
    assert "planen Sie die Dienstreisen des Vorstands" in found and "nehmen Anrufe entgegen" in found


def test_an_enumeration_without_a_confident_part_yields_nothing_by_the_classifier_alone(e5) -> None:
    found = list(extract(sentences_of("sv", "Arbetet sker i skift, även på helger.")[1], e5, method="rules"))
    assert found == []


HR_DUTIES = ["Posluživanje gostiju hranom i pićem", "Preporučivanje jela i vina iz ponude",
             "Održavanje čistoće sale i pranje čaša"]


def test_endings_shared_by_three_list_heads_are_the_article_s_verbal_nouns() -> None:
    text = "Konobar\n\nOpis posla:\n" + "".join(f"- {line}\n" for line in HR_DUTIES)
    assert list_head_endings(text) == ("nje",)
    # two heads sharing an ending can be two genitives ("asiakkaiden", "tuotteiden"), and prose lines are no heads
    finnish = "- Asiakkaiden palveleminen\n- Tuotteiden hinnoittelu\n- Kassatyöskentely\nPalveleminen on tärkeää.\n"
    assert list_head_endings(finnish) == ()


def test_list_lines_opened_by_verbal_nouns_keep_a_coordinated_object_in_their_duty(e5) -> None:
    # Croatian has no rule file; its list lines open with "-nje" nouns, so a conjunction followed by another
    # object ("jela i vina") stays in the duty and one followed by a "-nje" noun ("i pranje čaša") starts one
    text = "Konobar\n\nOpis posla:\n" + "".join(f"- {line}\n" for line in HR_DUTIES)
    found = [item.text for item in extract(article_sentences("hr", text)[1:], e5, method="rules", texts={"doc": text})
             if item.kind == "duty"]
    assert found == ["Posluživanje gostiju hranom i pićem", "Preporučivanje jela i vina iz ponude",
                     "Održavanje čistoće sale", "pranje čaša"]


def test_a_clause_without_rules_yields_each_part_as_the_kind_it_reads_as(e5) -> None:
    # Finnish has no rule file: the clause as a whole reads as a requirement, its second part as a duty
    text = ("Useimmilla IT-tukihenkilöillä on tieto- ja viestintätekniikan perustutkinto tai tietojenkäsittelyn "
            "tradenomin tutkinto, ja he vastaavat käyttäjien tukipyyntöjen käsittelystä.")
    found = [(item.kind, item.text) for item in extract(sentences_of("fi", text)[1], e5, method="rules")]
    assert ("duty", "he vastaavat käyttäjien tukipyyntöjen käsittelystä") in found
    assert [text for kind, text in found if kind == "skill" and "perustutkinto" in text]


def test_prose_without_rules_is_read_at_a_lower_bar_and_keeps_listed_one_word_traits(e5) -> None:
    # Slovenian has no rule file; at the bar of languages with rules (0.9) only two of these items came out
    lines = ["Računovodja ima visokošolsko izobrazbo ekonomske smeri in vodi poslovne knjige podjetja.",
             "Vsak mesec pripravlja obračun plač ter oddaja davčne napovedi.",
             "Delodajalci cenijo kandidate, ki so natančni, zanesljivi, potrpežljivi in diskretni."]
    found = [(item.kind, item.text) for item in extract(sentences_of("sl", *lines)[1], e5, method="rules")]
    assert [text for kind, text in found if kind == "duty" and "pripravlja obračun plač" in text]
    assert ("skill", "potrpežljivi") in found and ("skill", "zanesljivi") in found


@pytest.mark.parametrize("lang, sentence", [
    ("id", "Kami menawarkan gaji yang kompetitif, asuransi kesehatan dan cuti tahunan."),
    ("sl", "Nudimo redno zaposlitev, plačan prevoz in topli obrok."),
    ("lt", "Siūlome konkurencingą atlyginimą, sveikatos draudimą ir papildomas atostogas."),
])
def test_an_offer_without_rules_yields_no_item_from_its_parts(e5, lang: str, sentence: str) -> None:
    # the clause as a whole reads as no item, so its listed benefits are not taken one by one
    assert list(extract(sentences_of(lang, sentence)[1], e5, method="rules")) == []
