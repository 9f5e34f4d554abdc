"""Who does what: subject checks for modal frames and role-subject verb frames.

A modal ("kan", "mogą", "có thể", "may") only states a duty when its subject is the
role: a role noun (data list ``roles``, or a word of the article title), a pronoun for
the role (``role_pronouns``), or no explicit subject at all. Sentences with a career
advice cue (``advice``: "om du vill bli", "jeśli chcesz zostać") state no duties.
A clause whose subject is the role and whose first verb is a plain present-tense
verb ("En kock tillagar mat", "Nauczyciel prowadzi lekcje") states a duty from that
verb on; where the language drops the subject (``dropped_subject``: third-person endings), a
clause that opens with such a verb ("Często przygotowuje uczniów ...") speaks of the role too. A
subject that names the employer (``employer``: "nasze", "наши") is not the role. Where the finite verb
comes second (``verb_second``), the word between a fronted adverb or phrase and the role pronoun is the
role's verb even in a form without a telling ending ("Daarnaast werk je", "Ook begeleid je"). Verbs are
recognised generically from ``present_verb`` endings in the data (form and lemma endings, lemma
differing from the form) or a POS tag in ``verb_pos``.
"""
from __future__ import annotations

from typing import Protocol

from kb.text.lemmas import Token

SUBJECT_WINDOW = 8  # a role subject stands within the first few words of its clause
FUNCTION_WORDS = ("STRIP", "PREPOSITIONS", "CONJUNCTIONS", "DETERMINERS", "COPULAS", "BREAKS", "RELATIVES",
                  "NEGATIONS", "VERB_MARKERS", "SUBORDINATORS", "EMPLOYER", "ROLES", "ROLE_PRONOUNS")


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
    """A noun made from a verb by its ending (``verbal_noun_endings``: "-anie", "-enie", "-ing") or, where
    the ending does not tell, listed as an action noun in its base form (``verbal_nouns``: "анализ", "kontrola")."""
    endings = tuple(data.get("verbal_noun_endings", []))
    word = token.text.lower()
    if word in data.get("verbal_nouns", ()):
        return True
    return bool(endings) and word.isalpha() and len(word) > 5 and word.endswith(endings)


def role_subject(tokens: list[Token], lo: int, cue: tuple[int, int], matches: MatchIndex,
                 title: frozenset[str]) -> bool:
    """Whether the subject before (or right after) a cue is the role, or there is none."""
    start, end = cue
    # a relative pronoun inside the clause or opening it ("nhiệm vụ khác mà | anh ta có thể hoàn thành")
    relatives = [m for m in matches.within("RELATIVES", max(0, lo - 3), start) if m[2] >= lo]
    if relatives:  # "osób, które będą uczestniczyć": the subject is the relative's antecedent
        if any(matches.starting("ROLES", index) > 0 or tokens[index].lemma in title
               for index in range(relatives[-1][2], start)):
            return True  # the clause names the role itself ("rollen som en koordinator är att"); a pronoun
            # there ("nhiệm vụ khác mà anh ta có thể hoàn thành") has the antecedent as its object
        antecedent = relatives[-1][1] - 1
        while antecedent > lo and (tokens[antecedent].is_punct or _gender_ending(tokens, antecedent)):
            antecedent -= 1
        return is_role(tokens, antecedent, matches, title) or _role_predicate(tokens, (lo, antecedent), matches, title)
    if employer(matches, lo, start):
        return False
    if any(is_role(tokens, index, matches, title) for index in range(lo, start)) or is_role(tokens, end, matches, title):
        return True
    subject_end = min([start] + [s for _, s, _ in matches.within("FRAME", lo, start)])  # before the first frame
    skipped: set[int] = set()
    for label in ("STRIP", "CONJUNCTIONS", "VERB_MARKERS"):
        for _, s, e in matches.within(label, lo, subject_end):
            skipped.update(range(s, e))
    content = [i for i in range(lo, subject_end) if i not in skipped and not tokens[i].is_punct]
    return not content or matches.starting("PREPOSITIONS", content[0]) > 0


