"""Pure presentation helpers for the Streamlit app: safe HTML, tables, groupings.

Article text is untrusted. Every function here that returns HTML escapes each
piece of text with ``html.escape`` first and only then adds its own tags, so the
result can be passed to ``st.markdown(..., unsafe_allow_html=True)``. Newlines
become ``<br>`` so that the whole snippet stays one HTML block and Markdown
never re-interprets the article text (no lists, headings, links or math).
No Streamlit import here: these functions are tested without it.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Iterable, Sequence

from kb.records import Hit

# Inline styles, because class names would need a global <style> block on every page.
# An item's confidence is a calibrated probability (fitted on sources the tagger was not trained on): below this,
# three in ten or more such items are expected to be wrong, so the app marks them. On held-out role articles and
# ads the share wrong is lower than that (the reliability tables are in docs/extraction_model.md).
LOW_CONFIDENCE = 0.7
MIN_ESCO_SCORE = "Minimum ESCO score"
MIN_ESCO_SCORE_HELP = ("Show only the ESCO links the matcher is at least this sure of (a calibrated probability); "
                       "an item under it keeps its text, without a concept.")
STYLES = {
    "match": "background:#ffd54f;color:inherit;padding:0 2px;border-radius:3px",
    "sentence": "background:#fff3c4;color:inherit;padding:0",
    "duty": "background:#c8e6c9;color:inherit;padding:0 1px;border-radius:3px",
    "skill": "background:#bbdefb;color:inherit;padding:0 1px;border-radius:3px",
}
HIT_COLUMNS = ("rank", "score", "kind", "subtype", "lang", "doc_id", "title", "text", "sentence",
               "start", "end", "sentence_start", "sentence_end")


@dataclass(frozen=True)
class Span:
    """A highlighted region of a text: ``text[start:end]`` styled as ``label``."""

    start: int
    end: int
    label: str = "match"
    tooltip: str = ""


def escape_text(text: str) -> str:
    """HTML-escape text and keep its line breaks."""
    return html.escape(text, quote=True).replace("\r\n", "\n").replace("\n", "<br>")


def highlight_html(text: str, spans: Iterable[Span]) -> str:
    """Escaped ``text`` with each span wrapped in ``<mark>``; where spans overlap the innermost wins."""
    length = len(text)
    spans = [Span(max(0, min(s.start, length)), max(0, min(s.end, length)), s.label, s.tooltip) for s in spans]
    spans = [s for s in spans if s.end > s.start]
    bounds = sorted({0, length, *(s.start for s in spans), *(s.end for s in spans)})
    pieces: list[str] = []
    for begin, end in zip(bounds, bounds[1:]):
        covering = [s for s in spans if s.start <= begin and end <= s.end]
        segment = escape_text(text[begin:end])
        if not covering:
            pieces.append(segment)
            continue
        inner = min(reversed(covering), key=lambda s: s.end - s.start)  # ties: the span given last
        title = f' title="{html.escape(inner.tooltip, quote=True)}"' if inner.tooltip else ""
        pieces.append(f'<mark class="kb-{inner.label}" style="{STYLES.get(inner.label, STYLES["match"])}"'
                      f"{title}>{segment}</mark>")
    return "".join(pieces)


def block(inner_html: str, css: str = "line-height:1.6") -> str:
    """Wrap already-safe HTML in one ``<div>`` (one HTML block for Markdown)."""
    return f'<div style="{css}">{inner_html}</div>'


def hit_sentence_html(hit: Hit) -> str:
    """The hit's source sentence with the matched span highlighted."""
    offset = hit.sentence_start
    return highlight_html(hit.sentence, [Span(hit.start - offset, hit.end - offset, "match")])


