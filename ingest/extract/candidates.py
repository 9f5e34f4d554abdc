"""Candidate spans of an article's sentences: clauses, cue-frame regions, section headings and enumerations.

The reader-side machinery both extractors share: it follows section headings across sentences ("Arbetsuppgifter",
"Wymagania:"), cuts clauses, finds the regions that cue frames and headings point at, and splits enumerations
under a duty and a skill reading. The rule extractor (``ingest.extract.extractor``) scores these regions by
their rules' priors and the prototype classifier; the learned extractor (``ingest.extract.units``) turns them
into candidate units whose proposal is only a feature.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterator

from ingest.extract.clauses import clauses, varying_requirements
from ingest.extract.enumeration import enumeration
from ingest.extract.rules import LangRules, Matches, Region, load_rules, regions
from ingest.extract.subjects import is_verb
from ingest.read import BULLET, COLONS
from kb.records import Sentence
from kb.text.lemmas import PUNCT_FOLD, Token, tokenize

MODEL_SOURCE = "model:prototype"

HEADER_MAX_TOKENS = 6

HEADING_LINE_MAX_WORDS = 4  # a line without a colon this short may be a heading

HeadingResolver = Callable[[str, str, list[str]], "str | None"]  # (line, "colon" | "block" | "line", lines under it)

LIST_ITEM_MAX_TOKENS = 25

PROSE_MIN_WORDS = 6  # a sentence this long that ends in a full stop and is no list item is prose

LIST_HEAD_ENDING = 3  # letters of the endings that list lines' first words share (list_head_endings)

LIST_HEAD_WORDS = 3  # how many different first words must share one; two also caught genitives (fi "-den")

# A paragraph standing on its own under a section of list lines, in a language without rules, takes the
# section's kind only when the classifier agrees (this prior needs a probability of 0.5): after a list it
# is often the offer or the company again ("Kami menawarkan gaji pokok, BPJS dan bonus tahunan.").
DETACHED_PRIOR = 0.5

PARAGRAPH = "paragraph"  # the source of such an item ("rule:fi:paragraph"); the paragraph as a whole must agree

# A list line after prose whose own cues ended its heading's list ("Jouw functie" / "Als verpleegkundige zorg je
# voor ..." / "- Patiënten voorbereiden op X") resumes the heading's kind on the same terms as a detached paragraph.
RESUMED = "resumed"

GATED = (PARAGRAPH, RESUMED)  # sources whose clause as a whole must look like the region's kind to the classifier

@dataclass(frozen=True)
class Candidate:
    """One region of a sentence with its enumerated parts (token ranges) under both readings."""

    sentence: Sentence
    tokens: list[Token]
    matches: Matches
    region: Region
    duty_parts: list[tuple[int, int]]
    skill_parts: list[tuple[int, int]]
    rules: LangRules  # the language's rules as the article adapted them (see _with_list_heads)

    @property
    def has_rules(self) -> bool:
        """Whether the sentence's language has a rule file (its cue-word frames had their say)."""
        return bool(self.rules.frames)

    def text(self, start: int, end: int) -> str:
        """Sentence text of a token range."""
        return self.sentence.text[self.tokens[start].start:self.tokens[end - 1].end]

def _article_candidates(sentences: list[Sentence], title_text: str = "",
                        resolve: HeadingResolver | None = None, text: str = "") -> Iterator[Candidate]:
    """Candidate regions of every clause, following section headings across sentences;
    ``resolve`` names the kind of headings the language data does not know."""
    section = under = ""  # under: the kind of the last heading, which prose with its own cues does not end
    title = _title_lemmas(title_text, sentences[0].lang) if sentences and title_text else frozenset()
    heads = list_head_endings(text)
    adapted: dict[str, LangRules] = {}
    for sentence in sentences:
        if sentence.lang not in adapted:
            adapted[sentence.lang] = _with_list_heads(load_rules(sentence.lang), heads)
        rules = adapted[sentence.lang]
        tokens = tokenize(sentence.text, sentence.lang)
        matches = Matches(rules.match(tokens))
        if matches.within("SECTION:none", 0, min(len(tokens), 2)):
            section = under = "none"  # "Vi erbjuder ...", "Oferujemy ...": offers and company text
            continue
        strong = [label for label, _, _ in matches.within("FRAME", 0, len(tokens))
                  if not rules.frames[int(label.split(":")[1])].subject]
        line = _line_kind(text, sentence, tokens)
        if (strong and line != "bullet") or len(tokens) > LIST_ITEM_MAX_TOKENS:
            section = ""  # prose with its own cues ends a list; a cue inside a list item ("- har truckkort") does not
        # a paragraph under an earlier heading ("Om tjänsten" / "Som lagerarbetare plockar du ...") is read
        # by the rules, where the language has them; list items and "Krav: X" take the section's kind
        by_rules = line == "prose" and bool(rules.frames)
        detached = line != "bullet" and sentence.text.rstrip().endswith((".", "!", "。", "！")) \
            and _starts_block(text, text.rfind("\n", 0, sentence.start) + 1)
        for span in _without_requirement_talk(clauses(tokens, sentence.text, matches, rules.frames), tokens,
                                              matches, rules):
            block = _starts_block(text, sentence.start + tokens[span[0]].start) if span[1] > span[0] else False
            below = (lambda end=sentence.start + tokens[span[1] - 1].end: _section_lines(text, end)) \
                if span[1] > span[0] else list
            heading = _heading(tokens, span, matches, sentence.text, resolve, bool(rules.data["sections"]), block,
                               line == "bullet", below)
            if heading is not None:
                section = under = heading
                by_rules = False
                continue
            if section == "none" or _purpose_clause(matches, span):
                continue
            # under a heading of unclear kind only list lines are items; its prose is read as prose
            found = regions(tokens, span, matches, rules,
                            "" if by_rules or (section == "list" and line == "prose") else section, title, under)
            if line == "bullet" and section == "" and under in ("duty", "skill"):
                found.append(Region(span[0], span[1], under, "", f"rule:{rules.lang}:{RESUMED}", DETACHED_PRIOR))
            if detached:
                found = [replace(region, prior=min(region.prior, DETACHED_PRIOR),
                                 source=region.source.removesuffix("section") + PARAGRAPH)
                         if region.source.endswith(":section") else region for region in found]
            found.append(Region(span[0], span[1], "any", "", MODEL_SOURCE, 0.0))
            for region in found:
                yield _candidate(sentence, tokens, matches, region, rules)

