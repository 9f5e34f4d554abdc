"""Training and evaluation documents from open data and the project's annotated sets.

Each source becomes ``Doc`` records: a text and its gold spans, labelled ``duty``, ``skill:<subtype>`` or
``item`` (an item of either kind: SkillSpan, Kompetencer and Green mark skills without telling tasks from
requirements). Sources (``../shared/data``, see its README for licences):

* ESCO ``skill/competence`` labels (actions, "lay tiles") as duties, ``knowledge`` labels as
  ``skill:knowledge``, transversal labels as ``skill:skill``, in en (v1.1.1), pl (the v1.2.1 collections)
  and sv (``labels_sv.tsv``, the kind from the English file);
* ESCO occupation descriptions (en, pl): each sentence or ``;``-separated part a duty;
* SkillSpan (en) and Kompetencer (da) train/test, Green (en, test only);
* the project's gold sets (``tests/data/dev``, ``tests/data/prose``, ``tests/data/heldout/*``).
"""
from __future__ import annotations

import csv
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
_PART = re.compile(r"[^.;]+[.;]?")
_TAGS = {"SKILL": "item", "Skill": "item", "KNOWLEDGE": "skill:knowledge", "Knowledge": "skill:knowledge",
         "Qualification": "skill:education", "Experience": "skill:experience", "Domain": "skill:knowledge"}
LABELS_PER_DOC = 20
SENTENCES_PER_DOC = 10


@dataclass(frozen=True)
class Doc:
    """A text with gold spans (start, end, label); ``source`` names where it comes from."""

    doc_id: str
    source: str
    lang: str
    title: str
    text: str
    spans: tuple[tuple[int, int, str], ...]
    body: tuple[tuple[int, int], ...] = ()  # the reader's body regions, for a document read from a file


def esco_labels(data: Path, lang: str, duties: int, knowledge: int, seed: int = 0) -> list[Doc]:
    """Docs of ESCO labels, LABELS_PER_DOC lines each: competences as duties, knowledge and transversal labels as skills."""
    rows = _skill_rows(data, lang)
    rng = random.Random(seed)
    rng.shuffle(rows)
    chosen = [row for row in rows if row[1] == "duty"][:duties] + \
        [row for row in rows if row[1] != "duty"][:knowledge]
    rng.shuffle(chosen)
    docs = []
    for number in range(0, len(chosen), LABELS_PER_DOC):
        lines, spans, offset = [], [], 0
        for label, kind in chosen[number:number + LABELS_PER_DOC]:
            spans.append((offset, offset + len(label), kind))
            lines.append(label)
            offset += len(label) + 1
        docs.append(Doc(f"esco_labels_{lang}_{number // LABELS_PER_DOC}", "esco_labels", lang, "", "\n".join(lines),
                        tuple(spans)))
    return docs


def _skill_rows(data: Path, lang: str) -> list[tuple[str, str]]:
    if lang == "sv":
        return _swedish_skill_rows(data)
    if lang == "en":
        files = [data / "v1.1.1_skills_en.csv"]
    else:
        files = sorted(data.glob(f"v1.2.1_*SkillsCollection_{lang}.csv"))
    seen, rows = set(), []
    for path in files:
        transversal = "transversal" in path.name.lower()
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                label = (row.get("preferredLabel") or "").strip()
                if not label or label in seen:
                    continue
                seen.add(label)
                kind = "skill:skill" if transversal or row.get("reuseLevel") == "transversal" else \
                    "skill:knowledge" if row.get("skillType") == "knowledge" else "duty"
                rows.append((label, kind))
    return rows