def hit_card_html(hit: Hit, esco: dict | None = None) -> str:
    """One search hit: kind, language, role title, score and its ESCO concept (if linked), then the
    highlighted sentence."""
    kind = hit.kind + (f" · {hit.subtype}" if hit.subtype else "")
    header = (f'<div style="font-size:0.85em;opacity:0.8">#{hit.rank} · <b>{html.escape(kind)}</b> · '
              f'<code>{html.escape(hit.lang)}</code> · {html.escape(hit.title)} · '
              f"score {hit.score:.3f}{esco_note_html(esco or {})}</div>")
    return block(header + f'<div class="kb-hit">{hit_sentence_html(hit)}</div>')


def article_context_html(text: str, hit: Hit) -> str:
    """The whole article with the hit's sentence shaded and its matched span marked."""
    spans = [Span(hit.sentence_start, hit.sentence_end, "sentence"), Span(hit.start, hit.end, "match")]
    return block(highlight_html(text, spans))


def article_items_html(text: str, items: Sequence[dict]) -> str:
    """An article's full text with its duties and skills highlighted (tooltip says which)."""
    spans = [Span(item["start"], item["end"], item["kind"],
                  item["kind"] + (f": {item['subtype']}" if item.get("subtype") else "")) for item in items]
    return block(highlight_html(text, spans))


def list_html(texts: Iterable[str]) -> str:
    """An escaped bullet list (an empty list shows a dash)."""
    rows = "".join(f"<li>{escape_text(text)}</li>" for text in texts)
    return f'<ul style="margin:0 0 0.5em 0">{rows}</ul>' if rows else "<p>–</p>"


def esco_note_html(item: dict) -> str:
    """An item's ESCO concept as a small escaped note after it ("→ ESCO: operate forklift · 0.99"), or ""."""
    if not item.get("esco_label"):
        return ""
    return (f' <small class="kb-esco" style="opacity:0.75">→ ESCO: {html.escape(item["esco_label"])} · '
            f'{float(item["esco_score"]):.2f}</small>')


def confidence_note_html(item: dict) -> str:
    """A "low confidence" note for an item the extractor is less sure of than LOW_CONFIDENCE, or ""."""
    confidence = float(item.get("confidence", 1.0))
    if confidence >= LOW_CONFIDENCE:
        return ""
    return f' <small class="kb-low" style="color:#b26a00">(low confidence {confidence:.2f})</small>'


def items_html(items: Iterable[dict]) -> str:
    """An escaped bullet list of items, each with its ESCO concept where it has one and a note when the
    extractor is unsure of it (a dash when empty)."""
    rows = "".join(f"<li>{escape_text(item['text'])}{confidence_note_html(item)}{esco_note_html(item)}</li>"
                   for item in items)
    return f'<ul style="margin:0 0 0.5em 0">{rows}</ul>' if rows else "<p>–</p>"


def occupation_note(doc: dict) -> str:
    """An article's best ESCO occupation as plain text (labels only, never a bare URI)."""
    if not doc.get("esco_label"):
        return "ESCO occupation: none fits"
    return f"ESCO occupation: {doc['esco_label']} ({float(doc['esco_score']):.2f})"


def essential_rows(profile: dict) -> list[dict]:
    """A role profile's essential skills as table rows, covered ones first (what the gaps download holds)."""
    rows = [{"essential skill": entry["esco_label"], "covered": entry["covered"], "item": entry["item"] or "",
             "sentence": entry["sentence"] or "", "score": entry["score"], "esco_uri": entry["esco_uri"]}
            for entry in profile["essential"]]
    return sorted(rows, key=lambda row: not row["covered"])


def esco_concept_rows(concepts: Iterable[dict]) -> list[dict]:
    """ESCO concept counts (``KnowledgeBase.esco_skills``) as table rows."""
    return [{"concept": row["esco_label"], "type": row["type"], "roles": row["roles"], "items": row["items"],
             "languages": ", ".join(row["languages"]), "best score": row["best_score"]} for row in concepts]


def shared_concept_rows(shared: Iterable[dict]) -> list[dict]:
    """The ESCO concepts two roles share, with the items of each that are linked to them."""
    return [{"ESCO concept": concept["esco_label"], "first role": "; ".join(concept["a_items"]),
             "second role": "; ".join(concept["b_items"])} for concept in shared]


