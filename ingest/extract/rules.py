"""Cue-word rules: per-language data files matched with spaCy's Matcher over lemmas.

``ingest/lang/<code>/rules.json`` holds the cue words of one language (loaded and checked by
``ingest.langdata``); adding a language means adding a folder, and a language without one still yields plain clause candidates
for the embedding classifier. Every cue is a phrase lemmatized like the text
(simplemma; Vietnamese syllables), ``=word`` matches a word exactly. Keys:

* ``frames``: ``{"name", "kind": duty|skill|any, "position": after|before, "prior",
  "subtype"?, "needs_head"?, "needs_copula"?, "cues"}``: the item follows the cue
  ("ansvarar för X", "wymaga X", modal + verb) or precedes a copula and the cue
  ("X är meriterande"); one optional word may sit inside a multi-word cue;
* ``heads``: ``{subtype: [nouns]}`` that make a phrase a skill of that subtype
  ("examen", "doświadczenie", "kỹ năng"); with ``"compounds": true`` also as word endings;
* ``sections``: ``{duty|skill|none: [headings]}`` ("Arbetsuppgifter", "Wymagania", "About us");
* word lists: ``strip`` (leading subjects, modals, adverbs), ``conjunctions``, ``disjunctions`` (the "or" among
  them: skill words of one subtype it joins are alternatives, one item),
  ``prepositions`` (an enumeration after one belongs to its object), ``copulas``,
  ``breaks`` (purpose and subordinate clauses), ``verb_markers`` ("att", "to"),
  ``negations``, ``relatives`` ("som", "który": no split before them), ``determiners`` (looked past
  when the word after a separator is tested: "et la rédaction de X"), ``preferences`` (hedges of
  preference: "idealerweise", "bij voorkeur", "de préférence"; after a comma they narrow the item before it),
  ``verb_suffixes``, ``verb_pos`` and ``duty_verbs`` (common verbs of job duties, for languages whose
  infinitives have no telling ending: a split before a verb starts a new duty);
* subjects (``ingest/subjects.py``): ``roles``, ``role_pronouns``, ``advice``, ``present_verb``,
  ``dropped_subject`` (third-person endings where the subject may be left out), ``employer`` ("nasz", "our");
  ``verb_second`` (true where the finite verb comes second: the word between a fronted adverb or phrase and
  the role pronoun is the role's verb, whatever its form: "Daarnaast werk je", "Ook begeleid je") and
  ``subordinators`` (words that open a subordinate clause, whose verb comes last: "waar je", "wat je");
  ``role_copulas`` ("fungera som") name the role rather than a duty; ``job_nouns`` ("jobbet",
  "tjänsten") name the job itself, so a part or clause subject opening with one talks about the job; ``task_nouns`` ("uppgifter",
  "zadania") before a relative clause opened by a verb mean the clause lists the duties; with only
  ``vague_quantifiers`` ("these", "olika", "một số", "này") around it a task noun is the whole object of no
  particular duty ("performs several tasks during the day"); ``variation`` ("vary by", "varierar", "khác nhau
  tùy theo") after a subject that names requirements makes that subject talk, not a requirement.
* predicate subjects: under a skill predicate ("... är alla nödvändiga färdigheter") a subject
  opened by an infinitive marker, a present-tense verb or a verbal noun (``verbal_noun_endings``:
  "-anie", "-ing"; ``verbal_nouns`` lists action nouns whose ending does not tell: "анализ", "kontrola")
  lists duties, unless a ``learning_verbs`` word ("lära sig") follows the marker. In an enumeration a
  part headed by a verbal noun takes what a conjunction adds without a head of its own ("анализ рынка и
  цен конкурентов").

Splitting a sentence into clauses lives in ``ingest/clauses.py``, splitting a region into enumerated
items in ``ingest/enumeration.py``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterable

from ingest.extract.conjunctions import cldr_conjunctions
from kb.text.lemmas import Token, tokenize
from kb.text.pipelines import blank_pipeline, import_spacy
from ingest.extract.subjects import advice, is_verb, role_subject, role_verb, verbal_noun
from ingest.langdata import load as load_langdata

WORD_LISTS = ("strip", "conjunctions", "prepositions", "copulas", "breaks", "verb_markers", "negations", "relatives",
              "roles", "role_pronouns", "advice", "role_copulas", "learning_verbs", "task_nouns", "purpose", "duty_verbs",
              "determiners", "preferences", "employer", "job_nouns", "vague_quantifiers", "variation",
              "subordinators", "disjunctions")
BULLETS = frozenset("-•*–·▪◦●")
EMPTY_DATA: dict = {"frames": [], "heads": {}, "sections": {}, "verb_suffixes": [], "verb_pos": []}


@dataclass(frozen=True)
class Frame:
    """One family of cue phrases: where its item lies and what kind it is."""

    name: str
    kind: str  # "duty" | "skill" | "any" (the classifier decides)
    position: str  # "after" the cue, or "before" it (up to the copula)
    prior: float
    subtype: str = ""
    needs_head: bool = False
    needs_copula: bool = True
    subject: bool = False  # only when the subject is the role (modal frames)


@dataclass(frozen=True)
class Region:
    """A token range of a sentence that should hold duties or skills."""

    start: int
    end: int
    kind: str
    subtype: str
    source: str
    prior: float
    needs_head: bool = False
    subject: bool = False  # the subject of a predicate frame ("X och Y är en del av jobbet")


@dataclass(frozen=True)
class LangRules:
    """The loaded data of one language and its spaCy matcher."""

    lang: str
    frames: tuple[Frame, ...]
    data: dict
    matcher: object
    head_lemmas: frozenset[str] = frozenset()

    def match(self, tokens: list[Token]) -> list[tuple[str, int, int]]:
        """(label, start, end) token matches of every cue list in the sentence."""
        from spacy.tokens import Doc

        if not tokens or not len(self.matcher):
            return []
        vocab = self.matcher.vocab
        doc = Doc(vocab, words=[t.text for t in tokens], lemmas=[t.lemma or t.text.lower() for t in tokens])
        return [(vocab.strings[label], start, end) for label, start, end in self.matcher(doc)]


@lru_cache(maxsize=None)
def load_rules(lang: str) -> LangRules:
    """The rules of a language from ``ingest/lang/<lang>/rules.json``; without a file, no rules but the
    language's conjunctions from CLDR (``ingest/conjunctions.py``)."""
    data = load_langdata(lang).rules
    if data is None:  # lists split even without rules
        data = {**EMPTY_DATA, "conjunctions": list(cldr_conjunctions(lang))}
    frames = tuple(Frame(**{key: value for key, value in frame.items() if key != "cues"}) for frame in data["frames"])
    heads = frozenset(t.lemma for subtype, cues in data["heads"].items() if subtype != "trait"
                      for cue in cues for t in tokenize(cue, lang))
    return LangRules(lang, frames, data, _build_matcher(lang, data), heads)


