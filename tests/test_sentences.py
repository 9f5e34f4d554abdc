"""Sentence splitting: per-language cases from real web text, offsets, body spans, the corpus."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from ingest.language import detect
from ingest.read import read
from ingest.sentences import split
from kb.records import UNKNOWN_LANG, Article
from kb.text.pipelines import blank_pipeline

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def make_article(text: str, lang: str, body: tuple[tuple[int, int], ...] | None = None) -> Article:
    return Article(doc_id="doc", path="doc.txt", text=text, title="", encoding="utf-8", content_hash="0",
                   body=((0, len(text)),) if body is None else body, lang=lang)


def sentences_of(text: str, lang: str) -> list[str]:
    article = make_article(text, lang)
    found = list(split([article]))
    for sentence in found:
        assert article.text[sentence.start:sentence.end] == sentence.text
    return [sentence.text for sentence in found]


@pytest.mark.parametrize(
    "lang,text,expected",
    [
        # a missing space after a full stop ends a sentence
        ("sv", "Vi söker en projektledare.Du ansvarar för budget.",
         ["Vi söker en projektledare.", "Du ansvarar för budget."]),
        ("pl", "Pracujesz w zespole firmy.Koordynator planuje spotkania.",
         ["Pracujesz w zespole firmy.", "Koordynator planuje spotkania."]),
        ("vi", "Một người giám sát công việc trong một công ty.Người này chịu trách nhiệm.",
         ["Một người giám sát công việc trong một công ty.", "Người này chịu trách nhiệm."]),
        ("vi", "Anh ta muốn đạt được trong một khung thời gian cụ thể.Chỉ đạo những người khác là nhiệm vụ.",
         ["Anh ta muốn đạt được trong một khung thời gian cụ thể.", "Chỉ đạo những người khác là nhiệm vụ."]),
        ("en", "He plans meetings.She books travel!Who pays?Finance does.",
         ["He plans meetings.", "She books travel!", "Who pays?", "Finance does."]),
        ("de", "Sie leiten Projekte.Sie berichten an die Geschäftsführung.",
         ["Sie leiten Projekte.", "Sie berichten an die Geschäftsführung."]),
        # abbreviations do not end a sentence
        ("sv", "Du har t.ex. erfarenhet av Excel. Du är noggrann.",
         ["Du har t.ex. erfarenhet av Excel.", "Du är noggrann."]),
        ("sv", "Du kan bl.a. Word och Excel, dvs. Office. Lönen är ca. 40 000 kr.",
         ["Du kan bl.a. Word och Excel, dvs. Office.", "Lönen är ca. 40 000 kr."]),
        ("pl", "Znasz np. Excel i Word. Masz prawo jazdy.", ["Znasz np. Excel i Word.", "Masz prawo jazdy."]),
        ("pl", "Specjalista ds. Marketingu planuje m.in. kampanie, tj. reklamy itp. Praca od zaraz.",
         ["Specjalista ds. Marketingu planuje m.in. kampanie, tj. reklamy itp.", "Praca od zaraz."]),
        ("pl", "Znasz np.Excel oraz SQL.", ["Znasz np.Excel oraz SQL."]),
        ("pl", "Masz doświadczenie min. 1 rok i maks. 3 lata. Praca od zaraz.",
         ["Masz doświadczenie min. 1 rok i maks. 3 lata.", "Praca od zaraz."]),
        ("en", "Tools include e.g. Excel and Jira. You report to Dr. Smith.",
         ["Tools include e.g. Excel and Jira.", "You report to Dr. Smith."]),
        ("en", "The team, i.e. five people, reports to J. K. Rowling.", ["The team, i.e. five people, reports to J. K. Rowling."]),
        ("en", "Books by J.K.Rowling sell well.Many read them.", ["Books by J.K.Rowling sell well.", "Many read them."]),
        ("de", "Sie haben z.B. Erfahrung mit SAP bzw. Oracle. Sie arbeiten im Team.",
         ["Sie haben z.B. Erfahrung mit SAP bzw. Oracle.", "Sie arbeiten im Team."]),
        ("de", "Wir bieten ca. 30 Tage Urlaub, vgl. Tarifvertrag.", ["Wir bieten ca. 30 Tage Urlaub, vgl. Tarifvertrag."]),
        ("es", "La Sra. Gómez gestiona la agenda, los pedidos, etc. y atiende a los clientes.",
         ["La Sra. Gómez gestiona la agenda, los pedidos, etc. y atiende a los clientes."]),
        ("vi", "Văn phòng ở TP. Hồ Chí Minh. Công ty có ThS. Nguyễn làm giám đốc.",
         ["Văn phòng ở TP. Hồ Chí Minh.", "Công ty có ThS. Nguyễn làm giám đốc."]),
        # decimals, URLs, e-mail addresses and domain names do not end a sentence
        ("en", "Version 3.5 was released. Apply at www.example.com today. Write to jobs@example.com for details.",
         ["Version 3.5 was released.", "Apply at www.example.com today.", "Write to jobs@example.com for details."]),
        ("sv", "Läs mer på https://www.Example.se/Jobb eller arbetsformedlingen.se idag.",
         ["Läs mer på https://www.Example.se/Jobb eller arbetsformedlingen.se idag."]),
        ("pl", "Pensja wynosi 7.500 zł brutto. Pracujemy w ASP.Net i Node.js.",
         ["Pensja wynosi 7.500 zł brutto.", "Pracujemy w ASP.Net i Node.js."]),
        ("sv", "Kontakta oss på info@firma.se.Vi svarar snabbt.", ["Kontakta oss på info@firma.se.", "Vi svarar snabbt."]),
        # abbreviations that may end a sentence end it before a capital letter
        ("pl", "Firma powstała w 2020 r. Zatrudnia 50 osób.", ["Firma powstała w 2020 r.", "Zatrudnia 50 osób."]),
        ("vi", "Ứng viên cần biết Excel, Word v.v. Ưu tiên có kinh nghiệm.",
         ["Ứng viên cần biết Excel, Word v.v.", "Ưu tiên có kinh nghiệm."]),
        ("sv", "Du planerar möten, resor osv. men inte budget. Lycka till!",
         ["Du planerar möten, resor osv. men inte budget.", "Lycka till!"]),
        # a truncated last sentence is kept
        ("en", "The salary is 3.5 million. It is paid monthly to the", ["The salary is 3.5 million.", "It is paid monthly to the"]),
        ("vi", "Công ty lớn.Bất kỳ ai muốn trở thành điều phối viên nên tham gia các lớp học mà anh ta",
         ["Công ty lớn.", "Bất kỳ ai muốn trở thành điều phối viên nên tham gia các lớp học mà anh ta"]),
        # line breaks, bullet items and headings end sentences; wrapped lines do not
        ("sv", "Arbetsuppgifter\nDu planerar möten\n\nKrav\n- Körkort B\n* Excel\n• Svenska\n1. Engelska\n2) Noggrann",
         ["Arbetsuppgifter", "Du planerar möten", "Krav", "Körkort B", "Excel", "Svenska", "Engelska", "Noggrann"]),
        ("pl", "## Wymagania\n- znajomość Excela\n- prawo jazdy kat. B",
         ["Wymagania", "znajomość Excela", "prawo jazdy kat. B"]),
        ("en", "You will plan meetings for the executive team and book their travel\narrangements. You report to the CEO.",
         ["You will plan meetings for the executive team and book their travel\narrangements.", "You report to the CEO."]),
        ("de", "Ihre Aufgaben:\nPlanung von Terminen\nBuchung von Reisen",
         ["Ihre Aufgaben:", "Planung von Terminen", "Buchung von Reisen"]),
        # unknown language: the multi-language pipeline
        (UNKNOWN_LANG, "Mtu huyu anapanga mikutano.Anasimamia bajeti. Ni kazi nzuri",
         ["Mtu huyu anapanga mikutano.", "Anasimamia bajeti.", "Ni kazi nzuri"]),
    ],
)
def test_split_finds_the_sentences_of_web_text(lang, text, expected):
    assert sentences_of(text, lang) == expected


def test_split_only_reads_body_spans_and_numbers_sentences_from_zero():
    text = "Skip to main content\nVad gör en kock?\nEn kock lagar mat. Kocken diskar.\nDela"
    start = text.index("En kock")
    article = make_article(text, "sv", body=((start, start + len("En kock lagar mat. Kocken diskar.")),))
    found = list(split([article, article]))
    assert [(s.index, s.text, s.lang, s.doc_id) for s in found] == [
        (0, "En kock lagar mat.", "sv", "doc"), (1, "Kocken diskar.", "sv", "doc"),
        (0, "En kock lagar mat.", "sv", "doc"), (1, "Kocken diskar.", "sv", "doc")]
    assert [(s.start, s.end) for s in found[:2]] == [(start, start + 18), (start + 19, start + 33)]


def test_split_uses_multi_language_pipeline_for_language_without_spacy_class():
    assert sentences_of("Habari ya leo.Karibu sana. Asante", "sw") == ["Habari ya leo.", "Karibu sana.", "Asante"]


def test_split_falls_back_to_multi_language_pipeline_when_a_tokenizer_is_missing(monkeypatch):
    import spacy

    real_blank = spacy.blank

    def blank(code: str, *args, **kwargs):
        if code == "vi":
            raise ImportError("install pyvi")
        return real_blank(code, *args, **kwargs)

    monkeypatch.setattr(spacy, "blank", blank)
    blank_pipeline.cache_clear()
    try:
        with pytest.warns(UserWarning, match="install pyvi"):
            assert sentences_of("Công ty lớn.Người này tốt.", "vi") == ["Công ty lớn.", "Người này tốt."]
    finally:
        blank_pipeline.cache_clear()


def test_split_corpus_articles_into_their_real_sentences():
    articles = list(detect(read(sorted(CORPUS.glob("0*.txt")))))
    counts = {}
    for article in articles:
        started = time.perf_counter()
        found = list(split([article]))
        assert time.perf_counter() - started < 2.0
        assert all(article.text[s.start:s.end] == s.text for s in found)
        assert all(s.lang == article.lang for s in found)
        counts[article.doc_id[:3]] = len(found)
    assert counts == {"000": 18, "001": 14, "002": 23, "003": 22, "004": 18}
    vietnamese = list(split([articles[2]]))
    assert vietnamese[0].text == ("Một điều phối viên bộ phận là một người giám sát công việc và tiến bộ tổng thể "
                                  "của một bộ phận trong một công ty.")
    assert vietnamese[1].text.startswith("Người này có thể chịu trách nhiệm")
    assert vietnamese[-1].text.endswith("kết nối với các chuyên gia trong ngành công nghiệp mà anh ta")
    assert all("Skip to main content" not in s.text and "là gì?" not in s.text for s in vietnamese)