def _role_predicate(tokens: list[Token], span: tuple[int, int], matches: MatchIndex, title: frozenset[str]) -> bool:
    """Whether a relative's antecedent is the predicate noun of the role ("koordynator jest planistą, który
    specjalizuje się w X"): a copula inside the span with the role before it."""
    lo, antecedent = span
    copulas = [start for _, start, _ in matches.within("COPULAS", lo, antecedent)]
    return bool(copulas) and any(is_role(tokens, index, matches, title) for index in range(lo, copulas[0]))


def employer(matches: MatchIndex, lo: int, end: int) -> bool:
    """Whether a subject between ``lo`` and ``end`` names the employer (``employer``: "nasze centra",
    "наши заводы", "our stores"), not the role."""
    return bool(matches.within("EMPLOYER", lo, end))


def carries_subject(token: Token, data: dict) -> bool:
    """A third-person verb form that carries its own subject where the language drops it
    (``dropped_subject``: endings like ``present_verb``; "Często przygotowuje uczniów", "Ведёт учёт")."""
    endings = data.get("dropped_subject")
    if not endings:
        return False
    present = data.get("present_verb", {})
    excluded = list(present.get("not_form_endings", [])) + list(endings.get("not_form_endings", []))
    third_person = {**present, "form_endings": endings["form_endings"], "not_form_endings": excluded}
    return is_verb(token, {"present_verb": third_person})


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
    window = round(SUBJECT_WINDOW * data.get("syllables_per_word", 1))  # Vietnamese tokens are syllables
    pronouns = {(start, end) for _, start, end in matches.within("ROLE_PRONOUNS", lo, hi)}
    # a frame that is the role pronoun alone ("je", "u") names the subject, it is no cue that comes first
    cues = [start for _, start, end in matches.within("FRAME", lo, hi) if (start, end) not in pronouns]
    for index in range(lo, min(hi - 1, lo + window)):
        if any(start <= index for start in cues) or matches.within("COPULAS", lo, index + 1):
            return None
        verb = is_verb(tokens[index], data) or inverted_verb(tokens, (lo, index), matches, data)
        if not verb or any(s <= index < e for _, s, e in matches.within("ROLES", lo, hi)):
            continue  # a verb-like word inside a role name ("điều phối viên") is no verb
        if employer(matches, lo, index):
            return None  # "Nasze centra dystrybucyjne działają ...": the company's doing
        if any(is_role(tokens, i, matches, title) for i in range(lo, index)) or is_role(tokens, index + 1, matches, title):
            return index
        if carries_subject(tokens[index], data) and not _content_before(tokens, (lo, index), matches) \
                and not matches.within("BREAKS", max(0, lo - 3), lo):
            return index  # "Często przygotowuje uczniów do egzaminu": the role goes on as the dropped subject
    return None


def inverted_verb(tokens: list[Token], span: tuple[int, int], matches: MatchIndex, data: dict) -> bool:
    """Whether the word at ``span[1]`` is the finite verb of a clause whose subject, the role pronoun, follows it
    after a fronted adverb or phrase (``verb_second``: "Daarnaast werk je", "Ook begeleid je"), in a form no ending
    tells apart. Not when nothing is fronted (a question: "Herken jij jezelf?"), nor a function word or one that
    opens a subordinate clause (``subordinators``: "waar je", "wat je"), whose verb comes last."""
    lo, index = span
    if not data.get("verb_second") or index <= lo or index + 1 >= len(tokens) or tokens[-1].text == "?":
        return False
    word = tokens[index].text
    if not (word.isalpha() and word.islower()) or matches.starting("ROLE_PRONOUNS", index + 1) < 0:
        return False
    return not any(start <= index < end for label in FUNCTION_WORDS
                   for _, start, end in matches.within(label, max(lo, index - 4), index + 1))


def _content_before(tokens: list[Token], span: tuple[int, int], matches: MatchIndex) -> bool:
    """Whether a word other than a leading adverb, conjunction or bullet stands in the span."""
    lo, index = span
    skipped = {i for label in ("STRIP", "CONJUNCTIONS") for _, start, end in matches.within(label, lo, index)
               for i in range(start, end)}
    return any(i not in skipped and not tokens[i].is_punct for i in range(lo, index))


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