def _build_matcher(lang: str, data: dict) -> object:
    import_spacy()
    from spacy.matcher import Matcher

    matcher = Matcher(blank_pipeline(lang).vocab)
    suffix = bool(data.get("compounds"))
    negations = tuple(word.lower() for word in data.get("negations", []))
    groups: dict[str, list[str]] = {name.upper(): data.get(name, []) for name in WORD_LISTS}
    groups.update({f"FRAME:{index}": frame["cues"] for index, frame in enumerate(data["frames"])})
    groups.update({f"HEAD:{subtype}": cues for subtype, cues in data["heads"].items()})
    groups.update({f"SECTION:{kind}": cues for kind, cues in data["sections"].items()})
    for label, cues in groups.items():
        compound = suffix and label.startswith(("HEAD", "ROLES"))
        gaps = label.startswith("FRAME") or label == "ROLE_COPULAS"  # "fungerar mer som", "odpowiada także za"
        patterns = [_pattern(cue, lang, compound, gaps, negations) for cue in cues]
        patterns = [pattern for pattern in patterns if pattern]
        if patterns:
            matcher.add(label, patterns)
    return matcher


def _pattern(cue: str, lang: str, suffix: bool, gaps: bool = False, negations: tuple[str, ...] = ()) -> list[dict]:
    """Token pattern for a cue: lemmas, ``=word`` for an exact word, compound endings for heads;
    with ``gaps`` one optional word other than a negation may stand between the words ("odpowiada także za")."""
    pattern: list[dict] = []
    for chunk in re.split(r"(=\S+)", cue):
        if chunk.startswith("="):
            pattern.append({"LOWER": chunk[1:].lower()})
        elif chunk.strip():
            pattern.extend({"LEMMA": token.lemma} for token in tokenize(chunk.strip(), lang))
    if gaps and len(pattern) > 1:
        gap = {"IS_PUNCT": False, "LOWER": {"NOT_IN": list(negations)}, "OP": "?"}
        pattern = [step for token in pattern for step in (token, gap)][:-1]
    if suffix and len(pattern) == 1 and "LEMMA" in pattern[0]:
        lemma = pattern[0]["LEMMA"]
        pattern = [{"LEMMA": {"REGEX": f"^[\\w-]*{lemma}$"}}]
    return pattern