def heading_html(text: str, level: int = 3, note: str = "") -> str:
    """An escaped heading with an optional escaped note after it."""
    small = f' <small style="opacity:0.7;font-weight:normal">{html.escape(note)}</small>' if note else ""
    return f"<h{level}>{html.escape(text)}{small}</h{level}>"


def legend_html() -> str:
    """What the highlight colours mean."""
    return block(f'<mark style="{STYLES["duty"]}">duty</mark> <mark style="{STYLES["skill"]}">skill</mark>',
                 "font-size:0.85em")


def group_skills(items: Iterable[dict]) -> dict[str, list[dict]]:
    """Skill items grouped by subtype, subtypes in alphabetical order, repeated texts dropped."""
    groups: dict[str, list[dict]] = {}
    for item in items:
        if item["kind"] != "skill":
            continue
        members = groups.setdefault(item.get("subtype") or "other", [])
        if all(member["text"] != item["text"] for member in members):
            members.append(item)
    return dict(sorted(groups.items()))


def hits_rows(hits: Sequence[Hit]) -> list[dict]:
    """Hits as flat rows (the columns of the CSV download)."""
    return [{column: hit.to_dict()[column] for column in HIT_COLUMNS} for hit in hits]


def hits_csv(hits: Sequence[Hit]) -> bytes:
    """Hits as UTF-8 CSV (with BOM so that spreadsheet programs read the accents), text that a spreadsheet
    would run as a formula quoted as ``kb export`` does (``kb.export.quote_formula``)."""
    from kb.export import csv_bytes

    return csv_bytes(hits_rows(hits), HIT_COLUMNS)


def shared_table_html(shared: Iterable[dict], title_a: str, title_b: str) -> str:
    """Aligned duty pairs side by side with their similarity, as an escaped HTML table."""
    cell = 'style="padding:4px 8px;border-bottom:1px solid #e6e6e6;vertical-align:top"'
    rows = "".join(f"<tr><td {cell}>{escape_text(row['a_text'])}</td><td {cell}>{escape_text(row['b_text'])}</td>"
                   f"<td {cell}>{float(row['similarity']):.2f}</td></tr>" for row in shared)
    head = "".join(f'<th style="text-align:left;padding:4px 8px">{html.escape(name)}</th>'
                   for name in (title_a, title_b, "similarity"))
    return f'<table class="kb-shared" style="width:100%;border-collapse:collapse"><tr>{head}</tr>{rows}</table>'


def doc_label(doc: dict) -> str:
    """A role as shown in pickers: title and language."""
    return f"{doc['title']} ({doc['lang']})"


def short_label(doc: dict, width: int = 32) -> str:
    """A short role label for chart axes."""
    title = doc["title"] if len(doc["title"]) <= width else doc["title"][:width - 1] + "…"
    return f"{title} ({doc['lang']})"


def count(value: object) -> int:
    """A count that may come as a number or as the collection it counts."""
    if isinstance(value, (int, float)):
        return int(value)
    return len(value) if hasattr(value, "__len__") else 0


def skill_rows(groups: Iterable[dict], doc_id: str | None = None) -> list[dict]:
    """Skill groups (``kb.analysis.skills()``) as flat table rows; with ``doc_id``, only groups that role mentions."""
    rows = []
    for group in groups:
        if doc_id and doc_id not in group.get("role_ids", ()):
            continue
        members = group.get("members") or {}
        examples = [f"{text} ({lang})" for lang, texts in sorted(members.items()) for text in texts]
        rows.append({"skill": group["label"], "subtype": group.get("subtype", ""), "roles": count(group.get("roles")),
                     "mentions": count(group.get("mentions")), "languages": ", ".join(group.get("languages", ())),
                     "members": " | ".join(examples)})
    return rows


def unique_skills(groups: Iterable[dict], doc_id: str, other_id: str) -> list[str]:
    """Labels of the skill groups that one role mentions and the other does not."""
    return [group["label"] for group in groups
            if doc_id in group.get("role_ids", ()) and other_id not in group.get("role_ids", ())]