def _swedish_skill_rows(data: Path) -> list[tuple[str, str]]:
    """Swedish skill labels (``labels_sv.tsv``) with the kind of their concept in the English skills file."""
    kinds = {}
    with (data / "v1.1.1_skills_en.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            kinds[row["conceptUri"]] = "skill:skill" if row.get("reuseLevel") == "transversal" else \
                "skill:knowledge" if row.get("skillType") == "knowledge" else "duty"
    rows, seen = [], set()
    with (data / "labels_sv.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            label = (row.get("label_sv") or "").strip()
            if row.get("concept_type") == "skill" and row["concept_uri"] in kinds and label and label not in seen:
                seen.add(label)
                rows.append((label, kinds[row["concept_uri"]]))
    return rows


def esco_descriptions(data: Path, lang: str, count: int, exclude: frozenset[str] = frozenset(),
                      seed: int = 0) -> list[Doc]:
    """ESCO occupation descriptions as duty prose: every sentence or ``;``-part of one is a duty."""
    with (data / f"v1.2.1_occupations_{lang}.csv").open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["description"].strip() and row["conceptUri"] not in exclude]
    random.Random(seed).shuffle(rows)
    docs = []
    for row in rows[:count]:
        text = row["description"].strip()
        spans = []
        for match in _PART.finditer(text):
            piece = match.group().strip()
            if len(piece.split()) >= 2:
                start = text.index(piece, match.start())
                spans.append((start, start + len(piece.rstrip(".;")), "duty"))
        docs.append(Doc("esco_desc_" + row["conceptUri"].rsplit("/", 1)[-1][:8], "esco_desc", lang,
                        row["preferredLabel"], text, tuple(spans)))
    return docs


def conll(path: Path, source: str, lang: str, column: int = 1, extra: int | None = 2) -> list[Doc]:
    """A BIO-tagged file as docs of SENTENCES_PER_DOC sentences (a file without blank lines is cut at full stops)."""
    sentences: list[list[tuple[str, str]]] = [[]]
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t") if "\t" in line else line.split(" ")
        if not line.strip() or fields[0] == "-DOCSTART-":
            if sentences[-1]:
                sentences.append([])
            continue
        tag = fields[column] if len(fields) > column else "O"
        if extra is not None and len(fields) > extra and tag == "O" and fields[extra] != "O":
            tag = fields[extra]
        sentences[-1].append((fields[0], tag))
        if fields[0] in (".", "!", "?") and len(sentences[-1]) > 3:
            sentences.append([])
    sentences = [sentence for sentence in sentences if sentence]
    docs = []
    for number in range(0, len(sentences), SENTENCES_PER_DOC):
        text, spans = _bio_text(sentences[number:number + SENTENCES_PER_DOC])
        docs.append(Doc(f"{source}_{number // SENTENCES_PER_DOC}", source, lang, "", text, spans))
    return docs


def _bio_text(sentences: list[list[tuple[str, str]]]) -> tuple[str, tuple[tuple[int, int, str], ...]]:
    """Tokens joined by spaces, sentences by line breaks; the spans of B-/I- runs."""
    text, spans, open_span = "", [], None
    for sentence in sentences:
        if text:
            text += "\n"
        for position, (token, tag) in enumerate(sentence):
            start = len(text) + (1 if position else 0)
            text += (" " if position else "") + token
            label = _TAGS.get(tag[2:]) if tag[:2] in ("B-", "I-") else None
            if open_span and (tag.startswith("B-") or label != open_span[2] or position == 0):
                spans.append(open_span)
                open_span = None
            if label:
                open_span = (open_span[0], len(text), label) if open_span else (start, len(text), label)
        if open_span:
            spans.append(open_span)
            open_span = None
    return text, tuple(spans)


def gold_set(folder: Path, source: str) -> list[Doc]:
    """A project gold set (``gold/*.json`` with article paths relative to the repository)."""
    from ingest.read import read_file

    docs = []
    for path in sorted((folder / "gold").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        article = read_file(ROOT / record["path"], record["doc_id"])
        spans = tuple((item["start"], item["end"], item["kind"] if item["kind"] == "duty"
                       else f"skill:{item.get('subtype') or 'skill'}") for item in record["items"])
        docs.append(Doc(record["doc_id"], source, record["lang"], article.title, article.text, spans, article.body))
    return docs


def spans_sets(data: Path) -> dict[str, Callable[[], list[Doc]]]:
    """The annotated job-posting sets by name (train and test splits)."""
    spans = data / "spans"
    return {
        "skillspan_train": lambda: [doc for name in ("house", "tech") for doc in
                                    conll(spans / "skillspan" / f"skillspan_{name}_train.conll", f"skillspan_{name}", "en")],
        "skillspan_test": lambda: [doc for name in ("house", "tech") for doc in
                                   conll(spans / "skillspan" / f"skillspan_{name}_test.conll", f"skillspan_{name}", "en")],
        "kompetencer_train": lambda: conll(spans / "kompetencer" / "kompetencer_danish_train.conll", "kompetencer", "da"),
        "kompetencer_test": lambda: conll(spans / "kompetencer" / "kompetencer_danish_test.conll", "kompetencer_test", "da"),
        "green_test": lambda: conll(spans / "green" / "testset.conll", "green", "en", extra=None),
    }