class Matches:
    """Cue matches of one sentence, indexed by token for quick questions."""

    def __init__(self, found: list[tuple[str, int, int]]) -> None:
        self.found = sorted(found, key=lambda match: (match[1], -match[2]))

    def starting(self, label: str, index: int) -> int:
        """End of the longest ``label`` match starting at ``index``, or -1."""
        ends = [end for name, start, end in self.found if name == label and start == index]
        return max(ends, default=-1)

    def within(self, prefix: str, start: int, end: int) -> list[tuple[str, int, int]]:
        """Matches whose label starts with ``prefix`` and lie inside [start, end)."""
        return [m for m in self.found if m[0].startswith(prefix) and start <= m[1] and m[2] <= end]


ROLE_FRAME = Frame("role_verb", "duty", "after", 0.6, needs_copula=False)


def _role_frame(under: str) -> Frame:
    """The frame of a role subject's verb: a duty, except under a skill heading, where what the role does
    ("Je spreekt vloeiend Engels", "Du arbeitest sorgfältig") is as often a skill or trait: the classifier's call."""
    return replace(ROLE_FRAME, kind="any") if under == "skill" else ROLE_FRAME


def regions(tokens: list[Token], span: tuple[int, int], matches: Matches, rules: LangRules,
            section: str, title: frozenset[str] = frozenset(), under: str = "") -> list[Region]:
    """Regions of one clause that the frames, heads and the current section point at;
    ``title`` holds the lemmas of the article title (the role's own name), ``under`` the kind of the
    heading the clause stands under, even where prose with cues of its own ended its list."""
    lo, hi = span
    tag = f"rule:{rules.lang}"
    if section in ("duty", "skill", "list"):  # "list": a heading of unclear kind, its lines are items of any kind
        return [Region(lo, hi, "any" if section == "list" else section, "", f"{tag}:section", 0.75)]
    hits = [(int(label.split(":")[1]), start, end) for label, start, end in matches.within("FRAME", lo, hi)]
    is_advice = advice(tokens, matches)
    verb = None if is_advice else role_verb(tokens, span, matches, rules.data, title)
    if verb is not None:
        hits = [hit for hit in hits if not _subject_of(hit, verb, matches)]
        hits.append((len(rules.frames), verb, verb))
    frame_hits = [hit for hit in _longest(hits) if not _after_preposition(hit, matches)]
    # a copula right after a relative pronoun belongs to the relative clause ("utbildning som är unik för X")
    relative_ends = {end for _, _, end in matches.within("RELATIVES", lo, hi)}
    copulas = [start for _, start, _ in matches.within("COPULAS", lo, hi) if start not in relative_ends]
    # a predicate cue with no copula on either side ("obejmować zadania związane z X") is a plain word
    frame_hits = [hit for hit in frame_hits if hit[0] >= len(rules.frames) or rules.frames[hit[0]].position == "after"
                  or not rules.frames[hit[0]].needs_copula or copulas]
    frame_hits = [hit for hit in frame_hits if not _hedge_cue(tokens, hit, (lo, hi), matches)]
    frame_hits = [hit for number, hit in enumerate(frame_hits) if not _attribute(tokens, hit, frame_hits[:number],
                                                                                  matches, rules)]
    # "Nie wymagamy X", "No se requiere X", "does not require X": a negated cue asks for nothing
    negation_ends = {end for _, _, end in matches.within("NEGATIONS", lo, hi)}
    negated = [hit for hit in frame_hits if negation_ends & {hit[1], hit[1] - 1, hit[1] - 2} and hit[0] < len(rules.frames)]
    frame_hits = [hit for hit in frame_hits if hit not in negated]
    frame_hits = [hit for number, hit in enumerate(frame_hits)
                  if not _inert(tokens, hit, frame_hits[number + 1:], (lo, hi), matches, rules, title)]
    found: list[Region] = []
    cues: list[tuple[int, int]] = []  # cue words of predicate frames that yielded a region
    for number, (index, start, end) in enumerate(frame_hits):
        frame = rules.frames[index] if index < len(rules.frames) else _role_frame(under)
        source = f"{tag}:{frame.name}"
        if frame.subject and (is_advice or not role_subject(tokens, lo, (start, end), matches, title)):
            continue
        if frame.position == "after":
            stop = frame_hits[number + 1][1] if number + 1 < len(frame_hits) else hi
            if index >= len(rules.frames) and _leads_into_cue(tokens, (start, stop), hi, matches):
                continue
            stop = min([stop] + [c for c in copulas if c > end])
            kind, subtype = frame.kind, frame.subtype
            if kind == "duty":  # a skill word right after a comma starts a clause of its own, not an object:
                # "hướng dẫn người khác, kỹ năng lãnh đạo cũng rất quan trọng"
                heads = {head for _, head, _ in matches.within("HEAD", end, stop)}
                stop = min([stop] + [i for i in range(end, stop) if tokens[i].text == "," and i + 1 in heads])
            if kind == "duty" and matches.starting("COPULAS", end) > 0:
                kind, subtype = "skill", "trait"  # "Det är viktigt att vara stresstålig": a trait, not a duty
            found.append(Region(end, max(stop, end), kind, subtype, source, frame.prior, frame.needs_head))
            continue
        before = [c for c in copulas if c < start]
        after = [matches.starting("COPULAS", c) for c in copulas if c >= end]
        if frame.needs_copula and not before and frame.kind == "duty" and after:
            # inverted: "Kolejnym aspektem pracy jest utrzymywanie list", "Another duty is booking travel"
            stop = frame_hits[number + 1][1] if number + 1 < len(frame_hits) else hi
            if after[0] < stop and verbal_subject(tokens, after[0], matches, rules.data):
                found.append(Region(after[0], stop, frame.kind, frame.subtype, source, frame.prior))
                cues.append((start, end))
            continue
        if frame.needs_copula and not before:
            continue
        left = max([lo] + [e for _, s, e in frame_hits if e <= start and s != start])
        kind = frame.kind
        if kind == "skill" and verbal_subject(tokens, left, matches, rules.data):
            kind = "duty"  # "att hantera X, koordinera Y ... är alla nödvändiga färdigheter": activities
        found.append(Region(left, before[-1] if before else start, kind, frame.subtype, source, frame.prior,
                            subject=True))
        cues.append((start, end))
    starts = [start for _, start, _ in frame_hits]
    if negated:
        return found  # "A degree is not required": the skill word is what is not asked for
    return found + _head_regions(tokens, span, matches, found, copulas + starts, tag, cues, rules.data)


