"""Reader: decoding, HTML text, boilerplate lines, titles, refusals, doc ids, offsets."""
from __future__ import annotations

import codecs
import hashlib
import unicodedata
from pathlib import Path

import pytest

from ingest.read import read
from kb.records import Article, Refused

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DATA = Path(__file__).resolve().parent / "data" / "reader"

POLISH = "Co robi koordynator?\nSzukamy doświadczonej osoby. Źródło: ogłoszenie firmy ze Śląska, Łódź i Gdańsk."
SWEDISH = "Vad gör en projektledare?\nVi söker en erfaren projektledare. Titeln ”senior koordinator” på heltid."
VIETNAMESE = "Điều phối viên là gì?\nChúng tôi đang tìm kiếm quản lý dự án. Kỹ năng giao tiếp tốt là yêu cầu."


def encode_cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: base letter plus a combining tone mark."""
    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
            out += (base + "".join(c for c in parts if c in tones)).encode("cp1258")
    return bytes(out)


def read_one(path: Path) -> Article | Refused:
    (record,) = read([path])
    return record


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def assert_offsets_slice(article: Article) -> None:
    if article.title_span != (0, 0):
        assert article.text[slice(*article.title_span)] == article.title
    for start, end in article.body:
        assert article.text[start:end] == article.text[start:end].strip() != ""


@pytest.mark.parametrize(
    "codec,text,raw",
    [
        ("utf-8", SWEDISH, SWEDISH.encode("utf-8")),
        ("utf-8-sig", SWEDISH, codecs.BOM_UTF8 + SWEDISH.encode("utf-8")),
        ("cp1250", POLISH, POLISH.encode("cp1250")),
        ("iso8859-2", POLISH, POLISH.encode("iso8859-2")),
        ("cp1252", SWEDISH, SWEDISH.encode("cp1252")),
        ("cp1258", VIETNAMESE, encode_cp1258(VIETNAMESE)),
    ],
)
def test_read_decodes_each_encoding_to_the_right_text(tmp_path, codec, text, raw):
    article = read_one(write(tmp_path, "role.txt", raw))
    assert article.text == unicodedata.normalize("NFC", text)
    assert codecs.lookup(article.encoding).name == codecs.lookup(codec).name
    assert article.title == text.split("\n")[0]
    assert not article.text.startswith("\ufeff")


@pytest.mark.parametrize(
    "lang,sentence",
    [
        ("pl", "Koordynator spotkań odpowiada za budżet i harmonogram."),
        ("pl", "Do obowiązków należy planowanie spotkań oraz księgowość."),
        ("sv", "Körkort B är meriterande och du ansvarar för planering."),
        ("de", "Wir suchen einen erfahrenen Projektleiter für unser Büro in München."),
        ("fr", "Nous recherchons un chef de projet expérimenté à Genève."),
        ("cs", "Hledáme zkušeného projektového manažera, řízení týmu."),
    ],
)
def test_read_recovers_short_legacy_encoded_text(tmp_path, lang, sentence):
    codec = {"pl": "cp1250", "cs": "cp1250"}.get(lang, "cp1252")
    article = read_one(write(tmp_path, "short.txt", f"Titel\n{sentence}".encode(codec)))
    assert article.text == f"Titel\n{sentence}"


def test_read_composes_decomposed_vietnamese_and_normalizes_line_endings(tmp_path):
    raw = unicodedata.normalize("NFD", VIETNAMESE).replace("\n", "\r\n").encode("utf-8")
    article = read_one(write(tmp_path, "vi.txt", raw))
    assert article.text == VIETNAMESE
    assert article.content_hash == hashlib.sha256(raw).hexdigest()
    assert_offsets_slice(article)


def test_read_html_keeps_visible_text_only():
    article = read_one(DATA / "page.html")
    assert article.doc_id == "page"
    assert article.title == "Vad gör en projektledare?"
    assert article.text[slice(*article.title_span)] == article.title
    for hidden in ("Skript", "color", "inte heller", "Dold text", "a comment", "Jobbsajten. Alla", "Yrken\n"):
        assert hidden not in article.text
    body = [article.text[start:end] for start, end in article.body]
    assert body == ["En projektledare planerar och leder projekt.Hon ansvarar för budget och tidplan.",
                    "Arbetsuppgifter", "• Planera möten", "• Följa upp budget"]
    assert_offsets_slice(article)


def test_read_html_title_falls_back_to_title_element(tmp_path):
    page = "<html><head><title>Co robi kierownik?</title></head><body><p>Kierownik planuje pracę.</p></body></html>"
    article = read_one(write(tmp_path, "a.htm", page))
    assert (article.title, article.title_span) == ("Co robi kierownik?", (0, 0))
    assert [article.text[s:e] for s, e in article.body] == ["Kierownik planuje pracę."]


def test_read_html_uses_meta_charset(tmp_path):
    page = '<html><head><meta charset="windows-1250"></head><body><h1>Źródło</h1><p>Łódź, Śląsk.</p></body></html>'
    article = read_one(write(tmp_path, "pl.html", page.encode("cp1250")))
    assert article.text == "Źródło\nŁódź, Śląsk."
    assert article.encoding == "cp1250"


def test_read_markdown_title_strips_hashes_and_joins_wrapped_lines():
    article = read_one(DATA / "kock.md")
    assert article.title == "Vad gör en kock?"
    assert article.text[slice(*article.title_span)] == "Vad gör en kock?"
    body = [article.text[start:end] for start, end in article.body]
    assert body[0] == ("En kock lagar mat i ett restaurangkök och ansvarar för att maten håller hög\n"
                       "kvalitet och att hygienreglerna följs.")
    assert body[1:] == ["## Arbetsuppgifter", "- Laga mat", "- Beställa råvaror"]  # menu and widgets left out


@pytest.mark.parametrize(
    "lang,line",
    [
        ("en", "Skip to main content"),
        ("en", "Share"),
        ("en", "Print"),
        ("en", "Advertisement"),
        ("en", "We use cookies to improve your experience. Accept all cookies"),
        ("en", "Home | Jobs | Salaries | About"),
        ("sv", "Hoppa till huvudinnehåll"),
        ("sv", "Dela artikeln"),
        ("sv", "Annons"),
        ("pl", "Przejdź do treści"),
        ("pl", "Udostępnij"),
        ("pl", "Ta strona używa plików cookies. Akceptuj"),
        ("pl", "Ta strona korzysta z ciasteczek."),
        ("sv", "Vi använder cookies på webbplatsen. Genom att fortsätta godkänner du det."),
        ("vi", "Trang web này sử dụng cookie để cải thiện trải nghiệm."),
        ("vi", "Bỏ qua nội dung"),
        ("vi", "Chia sẻ"),
        ("de", "Zum Inhalt springen"),
        ("fr", "Aller au contenu principal"),
        ("es", "Ir al contenido principal"),
        ("es", "Utilizamos cookies para mejorar su experiencia. Aceptar"),
        ("xx", "* * *"),
        ("tr", "Bu yazıyı paylaş: Facebook | Twitter | WhatsApp"),  # a share bar behind a label, any language
        ("fi", "Jaa artikkeli: Facebook | X | LinkedIn | Sähköposti"),
    ],
)
def test_read_leaves_boilerplate_lines_out_of_title_and_body(tmp_path, lang, line):
    text = f"{line}\n\nVad gör en kock?\n\n{line}\nEn kock lagar mat.\n{line}\nKocken beställer råvaror.\n{line}\n"
    article = read_one(write(tmp_path, "kock.txt", text))
    assert article.title == "Vad gör en kock?"
    assert [article.text[s:e] for s, e in article.body] == ["En kock lagar mat.", "Kocken beställer råvaror."]
    assert article.text == text  # boilerplate stays in the text; offsets slice the decoded file


@pytest.mark.parametrize("line", ["You bake cookies and cakes every day.", "Loading and unloading goods is part of the job.",
                                  "Du delar ut post och skriver ut fakturor.",
                                  "You run campaigns on Facebook, Instagram and LinkedIn for our clients.",
                                  "Kanały: Facebook | Instagram | prowadzenie kampanii reklamowych dla klientów"])
def test_read_keeps_content_lines_that_resemble_boilerplate(tmp_path, line):
    article = read_one(write(tmp_path, "role.txt", f"What does a baker do?\n{line}\nShare\n"))
    assert [article.text[s:e] for s, e in article.body] == [line]


def test_read_keeps_short_headings_and_list_items_in_the_body(tmp_path):
    text = "Vad gör en kock?\nEn kock lagar mat i ett kök.\nKrav\nKörkort B\nSvenska\nDu är noggrann och har erfarenhet."
    article = read_one(write(tmp_path, "kock.txt", text))
    assert [article.text[s:e] for s, e in article.body] == text.split("\n")[1:]


def test_read_keeps_a_short_title_above_the_facts_line_of_a_job_ad(tmp_path):
    text = ("Servicetekniker til varmepumper\nNordvarme A/S · Silkeborg · Fuldtid\n\nOm os\n"
            "Nordvarme er en familieejet virksomhed med 40 medarbejdere.\n")
    article = read_one(write(tmp_path, "tekniker.txt", text))
    assert article.title == "Servicetekniker til varmepumper"
    assert [article.text[s:e] for s, e in article.body] == ["Om os", text.split("\n")[4]]


def test_read_corpus_titles_and_skip_line():
    articles = list(read(sorted(CORPUS.glob("0*.txt"))))
    assert [a.title for a in articles] == [
        "Hur blir jag seniorkoordinator?", "Vad är en seniorkoordinator?", "Điều phối viên bộ phận là gì?",
        "Hur blir jag processkoordinator?", "Co robi koordynator spotkania?"]
    vietnamese = articles[2]
    skip = vietnamese.text.index("Skip to main content")
    assert all(not (start <= skip < end) for start, end in vietnamese.body)
    assert vietnamese.body[0][0] > vietnamese.title_span[1]
    for article in articles:
        assert article.encoding == "utf-8"
        assert_offsets_slice(article)


def test_read_refuses_binary_and_empty_files_but_reads_the_others(tmp_path):
    write(tmp_path, "a_good.txt", SWEDISH)
    write(tmp_path, "b_binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    write(tmp_path, "c_empty.md", b"")
    write(tmp_path, "d_blank.txt", "  \n\t\n")
    write(tmp_path, "e_good.html", "<h1>Rubrik</h1><p>Text här.</p>")
    records = list(read([tmp_path]))
    kinds = [(type(record).__name__, Path(record.path).name) for record in records]
    assert kinds == [("Article", "a_good.txt"), ("Refused", "b_binary.txt"), ("Refused", "c_empty.md"),
                     ("Refused", "d_blank.txt"), ("Article", "e_good.html")]
    assert "binary" in records[1].reason and "convert" in records[1].reason
    assert "empty" in records[2].reason and "empty" in records[3].reason


def test_read_refuses_an_explicit_file_of_unsupported_type(tmp_path):
    record = read_one(write(tmp_path, "cv.pdf", b"%PDF-1.7"))
    assert isinstance(record, Refused) and record.path.endswith("cv.pdf")
    assert "'.pdf'" in record.reason and ".txt" in record.reason


def test_read_refuses_a_missing_path(tmp_path):
    record = read_one(tmp_path / "nope.txt")
    assert isinstance(record, Refused) and "no such file" in record.reason


def test_read_walks_folders_sorted_skipping_hidden_and_other_extensions(tmp_path):
    for name in ("roles/sv/kock.txt", "roles/pl/kucharz.md", "a.htm", ".hidden.txt", ".git/x.txt",
                 "roles/notes.docx", "roles/img.png", "README.md", "roles/readme.txt"):
        write(tmp_path, name, "Rubrik\nText.")
    # the id is the file name without suffix, whatever the root: the same file read from another root is one document
    assert [a.doc_id for a in read([tmp_path])] == ["a", "kucharz", "kock"]
    assert [a.doc_id for a in read([tmp_path / "roles"])] == ["kucharz", "kock"]
    direct = read_one(tmp_path / "roles" / "sv" / "kock.txt")
    assert direct.doc_id == "kock" and direct.path == str(tmp_path / "roles" / "sv" / "kock.txt")
    assert read_one(tmp_path / "README.md").doc_id == "README"  # named explicitly: read


def test_read_title_of_text_without_heading_is_its_first_sentence(tmp_path):
    text = "En kock lagar mat i ett kök. Kocken beställer också råvaror och planerar menyer för veckan."
    article = read_one(write(tmp_path, "kock.txt", text))
    assert article.title == "En kock lagar mat i ett kök."
    assert article.title_span == (0, len(article.title))
    assert article.body == ((0, len(text)),)


def test_read_first_line_ending_in_a_colon_is_a_heading_and_the_title_comes_from_the_file_name(tmp_path):
    text = "Zadania:\n- prowadzenie korespondencji\n- obsługa klientów\n"
    article = read_one(write(tmp_path, "magazynier-krakow_2.txt", text))
    assert (article.title, article.title_span) == ("magazynier krakow 2", (0, 0))
    assert article.text[slice(*article.body[0])] == "Zadania:"
