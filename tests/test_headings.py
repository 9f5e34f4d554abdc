"""Section headings the language data does not list get their kind from the embedding classifier;
what the classifier finds alone, without a heading or cue word."""
from __future__ import annotations

import pytest

from ingest.extract.classify import classifier_for
from ingest.extract.candidates import _heading, _section_lines, _starts_block
from ingest.extract.extractor import extract
from kb.text.lemmas import tokenize
from ingest.extract.rules import Matches, load_rules
from extract_helpers import article_sentences, sentences_of


def heading_of(lang: str, line: str, resolve, block: bool = False, bullet: bool = False) -> str | None:
    """The section kind ``_heading`` gives one line of an article (followed by a line break)."""
    rules = load_rules(lang)
    text = line + "\n"
    tokens = tokenize(line, lang)
    words = [token for token in tokens if not token.is_punct or token.text != ":"]
    return _heading(tokens, (0, len(words)), Matches(rules.match(tokens)), text, resolve,
                    bool(rules.data["sections"]), block, bullet)


class Recorder:
    """A resolver that names every line a skill heading and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, bool]] = []

    def __call__(self, text: str, shape: str, lines: list[str]) -> str:
        self.asked.append((text, shape))
        return "skill"


def test_a_listed_heading_keeps_its_kind_without_asking_the_classifier() -> None:
    resolver = Recorder()
    assert heading_of("sv", "Arbetsuppgifter:", resolver) == "duty"
    assert resolver.asked == []


def test_an_unlisted_heading_with_a_colon_is_resolved_in_any_language() -> None:
    resolver = Recorder()
    assert heading_of("sv", "Det här söker vi:", resolver) == "skill"
    assert resolver.asked == [("Det här söker vi", "colon")]


def test_a_short_line_without_colon_is_asked_about_only_where_the_data_lists_no_headings() -> None:
    known, unknown = Recorder(), Recorder()
    assert heading_of("sv", "Svara i telefon", known) is None
    assert known.asked == []
    assert heading_of("ro", "Cerințe", unknown) == "skill"
    assert unknown.asked == [("Cerințe", "line")]


def test_a_line_standing_alone_after_a_blank_line_is_asked_about_in_any_language() -> None:
    resolver = Recorder()
    assert heading_of("sv", "Det här gör du", resolver, block=True) == "skill"
    assert resolver.asked == [("Det här gör du", "block")]


def test_a_list_item_is_a_heading_only_when_it_ends_in_a_colon() -> None:
    resolver = Recorder()
    assert heading_of("fi", "Kassatyöskentely", resolver, bullet=True) is None  # "- Kassatyöskentely"
    assert heading_of("ro", "Cerințe:", resolver, bullet=True) == "skill"
    assert resolver.asked == [("Cerințe", "colon")]


@pytest.mark.parametrize("text, expected", [
    ("Heading:\n- First item\n- Second item\n\nNext paragraph.", ["First item", "Second item"]),
    ("Heading\n\n• First item\n2. Second item\nNext heading:\n- Other", ["First item", "Second item"]),
    ("Heading\nWe are a family firm with six shops in the south.\n- Item", []),  # prose: no list
    ("Heading:", []),
])
def test_the_lines_under_a_heading_are_its_list_up_to_a_blank_line(text: str, expected: list[str]) -> None:
    assert _section_lines(text, text.index("Heading") + len("Heading")) == expected


@pytest.mark.parametrize("text, expected", [
    ("Title\n\nAbout the job\n- Item", True),
    ("Title\n- Item\n- About the job", False),   # a bullet
    ("Title\nFirst line\nAbout the job", False),  # no blank line before it
    ("About the job\n\nText", False),            # the title line
])
def test_a_block_starts_a_line_after_a_blank_line_without_a_bullet(text: str, expected: bool) -> None:
    assert _starts_block(text, text.index("About the job")) is expected


@pytest.mark.parametrize("text, shape, expected", [
    ("Responsabilități", "line", "duty"),   # Romanian
    ("Sorumluluklar", "line", "duty"),      # Turkish
    ("Kvalifikationer", "line", "skill"),   # Danish
    ("Požadavky na uchazeče", "colon", "skill"),  # Czech
    ("Nabízíme", "line", "none"),           # Czech
    ("Amit kínálunk", "line", "none"),      # Hungarian
    ("Tarjoamme", "block", "none"),         # Finnish
    ("Descrierea postului", "block", ""),  # Romanian "job description": it only ends the section before it
    ("Popis pozice", "line", ""),           # Czech, the same
])
def test_headings_of_languages_missing_from_the_examples_get_their_kind(e5, text: str, shape: str,
                                                                          expected: str) -> None:
    assert classifier_for(e5).heading_kind(text, shape) == expected


@pytest.mark.parametrize("text", [
    "Permis de conducere categoria B", "Studii superioare economice", "Müşteri siparişlerini hazırlamak",
    "İngilizce bilgisi", "Kommunikationsförmåga", "Teamfähigkeit", "Excel",
    "Asigurare medicală privată", "Flexibilní pracovní doba", "Гибкий график",  # benefits look like "We offer"
])
def test_list_items_are_no_headings(e5, text: str) -> None:
    assert classifier_for(e5).heading_kind(text, "line") is None


def test_sections_work_in_a_language_without_a_data_file(e5) -> None:
    _, sentences = sentences_of(
        "ro", "Despre noi", "Suntem un lanț de farmacii cu 30 de unități în Moldova.",
        "Responsabilități", "Eliberarea medicamentelor pe bază de rețetă", "Consilierea pacienților",
        "Cerințe:", "Diplomă de licență în farmacie", "Experiență de minimum 1 an",
        "Oferim", "Tichete de masă", "Asigurare medicală privată")
    found = [(item.kind, item.text) for item in extract(sentences, e5, method="rules")]
    assert found == [("duty", "Eliberarea medicamentelor pe bază de rețetă"), ("duty", "Consilierea pacienților"),
                     ("skill", "Diplomă de licență în farmacie"), ("skill", "Experiență de minimum 1 an")]


def test_the_layout_of_the_article_text_shows_headings_that_are_not_short(e5) -> None:
    text = ("Operator call center\n\nResponsabilitățile postului\n- Preluarea apelurilor clienților\n"
            "- Înregistrarea reclamațiilor în sistem\n\nCerințe obligatorii\n- Limba engleză la nivel mediu\n"
            "- Disponibilitate pentru lucrul în ture\n")
    sentences = article_sentences("ro", text)[1:]  # the title line is no sentence of the body
    found = [(item.kind, item.text) for item in extract(sentences, e5, method="rules", texts={"doc": text})]
    assert found == [("duty", "Preluarea apelurilor clienților"), ("duty", "Înregistrarea reclamațiilor în sistem"),
                     ("skill", "Limba engleză la nivel mediu"), ("skill", "Disponibilitate pentru lucrul în ture")]


def test_a_short_duty_the_classifier_alone_finds_counts_only_where_no_rules_ran(e5) -> None:
    # Finnish has no rule file: a two-word line is a duty; in Dutch the rules passed it over
    _, finnish = sentences_of("fi", "Tilausten kerääminen")
    _, dutch = sentences_of("nl", "Orders verzamelen")
    assert [(item.kind, item.text) for item in extract(finnish, e5, method="rules")] == [("duty", "Tilausten kerääminen")]
    assert list(extract(dutch, e5, method="rules")) == []


def test_lines_under_a_heading_of_unclear_item_kind_take_each_its_own_kind(e5) -> None:
    # "Feladatok" (Hungarian, "tasks") is as near the skill headings as the duty ones
    assert classifier_for(e5).heading_kind("Feladatok", "block") == "list"
    text = ("Pénzügyi asszisztens\n\nFeladatok\n- Számlák rögzítése a rendszerben\n"
            "- Ügyfelek telefonos tájékoztatása\n- Legalább 2 év tapasztalat könyvelésben\n")
    sentences = article_sentences("hu", text)[1:]  # the title line is no sentence of the body
    found = [(item.kind, item.text) for item in extract(sentences, e5, method="rules", texts={"doc": text})]
    assert found == [("duty", "Számlák rögzítése a rendszerben"), ("duty", "Ügyfelek telefonos tájékoztatása"),
                     ("skill", "Legalább 2 év tapasztalat könyvelésben")]


def test_a_heading_that_reads_like_an_offer_takes_the_kind_of_the_lines_under_it(e5) -> None:
    # Finnish "Odotamme sinulta" ("we expect from you") is nearer "We offer" than "Requirements" by its
    # words alone; its lines are requirements, and lines of benefits keep an offer heading an offer
    classifier = classifier_for(e5)
    assert classifier.heading_kind("Odotamme sinulta", "colon") == "none"
    requirements = ["Kokemusta varastotyöstä", "Trukkikortti", "Hyvä fyysinen kunto", "Täsmällisyys"]
    assert classifier.heading_kind("Odotamme sinulta", "colon", requirements) == "skill"
    benefits = ["Kilpailukykyinen palkka", "Lounasetu", "Työterveyshuolto", "Joustavat työajat"]
    assert classifier.heading_kind("Tarjoamme", "colon", benefits) == "none"
    assert classifier.lines_kind(benefits) == "none"
    assert classifier.lines_kind(["Trukkikortti"]) is None  # one line is too little to tell


def test_a_paragraph_after_a_list_takes_the_section_kind_only_when_the_classifier_agrees(e5) -> None:
    text = ("Varastotyöntekijä\n\nTehtävät:\n- Tavaroiden vastaanotto\n- Tilausten kerääminen\n\n"
            "Varastotyöntekijä huolehtii myös varaston siisteydestä.\n\n"
            "Tarjoamme kilpailukykyisen palkan ja lounasedun.\n")
    sentences = article_sentences("fi", text)[1:]
    found = [(item.kind, item.text) for item in extract(sentences, e5, method="rules", texts={"doc": text})]
    assert ("duty", "Tavaroiden vastaanotto") in found and ("duty", "Tilausten kerääminen") in found
    assert not [text for _, text in found if "Tarjoamme" in text or "lounasedun" in text]


def test_chinese_headings_end_in_a_full_width_colon_and_lists_split_at_the_enumeration_comma(e5) -> None:
    text = ("销售代表\n\n工作内容：\n- 开发新客户\n- 维护老客户关系\n\n"
            "任职要求：\n- 两年以上销售经验\n- 积极、主动\n")
    sentences = article_sentences("zh", text)[1:]
    found = [(item.kind, item.text) for item in extract(sentences, e5, method="rules", texts={"doc": text})]
    assert found == [("duty", "开发新客户"), ("duty", "维护老客户关系"), ("skill", "两年以上销售经验"),
                     ("skill", "积极"), ("skill", "主动")]


def test_a_list_under_a_job_description_heading_is_read_as_its_items(e5) -> None:
    # "Opis posla" (Croatian, "job description") reads as a heading that introduces the job as a whole;
    # the lines under it are still the role's duties, and a benefit list makes it an offer heading
    classifier = classifier_for(e5)
    duties = ["Posluživanje gostiju hranom i pićem", "Naplata računa", "Održavanje čistoće sale"]
    assert classifier.heading_kind("Opis posla", "colon") == ""
    assert classifier.heading_kind("Opis posla", "colon", duties) == "duty"
    benefits = ["Stalni radni odnos", "Plaćeni prijevoz i topli obrok", "Poticajno radno okruženje"]
    assert classifier.heading_kind("Opis posla", "colon", benefits) == "none"
    text = "Konobar\n\nOpis posla:\n" + "".join(f"- {line}\n" for line in duties)
    sentences = article_sentences("hr", text)[1:]
    found = [(item.kind, item.text) for item in extract(sentences, e5, method="rules", texts={"doc": text})]
    assert ("duty", "Naplata računa") in found and ("duty", "Održavanje čistoće sale") in found


def test_a_line_alone_that_reads_like_a_benefit_over_a_list_of_benefits_heads_the_offer(e5) -> None:
    # Korean "복리후생" (employee benefits) stands alone after a blank line; by its words it is nearer the
    # benefit lines than any heading, so only the benefits under it show that it ends the requirements
    classifier = classifier_for(e5)
    benefits = ["4대 보험", "연차 휴가", "명절 상여금"]
    assert classifier.heading_kind("복리후생", "block") is None
    assert classifier.heading_kind("복리후생", "block", benefits) == "none"
    text = ("영업 담당자\n\n주요 업무\n- 신규 고객 발굴\n- 견적서 작성\n\n자격 요건\n- 영업 경력 2년 이상\n"
            "- 운전면허 소지자\n\n복리후생\n" + "".join(f"- {line}\n" for line in benefits))
    sentences = article_sentences("ko", text)[1:]
    found = [(item.kind, item.text) for item in extract(sentences, e5, method="rules", texts={"doc": text})]
    assert ("skill", "영업 경력 2년 이상") in found and ("duty", "견적서 작성") in found
    assert not [text for _, text in found if text in benefits or text == "복리후생"]


def test_a_heading_of_a_close_kind_takes_the_kind_its_lines_surely_are(e5) -> None:
    # Swahili "Majukumu" (duties) is nearer the skill headings than the duty ones, but only just; its lines
    # are surely duties. Lines that are not all of one kind leave the heading's own kind.
    classifier = classifier_for(e5)
    duties = ["Kuandaa taarifa za fedha za kila mwezi", "Kusimamia malipo ya wasambazaji",
              "Kuhakiki hesabu za benki"]
    assert classifier.heading_kind("Majukumu", "colon") == "skill"
    assert classifier.heading_kind("Majukumu", "colon", duties) == "duty"
    mixed = duties[:1] + ["Uzoefu wa miaka miwili katika uhasibu"]
    assert classifier.heading_kind("Majukumu", "colon", mixed) == "skill"


def test_a_line_barely_read_as_a_duty_takes_the_kind_of_the_clear_lines_beside_it(e5) -> None:
    # Swahili "Sifa" (qualifications) is unclear by its words; of its lines, the degree ("Shahada ya uhasibu")
    # is a duty by a hair to the classifier, the experience and the traits are clearly skills
    classifier = classifier_for(e5)
    lines = ["Shahada ya uhasibu", "Uzoefu wa miaka miwili katika uhasibu", "Uaminifu na umakini"]
    assert [verdict.kind for verdict in classifier.classify(lines)] == ["duty", "skill", "skill"]
    assert classifier.lines_kind(lines) == "skill"
    text = "Mhasibu\n\nMajukumu:\n- Kuandaa taarifa za fedha za kila mwezi\n\nSifa:\n" + "".join(
        f"- {line}\n" for line in lines)
    found = [(item.kind, item.text) for item in extract(article_sentences("sw", text)[1:], e5, method="rules", texts={"doc": text})]
    assert ("skill", "Shahada ya uhasibu") in found and ("duty", "Shahada ya uhasibu") not in found


def test_a_mixed_list_under_a_job_description_heading_gives_each_line_its_own_kind(e5) -> None:
    classifier = classifier_for(e5)
    lines = ["Posluživanje gostiju hranom i pićem", "Naplata računa", "Iskustvo u ugostiteljstvu dvije godine",
             "Poznavanje engleskog jezika"]
    assert classifier.heading_kind("Opis posla", "colon", lines) == "list"