def _leads_into_cue(tokens: list[Token], span: tuple[int, int], hi: int, matches: Matches) -> bool:
    """Whether a role's verb runs, past its pronoun, straight into the cue of another frame ("draag je zorg
    voor X", "trägst du die Verantwortung für X"): the verb is part of that cue, no duty of its own."""
    verb, stop = span
    words = [i for i in range(verb + 1, stop) if not tokens[i].is_punct
             and matches.starting("ROLE_PRONOUNS", i) < 0 and matches.starting("STRIP", i) < 0]
    return stop < hi and not words


def _after_preposition(hit: tuple[int, int, int], matches: Matches) -> bool:
    """Whether a frame is a role pronoun right after a preposition ("in je servicebus", "met u"): an object
    or possessive there, no subject whose item follows."""
    _, start, end = hit
    return ("ROLE_PRONOUNS", start, end) in matches.found and any(
        e == start for _, _, e in matches.within("PREPOSITIONS", max(0, start - 3), start))


def _subject_of(hit: tuple[int, int, int], verb: int, matches: Matches) -> bool:
    """Whether a frame is just the role pronoun next to the role's verb ("Je rapporteert", "werk je"): the
    verb's subject, which neither yields an item of its own nor ends the verb's."""
    _, start, end = hit
    return (start == verb + 1 or end == verb) and ("ROLE_PRONOUNS", start, end) in matches.found