def _without_requirement_talk(spans: list[tuple[int, int]], tokens: list[Token], matches: Matches,
                              rules: LangRules) -> Iterator[tuple[int, int]]:
    """Clauses with a subject that names requirements and its predicate of variation cut out ("Kraven på
    utbildning varierar mellan arbetsgivare"): talk about requirements, not one; the rest stays."""
    for lo, hi in spans:
        talk = varying_requirements(tokens, (lo, hi), matches, rules)
        if talk is None:
            yield lo, hi
            continue
        yield from (part for part in ((lo, talk[0]), (talk[1], hi)) if part[1] > part[0])

def _purpose_clause(matches: Matches, span: tuple[int, int]) -> bool:
    """Whether a clause is the purpose of the phrase before it ("Phối hợp với X | để chuẩn bị phòng"): it says
    what a duty is for, so it is no duty of its own (a purpose after a vague phrase stays in that clause);
    one with a cue of its own ("så att hantera X ... är alla nödvändiga färdigheter") is read as usual."""
    return (span[0] > 1 and any(end == span[0] for _, start, end in matches.within("PURPOSE", 1, span[0]))
            and not matches.within("FRAME", span[0], span[1]))

def _title_lemmas(text: str, lang: str) -> frozenset[str]:
    """Content words of an article's title, which names the role ("Co robi koordynator spotkania?")."""
    rules = load_rules(lang)
    tokens = tokenize(text, lang)
    if len(tokens) > HEADER_MAX_TOKENS * 2 or text.rstrip().endswith((".", "!", ":")):
        return frozenset()
    matches = Matches(rules.match(tokens))
    function = {index for label in ("STRIP", "CONJUNCTIONS", "PREPOSITIONS", "COPULAS", "BREAKS", "RELATIVES")
                for _, start, end in matches.within(label, 0, len(tokens)) for index in range(start, end)}
    return frozenset(token.lemma for index, token in enumerate(tokens) if index not in function
                     and token.text.isalpha() and len(token.lemma) >= 4 and not is_verb(token, rules.data))

def list_head_endings(text: str) -> tuple[str, ...]:
    """Endings that LIST_HEAD_WORDS different words opening the article's list lines share: the
    verbal nouns its duty lines start with ("Posluživanje", "Preporučivanje", "Održavanje": "-nje";
    "Întocmirea", "Verificarea", "Pregătirea": "-rea"), where no rule file names them."""
    words = set()
    for line in text.split("\n"):
        content, bulleted = _list_line(line)
        first = content.split(maxsplit=1) if bulleted else []
        if first and first[0].isalpha() and len(first[0]) > LIST_HEAD_ENDING + 2:
            words.add(first[0].lower())
    endings = [word[-LIST_HEAD_ENDING:] for word in words]
    return tuple(sorted({ending for ending in endings if endings.count(ending) >= LIST_HEAD_WORDS}))

def _with_list_heads(rules: LangRules, endings: tuple[str, ...]) -> LangRules:
    """A language without a rule file takes the article's list-head endings as its verbal-noun endings:
    then "Preporučivanje jela i vina iz ponude" is one duty (the conjunction adds an object, no new
    verbal noun), as it is where a rule file names the endings."""
    if rules.frames or not endings:
        return rules
    return replace(rules, data={**rules.data, "verbal_noun_endings": list(endings)})

def _candidate(sentence: Sentence, tokens: list[Token], matches: Matches, region: Region, rules) -> Candidate:
    duty = enumeration(tokens, Region(**{**region.__dict__, "kind": "duty"}), matches, rules)
    skill = enumeration(tokens, Region(**{**region.__dict__, "kind": "skill"}), matches, rules)
    return Candidate(sentence, tokens, matches, region, duty, skill, rules)

