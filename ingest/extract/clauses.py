"""Clauses: a sentence split at clause punctuation, line breaks and subordinating words (``breaks``).

A purpose clause ("för att", "để") after a phrase too vague to stand alone stays with it, and so does one
inside the subject of a duty predicate; a short aside in brackets and a colon inside a name split nothing;
a subject that names requirements with a predicate of variation ("Education requirements vary by
employer") is cut out of its clause (``variation``).
"""
from __future__ import annotations

from kb.text.lemmas import Token
from ingest.extract.rules import Frame, LangRules, Matches

CLAUSE_PUNCT = frozenset(";:!?()[]：")
SHORT_ASIDE = 5  # tokens inside brackets that still belong to the clause around them


def clauses(tokens: list[Token], text: str, matches: Matches, frames: tuple[Frame, ...] = ()) -> list[tuple[int, int]]:
    """Token ranges between clause punctuation, line breaks and subordinating words; ``frames`` (the
    language's) tell a purpose clause inside the subject of a duty predicate, which ends nothing."""
    ranges, start, index = [], 0, 0
    inline = _short_brackets(tokens)
    while index < len(tokens):
        token = tokens[index]
        brk = matches.starting("BREAKS", index)
        inside_frame = any(s < index < e for _, s, e in matches.within("FRAME", 0, len(tokens)))
        newline = index > 0 and "\n" in text[tokens[index - 1].end:token.start]
        if newline and index > start:
            ranges.append((start, index))
            start = index
        if brk > 0 and _vague_before_purpose(tokens, (start, index), matches):
            brk = -1  # "theo dõi họ để đạt được X": the purpose says what the vague verb is for
        if brk > 0 and _purpose_in_subject(tokens, index, matches, frames):
            brk = -1  # "X để đạt được Y và giữ Z là các nhiệm vụ": the list goes on past the purpose
        if (token.text in CLAUSE_PUNCT and index not in inline and not _inside_word(tokens, index)) \
                or _full_stop(tokens, index) \
                or (brk > 0 and not inside_frame):
            if index > start:
                ranges.append((start, index))
            index = max(index + 1, brk)
            start = index
            continue
        index += 1
    if start < len(tokens):
        ranges.append((start, len(tokens)))
    return ranges


def _inside_word(tokens: list[Token], index: int) -> bool:
    """A colon written between letters without spaces ("1С:Управление", "Ing:in") joins a name, it ends nothing."""
    token = tokens[index]
    return (token.text == ":" and 0 < index < len(tokens) - 1
            and tokens[index - 1].end == token.start and tokens[index + 1].start == token.end)


def _short_brackets(tokens: list[Token]) -> set[int]:
    """Indexes of brackets around a short aside ("Deutschkenntnisse (mind. B2)", "(DEAS)"), which stays
    inside its clause instead of splitting it."""
    inline: set[int] = set()
    for index, token in enumerate(tokens):
        if token.text in "([":
            closing = ")" if token.text == "(" else "]"
            end = next((i for i in range(index + 1, min(len(tokens), index + SHORT_ASIDE + 2))
                        if tokens[i].text == closing), None)
            if end is not None:
                inline.update((index, end))
    return inline


def _vague_before_purpose(tokens: list[Token], span: tuple[int, int], matches: Matches) -> bool:
    """Whether a purpose clause (``purpose``: "för att", "aby", "để") follows a phrase too vague to stand
    alone: one that ends in a pronoun ("följa upp dem", "theo dõi họ") or is a lone word."""
    start, index = span
    if matches.starting("PURPOSE", index) < 0 or index == start:
        return False
    last = index - 1
    if any(matches.starting(label, i) == index for label in ("STRIP", "ROLE_PRONOUNS") for i in range(max(start, index - 2), index)):
        return True
    segment = [i for i in range(start, index) if not tokens[i].is_punct]
    separators = [i for i in segment if tokens[i].text == "," or matches.starting("CONJUNCTIONS", i) > 0]
    words = [i for i in segment if not separators or i > separators[-1]]
    return len(words) <= 1 and not tokens[last].is_punct


def _purpose_in_subject(tokens: list[Token], index: int, matches: Matches, frames: tuple[Frame, ...]) -> bool:
    """Whether a purpose clause (``purpose``) at ``index`` sits inside the subject of a duty predicate later in
    the sentence ("Chỉ đạo X, làm việc với Y để đạt được Z và giữ W là các nhiệm vụ khác"): the predicate
    names the whole list before its copula, so the purpose is one item's complement, not a clause break."""
    if matches.starting("PURPOSE", index) < 0:
        return False
    stop = next((i for i in range(index, len(tokens)) if tokens[i].text in CLAUSE_PUNCT or _full_stop(tokens, i)),
                len(tokens))
    for _, copula, copula_end in matches.within("COPULAS", index, stop):
        for label, start, _ in matches.within("FRAME", copula_end, min(stop, copula_end + 3)):
            frame = frames[int(label.split(":")[1])] if frames else None
            if frame is not None and frame.kind == "duty" and frame.position == "before":
                return True
    return False


def _full_stop(tokens: list[Token], index: int) -> bool:
    """A full stop inside a sentence ends a clause unless it follows an abbreviation ("kat. B")."""
    if tokens[index].text not in (".", "…") or index + 1 >= len(tokens):
        return tokens[index].text in (".", "…")
    previous = tokens[index - 1].text if index else ""
    return tokens[index + 1].text[:1].isupper() and len(previous) > 3


def varying_requirements(tokens: list[Token], span: tuple[int, int], matches: Matches,
                         rules: LangRules) -> tuple[int, int] | None:
    """The token range of a subject that names requirements and the predicate of variation after it
    (``variation``: "vary by", "varierar", "khác nhau tùy theo"): "Education requirements vary by employer"
    is talk about requirements, not one. The subject starts after the last comma before the predicate."""
    lo, hi = span
    for _, start, end in matches.within("VARIATION", lo, len(tokens)):
        if start >= hi:
            break
        subject = max([lo] + [i + 1 for i in range(lo, start) if tokens[i].text == ","])
        skill_cues = [m for m in matches.within("FRAME", subject, start)
                      if rules.frames[int(m[0].split(":")[1])].kind == "skill"]
        if skill_cues or matches.within("SECTION:skill", subject, start) or matches.within("HEAD", subject, start):
            return subject, end
    return None