FUNCTION_LISTS = ("STRIP", "COPULAS", "CONJUNCTIONS", "VERB_MARKERS", "RELATIVES", "ROLES", "ROLE_PRONOUNS",
                  "PREPOSITIONS", "NEGATIONS", "FRAME")


def _attribute(tokens: list[Token], hit: tuple[int, int, int], earlier: list[tuple[int, int, int]],
               matches: Matches, rules: LangRules) -> bool:
    """A duty or modal cue right after a noun of an earlier frame's item modifies that noun
    ("współpracować z personelem odpowiedzialnym za X", "quyết định các mục tiêu có thể đạt được")."""
    index, start, _ = hit
    if index >= len(rules.frames) or rules.frames[index].kind == "skill" or start == 0:
        return False
    if not any(i >= len(rules.frames) or rules.frames[i].position == "after" for i, _, _ in earlier):  # role verb too
        return False
    previous = tokens[start - 1]
    if previous.is_punct or not previous.text.isalpha():
        return False
    return not any(s <= start - 1 < e for label in FUNCTION_LISTS for _, s, e in matches.within(label, max(0, start - 6), start))


def _hedge_cue(tokens: list[Token], hit: tuple[int, int, int], span: tuple[int, int], matches: Matches) -> bool:
    """A requirement cue that is a hedge of preference (``preferences``) after a comma and a skill head
    narrows that skill ("Высшее образование, желательно экономическое"), unless what it asks for has
    a head of its own ("..., желательно опыт работы")."""
    _, start, end = hit
    lo, hi = span
    if start <= lo or tokens[start - 1].text != "," or matches.starting("PREFERENCES", start) < 0:
        return False
    stop = next((i for i in range(end, hi) if tokens[i].text == ","), hi)
    return bool(matches.within("HEAD", lo, start - 1)) and not matches.within("HEAD", end, stop)


def _inert(tokens: list[Token], hit: tuple[int, int, int], later: list[tuple[int, int, int]], span: tuple[int, int],
           matches: Matches, rules: LangRules, title: frozenset[str]) -> bool:
    """A cue in a relative clause about someone other than the role is a plain word of the item before it:
    a modal ("listę osób, które będą uczestniczyć") or a have-verb with no skill head after it ("wydarzeniami,
    które mają miejsce"); it neither yields an item nor ends the one before."""
    index, start, end = hit
    if index >= len(rules.frames):
        return False
    frame = rules.frames[index]
    if not any(e in (start, start - 1) for _, _, e in matches.within("RELATIVES", span[0], start)):
        return False
    reach = later[0][1] if later else span[1]
    plain = frame.subject or (frame.needs_head and not matches.within("HEAD", end, reach))
    return plain and not role_subject(tokens, span[0], (start, end), matches, title)


