"""Files -> Article: decoding, HTML text, boilerplate lines, title. The only module that opens sources.

``Article.text`` is the decoded file with line endings normalized to ``\\n`` and
Unicode in NFC form (Vietnamese often arrives decomposed); for HTML it is the
visible text, one block element per line. All offsets (``body``,
``title_span``, and the sentence and item offsets built on them) index that
normalized text. Boilerplate is never deleted from it: ``body`` lists the spans
of the content lines, so web furniture ("Skip to main content", cookie notices,
share buttons, menus) and the title line lie outside it. The title is the first
non-boilerplate line when it reads as a heading or question (markdown ``#``
stripped), else the text's first sentence; for HTML the first ``<h1>``, else
``<title>``, whose ``title_span`` is ``(0, 0)`` as it is not in the visible text.
A first line ending in a colon ("Zadania:") is a section heading, not a title:
it stays in the body and the title is the file name, with ``title_span`` ``(0, 0)``.
"""
from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from ingest import langdata
from kb.records import Article, Refused

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".html", ".htm")
# The largest file read as one article ($KB_MAX_FILE_MB, default 2 MB): a job ad or a role article is a few
# kilobytes, and a bigger file (a dump, a book) would hold the ingest for many minutes; it is refused by name.
MAX_FILE_BYTES = int(float(os.environ.get("KB_MAX_FILE_MB", "2")) * 1_000_000)
# Text that is UTF-8 but for a few broken bytes: at least this many well-formed non-ASCII characters per broken
# byte. Such a file is read as UTF-8 with the broken bytes replaced (and a warning); a file in a legacy encoding
# (cp1250 Polish, cp1258 Vietnamese) has almost no well-formed UTF-8 sequences and goes to the codec guess.
DAMAGED_UTF8_RATIO = 2
REPLACED = "utf-8 (invalid bytes replaced)"
# A folder's own notes are not articles: skipped in folder walks, read when named explicitly.
FOLDER_NOTES = frozenset({"readme", "license", "changelog"})
# Single-byte codecs tried for non-UTF-8 files besides charset-normalizer's guesses; on a tie the
# first wins (cp1252 for Swedish, cp1250/ISO-8859-2 for Polish, cp1258 for Vietnamese).
FALLBACK_CODECS = ("cp1252", "cp1250", "iso8859-2", "cp1258", "iso8859-15", "cp1251", "koi8-r", "latin-1")
DROPPED_TAGS = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside",
                "form", "svg", "iframe", "button", "select", "head")
BLOCK_TAGS = frozenset("""p div section article main h1 h2 h3 h4 h5 h6 li ul ol dl dt dd table tr td th
    blockquote pre hr figure figcaption address details summary caption title""".split())
BULLET = re.compile(r"(?:[-*+•‣◦▪●–·]|\d{1,3}[.)]|[a-zA-Z]\))\s+")
HEADING_MARK = re.compile(r"#{1,6}\s+")
COLONS = (":", "：")  # with the full-width colon of Chinese and Japanese text; a line ending in one opens a section
SENTENCE_END = ".!?…:;。"
MAX_TITLE_WORDS = 20
SHORT_WORDS = 3  # lines of at most this many words and no sentence punctuation are "short"
NAV_SEPARATORS = re.compile(r"\s+[|·•›»>/]\s+")
# Where a share bar sends a page: the same names in every language
SHARE_TARGETS = frozenset({"facebook", "twitter", "x", "linkedin", "whatsapp", "instagram", "pinterest", "telegram",
                           "reddit", "xing", "tiktok", "messenger", "e-mail", "email"})
_BLOCK_END = object()  # marks where an HTML block element closes


def read(paths: Iterable[str | Path], prefix: str = "") -> Iterator[Article | Refused]:
    """Read files and folders (recursively, sorted) into articles; unusable files become Refused.

    Folder walks skip hidden files, other extensions and README/LICENSE/CHANGELOG notes silently.
    A document's id is ``prefix`` + the file's name without its suffix, whatever folder or root it is
    read from, so the same file ingested from another root stays one document; a second file of the
    same name in one run is refused (it would replace the first).
    """
    seen: dict[str, Path] = {}
    for record in _read_paths(paths, prefix):
        if isinstance(record, Article):
            first = seen.setdefault(record.doc_id, Path(record.path))
            if first.resolve() != Path(record.path).resolve():
                record = Refused(record.path, f"has the same name as {first}, so both would be document "
                                              f"{record.doc_id!r}; rename one of them")
        yield record


def doc_id_for(path: Path, prefix: str = "") -> str:
    """The document id of a file: ``prefix`` + its name without the suffix ("000_8c16…", "upload/kock")."""
    return prefix + path.stem


