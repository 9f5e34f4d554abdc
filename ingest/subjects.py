"""Who does what: subject checks for modal frames and role-subject verb frames.

A modal ("kan", "mogą", "có thể", "may") only states a duty when its subject is the
role: a role noun (data list ``roles``, or a word of the article title), a pronoun for
the role (``role_pronouns``), or no explicit subject at all. Sentences with a career
advice cue (``advice``: "om du vill bli", "jeśli chcesz zostać") state no duties.
A clause whose subject is the role and whose first verb is a plain present-tense
verb ("En kock tillagar mat", "Nauczyciel prowadzi lekcje") states a duty from that
verb on. Verbs are recognised generically from ``present_verb`` endings in the data
(form and lemma endings, lemma differing from the form) or a POS tag in ``verb_pos``.
"""
from __future__ import annotations

from typing import Protocol

from ingest.lemmas import Token

SUBJECT_WINDOW = 8  # a role subject stands within the first few tokens of its clause


class MatchIndex(Protocol):
    def starting(self, label: str, index: int) -> int: ...
    def within(self, prefix: str, start: int, end: int) -> list[tuple[str, int, int]]: ...


def is_role(tokens: list[Token], index: int, matches: MatchIndex, title: frozenset[str]) -> bool:
    """Whether the token at ``index`` names the role or stands for it."""
    if index < 0 or index >= len(tokens):
        return False
    return (matches.starting("ROLES", index) > 0 or matches.starting("ROLE_PRONOUNS", index) > 0
            or tokens[index].lemma in title)


def is_verb(token: Token, data: dict) -> bool:
    """A finite or infinitive verb by POS tag, or a present-tense form by its endings."""
    if token.pos and token.pos in data.get("verb_pos", []):
        return True
    endings = data.get("present_verb")
    if not endings or token.lemma == token.text.lower() or not token.text.isalpha():
        return False
    form, lemma = token.text.lower(), token.lemma
    form_endings = tuple(endings.get("form_endings") or [""])
    lemma_endings = tuple(endings.get("lemma_endings") or [""])
    excluded = tuple(endings.get("not_form_endings") or ["\0"])
    return (form.endswith(form_endings) and lemma.endswith(lemma_endings) and not form.endswith(excluded)
            and len(lemma) > 2)


def verbal_noun(token: Token, data: dict) -> bool:
    """A noun made from a verb by its ending (``verbal_noun_endings``: "-anie", "-enie", "-ing")."""
    endings = tuple(data.get("verbal_noun_endings", []))
    word = token.text.lower()
    return bool(endings) and word.isalpha() and len(word) > 5 and word.endswith(endings)


def role_subject(tokens: list[Token], lo: int, cue: tuple[int, int], matches: MatchIndex,
                 title: frozenset[str]) -> bool:
    """Whether the subject before (or right after) a cue is the role, or there is none."""
    start, end = cue
    relatives = matches.within("RELATIVES", lo, start)
    if relatives:  # "osób, które będą uczestniczyć": the subject is the relative's antecedent
        if any(is_role(tokens, index, matches, title) for index in range(relatives[-1][2], start)):
            return True  # the clause names the role itself ("rollen som en koordinator är att")
        antecedent = relatives[-1][1] - 1
        while antecedent > lo and (tokens[antecedent].is_punct or _gender_ending(tokens, antecedent)):
            antecedent -= 1
        return is_role(tokens, antecedent, matches, title)
    if any(is_role(tokens, index, matches, title) for index in range(lo, start)) or is_role(tokens, end, matches, title):
        return True
    subject_end = min([start] + [s for _, s, _ in matches.within("FRAME", lo, start)])  # before the first frame
    skipped: set[int] = set()
    for label in ("STRIP", "CONJUNCTIONS", "VERB_MARKERS"):
        for _, s, e in matches.within(label, lo, subject_end):
            skipped.update(range(s, e))
    content = [i for i in range(lo, subject_end) if i not in skipped and not tokens[i].is_punct]
    return not content or matches.starting("PREPOSITIONS", content[0]) > 0


def _gender_ending(tokens: list[Token], index: int) -> bool:
    """A gender ending written after a slash ("magazziniere/a", "Mitarbeiter/in"), which is not the noun."""
    return index > 0 and tokens[index - 1].text == "/" and len(tokens[index].text) <= 3


def advice(tokens: list[Token], matches: MatchIndex) -> bool:
    """Whether the sentence gives career advice rather than describing the role."""
    return bool(matches.within("ADVICE", 0, len(tokens)))


def role_verb(tokens: list[Token], span: tuple[int, int], matches: MatchIndex, data: dict,
              title: frozenset[str]) -> int | None:
    """Index of the present-tense verb of a role subject that opens the clause, or None."""
    lo, hi = span
    if _job_subject(tokens, span, matches):
        return None  # "Arbetet som kock passar dig som ...": the job, not the role, does it
    for index in range(lo, min(hi - 1, lo + SUBJECT_WINDOW)):
        if any(start <= index for _, start, _ in matches.within("FRAME", lo, hi)) or matches.within("COPULAS", lo, index + 1):
            return None
        if not is_verb(tokens[index], data) or any(s <= index < e for _, s, e in matches.within("ROLES", lo, hi)):
            continue  # a verb-like word inside a role name ("điều phối viên") is no verb
        if any(is_role(tokens, i, matches, title) for i in range(lo, index)) or is_role(tokens, index + 1, matches, title):
            return index
    return None


def _job_subject(tokens: list[Token], span: tuple[int, int], matches: MatchIndex) -> bool:
    """Whether the clause opens with a word for the job itself (``job_nouns``), past subjects and
    determiners ("Arbetet som kock", "Denna tjänst")."""
    index, hi = span
    while index < hi:
        skip = max(matches.starting(label, index) for label in ("STRIP", "DETERMINERS"))
        if skip <= index:
            break
        index = skip
    return index < hi and matches.starting("JOB_NOUNS", index) > 0