def verbal_subject(tokens: list[Token], start: int, matches: Matches, data: dict) -> bool:
    """Whether a subject phrase names an activity: an infinitive marker at or just before it
    ("att hantera", "to book"), a verb, or a verbal noun (``verbal_noun_endings``: "-anie", "-ing");
    a copula, modal or learning verb (``learning_verbs``: "att lära sig", "learning") states a trait or
    skill instead."""
    if start >= len(tokens):
        return False
    index = start
    marker = matches.starting("VERB_MARKERS", start)
    if marker > 0:
        index = marker
    elif not any(end == start for _, _, end in matches.within("VERB_MARKERS", max(0, start - 3), start)):
        index = -1
    if 0 <= index < len(tokens):
        return not any(matches.starting(label, index) > 0 for label in ("COPULAS", "STRIP", "LEARNING_VERBS"))
    if matches.starting("LEARNING_VERBS", start) > 0 or matches.within("HEAD", start, start + 1):
        return False  # "Erfahrung in X ist wünschenswert", "doświadczenie": a skill word, not an activity
    if matches.starting("DUTY_VERBS", start) > 0:
        return True  # "Atender llamadas, gestionar la agenda ... son habilidades necesarias"
    first = tokens[start]
    if verbal_noun(first, data):
        return True
    # present-tense endings only: a POS tag "V" also marks skill nouns ("giao tiếp")
    return is_verb(first, {key: value for key, value in data.items() if key != "verb_pos"})


def _negated_predicate(tokens: list[Token], matches: Matches, start: int, hi: int) -> bool:
    """Whether a copula after ``start`` is negated right before or after it ("is not", "nie jest")."""
    negations = matches.within("NEGATIONS", start, hi)
    for _, copula, copula_end in matches.within("COPULAS", start, hi):
        if any(end == copula or begin == copula_end for _, begin, end in negations):
            return True
    return False


def _longest(hits: Iterable[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Frame matches without overlaps, longest first, in sentence order."""
    kept: list[tuple[int, int, int]] = []
    for hit in sorted(hits, key=lambda h: (h[1] - h[2], h[1])):
        if all(hit[2] <= other[1] or hit[1] >= other[2] for other in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: h[1])


def _head_regions(tokens: list[Token], span: tuple[int, int], matches: Matches, found: list[Region],
                  stops: list[int], tag: str, cues: list[tuple[int, int]], data: dict) -> list[Region]:
    """A region around each skill head that no frame region covers; a head inside a predicate cue
    ("... är en färdighet som tar tid") is the predicate, and a head followed by a present-tense verb
    of its own is the subject of a general statement; neither is a skill of its own."""
    lo, hi = span
    extra: list[Region] = []
    tensed = {key: value for key, value in data.items() if key != "verb_pos"}  # "V" tags skill nouns too
    for label, start, _ in matches.within("HEAD", lo, hi):
        if any(r.start <= start < r.end for r in found + extra) or any(s <= start < e for s, e in cues):
            continue
        if any(s <= start < e for _, s, e in matches.within("BREAKS", lo, hi)):
            continue
        left = max([lo] + [r.end for r in found if r.end <= start] + [c + 1 for c in stops if c < start])
        right = min([hi] + [c for c in stops if c > start] + [r.start for r in found if r.start > start])
        if any(is_verb(tokens[index], tensed) for index in range(start + 1, right)
               if not matches.within("RELATIVES", start, index)):
            continue  # "Dokumentationserfarenhet inkluderar uppgifter": the head is the subject of a statement
        if _negated_predicate(tokens, matches, start, hi):
            continue  # "Ein Führerschein ist nicht erforderlich", "Prawo jazdy nie jest wymagane"
        extra.append(Region(left, right, "skill", label.split(":")[1], f"{tag}:head", 0.7))
    return extra