def _read_paths(paths: Iterable[str | Path], prefix: str) -> Iterator[Article | Refused]:
    for path in map(Path, paths):
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                relative = file.relative_to(path)
                if any(part.startswith(".") for part in relative.parts) or file.stem.lower() in FOLDER_NOTES:
                    continue
                if file.is_file() and file.suffix.lower() in SUFFIXES:
                    yield read_file(file, doc_id_for(file, prefix))
        elif not path.exists():
            yield Refused(str(path), "no such file or folder; check the path")
        elif path.suffix.lower() not in SUFFIXES:
            yield Refused(str(path), f"unsupported file type '{path.suffix}'; convert it to one of "
                                     f"{', '.join(SUFFIXES)} or leave it out")
        else:
            yield read_file(path, doc_id_for(path, prefix))


def read_file(path: Path, doc_id: str) -> Article | Refused:
    """One file as an Article, or Refused with the reason and what to do."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return Refused(str(path), f"the file is {size / 1e6:.1f} MB, over the limit of "
                                      f"{MAX_FILE_BYTES / 1e6:g} MB per article; split it into smaller files "
                                      f"(or raise $KB_MAX_FILE_MB)")
        raw = path.read_bytes()
    except OSError as error:
        return Refused(str(path), f"cannot be read ({error.strerror}); check that it exists and is readable")
    if not raw.strip():
        return Refused(str(path), "the file is empty; add text or leave it out")
    html = path.suffix.lower() in (".html", ".htm")
    try:
        decoded, encoding = decode(raw, _meta_charset(raw) if html else None)
    except ValueError as error:
        return Refused(str(path), str(error))
    if encoding == REPLACED:
        log.warning("%s: not valid UTF-8 (%d broken bytes, the first at byte %d); read as UTF-8 with them "
                    "replaced by U+FFFD; re-save it as UTF-8 to keep every letter", path, decoded.count("\ufffd"),
                    _first_invalid(raw))
    h1 = page_title = None
    if html:
        decoded, h1, page_title = html_text(decoded)
    text = unicodedata.normalize("NFC", decoded.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        return Refused(str(path), "the file has no visible text; add text or leave it out")
    title, title_span, body = layout(text, h1=h1, page_title=page_title, soft_wraps=not html)
    title = title or title_from_name(path)
    return Article(doc_id=doc_id, path=str(path), text=text, title=title, encoding=encoding,
                   content_hash=hashlib.sha256(raw).hexdigest(), body=body, title_span=title_span)


def title_from_name(path: Path) -> str:
    """The title of an article whose text has none (it opens with a section heading): its file name,
    with underscores and hyphens read as spaces ("magazynier_wroclaw.txt" -> "magazynier wroclaw")."""
    return re.sub(r"[_\-\s]+", " ", path.stem).strip() or path.name


# -- decoding ---------------------------------------------------------------------------------

def decode(raw: bytes, hint: str | None = None) -> tuple[str, str]:
    """Bytes -> (text, codec name); UTF-8 (BOM dropped) first, else the most plausible codec."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(codec), codec
            except UnicodeDecodeError as error:
                raise ValueError(f"starts with a {codec} byte-order mark but does not decode as {codec} "
                                 f"({error.reason} at byte {error.start}); re-save it as UTF-8") from None
    controls = sum(byte < 32 and byte not in b"\t\n\r\f\v\x1b" for byte in raw[:65536])
    if b"\x00" in raw or controls > 0.01 * min(len(raw), 65536):
        raise ValueError("looks like a binary file (it contains NUL or control bytes), not text; "
                         "convert it to .txt, .md or .html or leave it out")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    replaced = raw.decode("utf-8", errors="replace")
    broken = replaced.count("\ufffd")
    if sum(ord(char) > 127 for char in replaced) - broken >= DAMAGED_UTF8_RATIO * broken:
        return replaced, REPLACED  # UTF-8 with a few broken bytes: a legacy codec would garble every letter
    best: tuple[float, str, str] | None = None
    for codec in _candidate_codecs(raw, hint):
        try:
            text = unicodedata.normalize("NFC", raw.decode(codec))
        except (UnicodeDecodeError, LookupError):
            continue
        score = _plausibility(text)
        if best is None or score > best[0] + 1e-9:  # on a tie the earlier codec wins
            best = (score, text, codec)
    if best is None or best[0] < -0.5:
        raise ValueError("its text encoding could not be recognized (it is not UTF-8); "
                         "re-save it as UTF-8 and ingest it again")
    return best[1], best[2]