def _line_kind(text: str, sentence: Sentence, tokens: list[Token]) -> str:
    """How a sentence stands in the article's layout: "bullet" (after a list marker on its line),
    "prose" (a full sentence of PROSE_MIN_WORDS words or more, not a list item) or "plain" (a short
    line, or the layout is unknown)."""
    if not text or sentence.start > len(text):
        return "plain"
    before = text[text.rfind("\n", 0, sentence.start) + 1:sentence.start]
    if BULLET.match(before.strip() + " "):  # the reader's list markers
        return "bullet"
    words = sum(1 for token in tokens if not token.is_punct)
    prose = words >= PROSE_MIN_WORDS and sentence.text.rstrip().endswith((".", "!"))
    return "prose" if prose else "plain"

def _starts_block(text: str, offset: int) -> bool:
    """Whether ``offset`` starts a line of its own after a blank line, with no bullet before it: where
    a heading stands. False for the first line (the title) and when the article text is unknown."""
    if not text or offset > len(text):
        return False
    line_start = text.rfind("\n", 0, offset) + 1
    if line_start == 0 or text[line_start:offset].strip():
        return False  # the title, or a bullet or other text before it on its line
    previous_line_start = text.rfind("\n", 0, line_start - 1) + 1
    return not text[previous_line_start:line_start - 1].strip()

def _section_lines(text: str, offset: int) -> list[str]:
    """The list lines under a heading that ends at ``offset`` of the article text: the lines up to the
    next blank line (blank lines right under the heading skipped), list markers cut off. Empty when
    the block holds prose (a paragraph says more than its look) or the layout is unknown."""
    if not text or offset > len(text):
        return []
    lines = []
    for line in text[offset:].split("\n")[1:]:
        line, _ = _list_line(line)
        if not line:
            if lines:
                break
            continue
        if line.endswith(COLONS):
            break  # the next heading
        if len(line.split()) >= PROSE_MIN_WORDS and line.endswith((".", "!")):
            return []
        lines.append(line)
    return lines

def _list_line(line: str) -> tuple[str, bool]:
    """A line's text without its list marker (by the reader's markers), and whether it had one."""
    marker = BULLET.match(line.strip() + " ")
    return (line.strip()[marker.end():].strip(), True) if marker else (line.strip(), False)

def _heading(tokens: list[Token], span: tuple[int, int], matches: Matches, text: str,
             resolve: HeadingResolver | None = None, known_sections: bool = True,
             block: bool = False, bullet: bool = False, below: Callable[[], list[str]] = list) -> str | None:
    """The section kind a heading line starts ("duty", "skill", "none"), or None for other clauses;
    a heading may end in a colon, a line break or a question mark ("Quelles sont ses missions ?").

    A heading the data does not list ("Cerințe:", "Sorumluluklar") gets its kind from ``resolve``
    (the embedding classifier). A line without a colon is asked about when it stands as a block of
    its own (``block``: a blank line before it, no bullet), or, in a language whose data lists no
    headings at all, when it is short; ``below`` gives the list lines under it, which help decide its
    kind. A list item (``bullet``) is a heading only when it ends in a colon."""
    words = [token for token in tokens[span[0]:span[1]] if not token.is_punct]
    if not words or len(words) > HEADER_MAX_TOKENS:
        return None
    following = text[tokens[span[1] - 1].end:].translate(PUNCT_FOLD).lstrip(" \t")
    question = following.startswith("?") and following[1:].lstrip(" \t")[:1] in ("", "\n")
    if following and following[0] not in ":：\n" and not question:
        return None
    if bullet and not following.startswith(COLONS):
        return None
    kinds = [label.split(":")[1] for label, _, _ in matches.within("SECTION", span[0], span[1])]
    if kinds:
        return kinds[0]
    colon = following.startswith(COLONS)
    # a question is a heading only by its words ("Jste pečlivý a spolehlivý?" asks the reader)
    shape = "colon" if colon else "block" if block and not question and following[:1] in ("\n", "") else "line"
    if resolve is not None and (shape != "line" or (not known_sections and len(words) <= HEADING_LINE_MAX_WORDS)):
        return resolve(text[tokens[span[0]].start:tokens[span[1] - 1].end], shape, below())
    return "" if colon else None

def _head(candidate: Candidate, part: tuple[int, int]) -> str:
    heads = candidate.matches.within("HEAD", part[0], part[1])
    return heads[0][0].split(":")[1] if heads else ""

def _own_verb(candidate: Candidate, index: int) -> bool:
    """Whether the token at ``index`` is a verb by the data: an infinitive marker, a listed duty verb or a
    present-tense form (not a POS tag, which also marks nouns: "giao tiếp")."""
    data = candidate.rules.data
    tensed = {key: value for key, value in data.items() if key != "verb_pos"}
    return (any(candidate.matches.starting(label, index) > 0 for label in ("VERB_MARKERS", "DUTY_VERBS"))
            or is_verb(candidate.tokens[index], tensed))