def _first_invalid(raw: bytes) -> int:
    """The offset of the first byte that is not UTF-8."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start
    return -1


def _candidate_codecs(raw: bytes, hint: str | None) -> list[str]:
    from charset_normalizer import from_bytes

    guesses = [match.encoding for match in list(from_bytes(raw))[:6]]
    names: list[str] = []
    for name in ([hint] if hint else []) + list(FALLBACK_CODECS[:-1]) + guesses + [FALLBACK_CODECS[-1]]:
        try:
            normal = codecs.lookup(name).name
        except LookupError:
            continue
        if normal not in names and not normal.startswith("utf"):
            names.append(normal)
    return names


def _plausibility(text: str) -> float:
    """How much a decoding looks like real text: language-model confidence x alphabet fit, minus mojibake."""
    from kb.text.language import alphabet_fit, language_scores

    positions = [i for i, char in enumerate(text) if ord(char) > 127]
    if not positions:
        return 1.0
    bad = 0
    for i in positions:
        char, category = text[i], unicodedata.category(text[i])
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if category[0] in "CM" or char == "\ufffd":  # controls, and marks NFC could not attach
            bad += 1
        elif category[0] != "L" and before.isalpha() and after.isalpha():  # "u³atwia"
            bad += 1
        elif char.isupper() and before.islower():  # "ÐiêÌu"
            bad += 1
    scores = language_scores(text[:3000])
    fit = alphabet_fit(text, scores[0][0]) if scores else 0.0
    confidence = scores[0][1] if scores else 0.0
    return confidence * fit - 3.0 * bad / len(positions)


def _meta_charset(raw: bytes) -> str | None:
    found = re.search(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", raw[:4096], re.IGNORECASE)
    return found.group(1).decode("ascii") if found else None


# -- HTML -------------------------------------------------------------------------------------

def html_text(markup: str) -> tuple[str, str | None, str | None]:
    """Visible text of a page (one block per line), its first <h1> and its <title>."""
    from bs4 import BeautifulSoup, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction

    soup = BeautifulSoup(markup, "html.parser")
    page_title = _collapse(soup.title.get_text(" ")) if soup.title else None
    for tag in soup.find_all(DROPPED_TAGS):
        tag.decompose()
    for tag in soup.find_all(lambda t: t.has_attr("hidden") or t.get("aria-hidden") == "true"
                             or "display:none" in t.get("style", "").replace(" ", "")):
        tag.decompose()
    h1_tag = soup.find("h1")
    h1 = _collapse(h1_tag.get_text(" ")) if h1_tag else None
    parts: list[str] = []
    stack: list = [soup]
    while stack:
        node = stack.pop()
        if node is _BLOCK_END:
            parts.append("\n")
        elif isinstance(node, NavigableString):
            if not isinstance(node, (Comment, Declaration, Doctype, ProcessingInstruction)):
                parts.append(str(node))
        elif node.name == "br":
            parts.append("\n")
        else:
            if node.name in BLOCK_TAGS:
                parts.append("\n• " if node.name == "li" else "\n")  # browsers show list bullets
                stack.append(_BLOCK_END)
            stack.extend(reversed(list(node.children)))
    lines: list[str] = []
    bullet = False
    for line in map(_collapse, "".join(parts).split("\n")):
        if line == "•":  # a list item whose text sits in a nested block
            bullet = True
        elif line:
            lines.append(f"• {line}" if bullet else line)
            bullet = False
    return "\n".join(lines), h1 or None, page_title or None


def _collapse(text: str) -> str:
    return " ".join(text.split())


# -- layout: boilerplate, title, body ---------------------------------------------------------

@lru_cache(maxsize=1)
def boilerplate_patterns() -> re.Pattern:
    """One regex of every language's ``lang/<code>/boilerplate.txt`` lines (the language is not known yet
    when reading)."""
    patterns = [f"(?:{line})" for code in langdata.codes() for line in langdata.load(code).boilerplate]
    return re.compile("|".join(patterns) or "(?!)", re.IGNORECASE)


def is_soft_wrap(previous: str, following: str) -> bool:
    """Whether a line break between two lines only wraps a sentence (the lines belong together)."""
    previous, following = previous.strip(), following.strip()
    return (len(previous) >= 40 and bool(following) and following[0].islower()
            and previous[-1] not in SENTENCE_END and not BULLET.match(following)
            and not HEADING_MARK.match(previous))


def _lines(text: str) -> list[tuple[int, int, str]]:
    found, offset = [], 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            start = offset + line.index(stripped[0])
            found.append((start, start + len(stripped), stripped))
        offset += len(line) + 1
    return found


def _is_short(line: str) -> bool:
    return (len(line.split()) <= SHORT_WORDS and line[-1] not in SENTENCE_END
            and not BULLET.match(line) and not HEADING_MARK.match(line))


def _is_boilerplate(line: str) -> bool:
    return _is_known_boilerplate(line) or _is_separated_list(line)


def _is_known_boilerplate(line: str) -> bool:
    """A line the boilerplate patterns know ("Skip to content", "Dela artikeln"), or one without letters."""
    if not any(char.isalpha() for char in line):
        return True  # rules, separators, page numbers
    core = line.strip(" \t»«›‹|•·*#_:>-–—…").strip()
    return len(line.split()) <= 60 and bool(boilerplate_patterns().fullmatch(core))


def _is_separated_list(line: str) -> bool:
    """Short items between separators: a menu ("Home | Jobs | About"), a job's facts line
    ("Nordvarme A/S · Silkeborg · Fuldtid") or a share bar behind a label in any language
    ("Bu yazıyı paylaş: Facebook | Twitter | WhatsApp"); either way no content."""
    items = NAV_SEPARATORS.split(line)
    if len(items) < 3:
        return False
    if all(len(item.split()) <= 3 for item in items):
        return True
    targets = [items[0].rpartition(":")[2]] + items[1:]
    return (all(len(item.split()) <= 3 for item in targets)
            and sum(item.strip().lower() in SHARE_TARGETS for item in targets) >= 2)


def _menus(lines: list[tuple[int, int, str]], boiler: list[bool]) -> None:
    """Short lines around boilerplate before the content, and lone words after it, are web furniture.

    Before the first long line, a region that holds a line the boilerplate patterns know is a menu
    as a whole (its last line, right before the content, is a heading and stays); a line of items
    between separators alone does not make one, since a job's facts line follows its short title
    ("Servicetekniker" / "Nordvarme A/S · Silkeborg · Fuldtid"). After the last long line, one or
    two single-word lines ("Share", "Print" in any language) are widgets.
    """
    long_lines = [i for i, (_, _, line) in enumerate(lines) if not boiler[i] and not _is_short(line)]
    if not long_lines:
        return
    first, last = long_lines[0], long_lines[-1]
    if any(boiler[i] and _is_known_boilerplate(lines[i][2]) for i in range(first)):
        for i in range(first - 1):
            boiler[i] = True
    trailing = [i for i in range(last + 1, len(lines)) if not boiler[i]]
    if len(trailing) <= 2 and all(len(lines[i][2].split()) == 1 for i in trailing):
        for i in trailing:
            boiler[i] = True


def layout(text: str, *, h1: str | None = None, page_title: str | None = None,
           soft_wraps: bool = True) -> tuple[str, tuple[int, int], tuple[tuple[int, int], ...]]:
    """The title, its span and the body spans (content lines, soft-wrapped lines joined)."""
    lines = _lines(text)
    boiler = [_is_boilerplate(line) for _, _, line in lines]
    _menus(lines, boiler)
    title_index = next((i for i, (_, _, line) in enumerate(lines) if not boiler[i]), None)
    if h1 is not None:
        title_index = next((i for i, (_, _, line) in enumerate(lines) if line == h1), title_index)
    title, title_span, title_line = _title(lines, title_index, h1 or page_title)
    if title_line is not None:
        for i in range(title_line):  # before the headline: breadcrumbs, dates, menus
            boiler[i] = boiler[i] or _is_short(lines[i][2]) or len(lines[i][2].split()) <= 6
    body: list[list[int]] = []
    for i, (start, end, line) in enumerate(lines):
        if boiler[i] or i == title_line:
            continue
        joined = (soft_wraps and body and body[-1][1] == lines[i - 1][1]  # previous line is in the body
                  and text.count("\n", body[-1][1], start) == 1 and is_soft_wrap(lines[i - 1][2], line))
        if joined:
            body[-1][1] = end
        else:
            body.append([start, end])
    return title, title_span, tuple((start, end) for start, end in body)


def _title(lines: list[tuple[int, int, str]], index: int | None,
           given: str | None) -> tuple[str, tuple[int, int], int | None]:
    """(title, title_span, index of a title line outside the body or None)."""
    if index is None:
        return given or "", (0, 0), None
    start, end, line = lines[index]
    marker = HEADING_MARK.match(line)
    if marker:
        inner = re.sub(r"\s+#+$", "", line[marker.end():])  # "## Title ##" -> "Title"
        return given or inner, (start + marker.end(), start + marker.end() + len(inner)), index
    if given is not None:  # HTML: the <h1> line, or a <title> that is not in the text
        return (given, (start, end), index) if given == line else (given, (0, 0), None)
    if line.endswith(COLONS):  # "Zadania:" opens a list: a section heading, so it stays in the body
        return "", (0, 0), None
    if len(line.split()) <= MAX_TITLE_WORDS and line[-1] not in ".;," and not BULLET.match(line):
        return line, (start, end), index
    # No heading: the title is the first sentence (shortened); the line stays in the body.
    first = re.match(r".+?[.!?](?=\s|$)", line)
    head = first.group(0) if first and len(first.group(0)) <= 120 else line[:120].rsplit(" ", 1)[0]
    return head, (start, start + len(head)), None
