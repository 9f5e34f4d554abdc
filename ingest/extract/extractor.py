"""Duties and skills from sentences: cue-word rules plus an embedding classifier.

``extract(sentences, embedder)`` is the pipeline stage. Two signals are combined:

* rules (``ingest/rules.py``) read ``ingest/lang/<code>.json``: frames such as
  "ansvarar för" / "odpowiada za" / "chịu trách nhiệm" / "responsible for" (a duty
  follows), requirement frames ("kräver", "wymaga", "yêu cầu"), predicates ("... är
  meriterande"), skill heads with their subtype ("examen", "doświadczenie", "kỹ năng"),
  and section headings ("Arbetsuppgifter", "Wymagania:") whose bullets are items;
* the prototype classifier (``ingest/classify.py``) scores every candidate span, rule
  or plain clause, against labelled multilingual examples, so duties without a cue word
  and languages without a data file are still found.

A rule item's confidence mixes the rule's prior with the classifier's probability; a
clause without any rule is kept only when the classifier alone is confident. With
``embedder=None`` only the rules run (fast, deterministic). All spans of one article are
embedded in one batched call.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import groupby
from typing import Callable, Iterable, Iterator, Mapping

from ingest.extract.classify import PrototypeClassifier, Verdict, classifier_for
from kb.text.lemmas import PUNCT_FOLD, Token, tokenize
from ingest.read import BULLET, COLONS
from ingest.extract.subjects import is_verb
from ingest.extract.enumeration import enumeration, verb_headed
from ingest.extract.clauses import clauses, varying_requirements
from ingest.extract.rules import LangRules, Matches, Region, load_rules, regions
from kb.embedding.embedders import Embedder
from kb.records import Item, Sentence

MODEL_SOURCE = "model:prototype"
HEADER_MAX_TOKENS = 6
HEADING_LINE_MAX_WORDS = 4  # a line without a colon this short may be a heading
HeadingResolver = Callable[[str, str, list[str]], "str | None"]  # (line, "colon" | "block" | "line", lines under it)
LIST_ITEM_MAX_TOKENS = 25
PROSE_MIN_WORDS = 6  # a sentence this long that ends in a full stop and is no list item is prose
# In a language with a rule file, a duty with no cue word, found by the classifier alone, needs this
# many words: shorter ones were fragments the rules had passed over ("persönliche Ansprechpartner",
# "Orders verzamelen", 7 of 7 false on the dev set). Without a rule file the classifier is all there
# is, and two-word lines ("Tilausten kerääminen") are duties.
MODEL_DUTY_MIN_WORDS = 3
SIBLING_THRESHOLD = 0.8  # a model-only duty beside a confident one in the same enumeration
# Without a rule file the classifier alone reads prose: at model_threshold (0.9) it found a third of the
# items of corpus-like prose articles in ten such languages, at this bar over half (see the README).
NO_RULES_THRESHOLD = 0.7
# There a clause that as a whole reads as no item (the probability of its likelier kind under this) yields
# none: "Kami menawarkan gaji pokok, BPJS dan bonus tahunan" (an offer) gave "BPJS" and "bonus tahunan".
CLAUSE_GATE = 0.2
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


def extract(sentences: Iterable[Sentence], embedder: Embedder | None = None,
            titles: Mapping[str, str] | None = None, texts: Mapping[str, str] | None = None) -> Iterator[Item]:
    """Duties and skills of each article's sentences; rules only when ``embedder`` is None.
    ``titles`` maps doc ids to article titles, which name the role ("Co robi koordynator spotkania?");
    ``texts`` maps doc ids to article texts, whose layout shows headings (a short line after a blank one)."""
    classifier = classifier_for(embedder) if embedder is not None else None
    for doc_id, article_sentences in groupby(sentences, key=lambda sentence: sentence.doc_id):
        yield from extract_article(list(article_sentences), classifier, (titles or {}).get(doc_id, ""),
                                   (texts or {}).get(doc_id, ""))


def extract_article(sentences: list[Sentence], classifier: PrototypeClassifier | None,
                    title: str = "", text: str = "") -> list[Item]:
    """The items of one article (``text``: the article text the sentence offsets point into, when known),
    in text order, without overlapping spans."""
    resolve = classifier.heading_kind if classifier is not None else None
    candidates = list(_article_candidates(sentences, title, resolve, text))
    if classifier is None:
        scored = [item for candidate in candidates for item in _rule_items(candidate)]
    else:
        scored = _model_items(candidates, classifier)
    return sorted(_without_overlaps(scored), key=lambda item: item.start)


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


def _rule_items(candidate: Candidate) -> list[Item]:
    """Items of a rule region, scored by the rule's prior alone."""
    region = candidate.region
    if region.source == MODEL_SOURCE or (region.kind == "any" and region.source.endswith((":section",) + GATED)):
        return []  # the kind of a plain clause or of a line under an unclear heading is the classifier's call
    kind = "duty" if region.kind == "any" else region.kind
    parts = candidate.skill_parts if kind == "skill" else \
        [part for part, _ in _short_parts_joined(candidate, [(part, None) for part in candidate.duty_parts], None)]
    items = []
    for part in parts:
        head = _head(candidate, part)
        if (region.needs_head and not head) or _lone_word(candidate, part, len(parts)):
            continue
        part_kind = "skill" if head and region.kind != "duty" else kind
        subtype = (head or region.subtype or "skill") if part_kind == "skill" else ""
        items.append(_item(candidate, part, part_kind, subtype, region.prior, region.source))
    return items


def _model_items(candidates: list[Candidate], classifier: PrototypeClassifier) -> list[Item]:
    """Items of all candidates, kind and confidence from rules and classifier together."""
    texts = []
    for candidate in candidates:
        whole = (candidate.region.start, candidate.region.end)
        texts += [candidate.text(*span) for span in [whole] + candidate.duty_parts + candidate.skill_parts
                  if span[1] > span[0]]
    verdicts = iter(classifier.classify(texts))
    items = []
    for candidate in candidates:
        region = candidate.region
        overall = next(verdicts) if region.end > region.start else None
        duty = [(part, next(verdicts)) for part in candidate.duty_parts]
        skill = [(part, next(verdicts)) for part in candidate.skill_parts]
        if overall is None or (region.source.endswith(GATED) and classifier.probability(
                overall, overall.kind if region.kind == "any" else region.kind) < 0.5):
            continue
        # without rules a clause of prose can hold a requirement and a duty ("has a degree in X and does Y"):
        # each part is then of the kind it reads as, not of the clause's kind
        each_part = region.source == MODEL_SOURCE and not candidate.has_rules
        if each_part and classifier.probability(overall, overall.kind) < CLAUSE_GATE:
            continue
        kinds = ["duty", "skill"] if each_part else [overall.kind if region.kind == "any" else region.kind]
        for kind in kinds:
            parts = skill if kind == "skill" else _short_parts_joined(
                candidate, _merge_non_duties(candidate, duty, classifier), overall)
            sibling = _sibling_threshold(candidate, parts, kind, classifier)
            for part, verdict in parts:
                if _lone_word(candidate, part, len(parts)) or (each_part and verdict.kind != kind):
                    continue
                item = _scored_item(candidate, part, verdict, kind, classifier, sibling, listed=len(parts) > 1)
                if item is not None:
                    items.append(item)
    return items


def _sibling_threshold(candidate: Candidate, parts: list[tuple[tuple[int, int], Verdict]], kind: str,
                       classifier: PrototypeClassifier) -> float | None:
    """The lower bar for the other duties of an enumeration the classifier alone reads, when one of them
    clears the full bar: duties listed together are alike ("meri vitalne znake, deli zdravila ... in vodi
    negovalno dokumentacijo"), so a part that reads as a duty too needs less evidence. Not for skills:
    their lists also split between adjectives ("skriva tydliga, kortfattade instruktioner")."""
    if candidate.region.source != MODEL_SOURCE or kind != "duty" or len(parts) < 2:
        return None
    best = max(classifier.probability(verdict, kind) for _, verdict in parts)
    return SIBLING_THRESHOLD if best >= classifier.calibration.model_threshold else None


def _lone_word(candidate: Candidate, part: tuple[int, int], count: int) -> bool:
    """A lone word after a modal or a role's verb ("co koordynatorzy mogą potrzebować") is rarely a whole
    duty or skill."""
    region = candidate.region
    return (region.kind == "any" or region.source.endswith(":role_verb")) and not region.source.endswith(
        (":section",) + GATED) and count == 1 and _words(candidate, part) < 2


def _words(candidate: Candidate, part: tuple[int, int]) -> float:
    """Word count of a part; ``syllables_per_word`` in the data counts Vietnamese syllables as words."""
    per_word = candidate.rules.data.get("syllables_per_word", 1)
    return sum(1 for token in candidate.tokens[part[0]:part[1]] if not token.is_punct) / per_word


def _merge_non_duties(candidate: Candidate, parts: list[tuple[tuple[int, int], Verdict]],
                      classifier: PrototypeClassifier) -> list[tuple[tuple[int, int], Verdict]]:
    """Join a part that is no duty by itself ("kalla rätter") to the duty before it; a part the rules
    split off as a verb with its object ("và hạch toán các nghiệp vụ kế toán") or that opens with a verb
    of its own ("och samarbetar med läkare") stays a duty of its own."""
    region = Region(**{**candidate.region.__dict__, "kind": "duty"})
    merged: list[tuple[tuple[int, int], Verdict]] = []
    for part, verdict in parts:
        if merged and classifier.probability(verdict, "duty") < 0.5 and not _own_verb(candidate, part[0]) \
                and not verb_headed(candidate.tokens, part, region, candidate.matches, candidate.rules):
            (start, _), previous = merged[-1]
            merged[-1] = ((start, part[1]), previous)
        else:
            merged.append((part, verdict))
    return merged


def _short_parts_joined(candidate: Candidate, parts: list[tuple[tuple[int, int], Verdict | None]],
                        overall: Verdict | None) -> list[tuple[tuple[int, int], Verdict | None]]:
    """A clause the classifier alone reads, or one that only resumes a heading's kind, split into parts of which
    one is too short to be a duty by itself (``MODEL_DUTY_MIN_WORDS``), is one duty whose parts share an object
    ("Orders verzamelen en verzendklaar maken", "Het ontvangen en controleren van X"): the whole clause, as the
    classifier saw it."""
    source = candidate.region.source
    if not (source == MODEL_SOURCE or source.endswith(GATED)) or len(parts) < 2 or not candidate.has_rules:
        return parts
    if all(_words(candidate, part) >= MODEL_DUTY_MIN_WORDS for part, _ in parts):
        return parts
    return [((parts[0][0][0], parts[-1][0][1]), overall)]


def _own_verb(candidate: Candidate, index: int) -> bool:
    """Whether the token at ``index`` is a verb by the data: an infinitive marker, a listed duty verb or a
    present-tense form (not a POS tag, which also marks nouns: "giao tiếp")."""
    data = candidate.rules.data
    tensed = {key: value for key, value in data.items() if key != "verb_pos"}
    return (any(candidate.matches.starting(label, index) > 0 for label in ("VERB_MARKERS", "DUTY_VERBS"))
            or is_verb(candidate.tokens[index], tensed))


def _scored_item(candidate: Candidate, part: tuple[int, int], verdict: Verdict, kind: str,
                 classifier: PrototypeClassifier, sibling: float | None = None, listed: bool = False) -> Item | None:
    """One part as an item when the combined confidence clears its threshold (``sibling``: the lower
    threshold of a model-only part whose enumeration has a confident part, if it reads as ``kind``;
    ``listed``: the part is one of several of its enumeration)."""
    region, calibration = candidate.region, classifier.calibration
    head = _head(candidate, part)
    if region.needs_head and not head:
        return None
    if head and region.kind != "duty":
        kind = "skill"
    probability = classifier.probability(verdict, kind)
    if region.source == MODEL_SOURCE:
        words = sum(1 for token in candidate.tokens[part[0]:part[1]] if not token.is_punct)
        has_rules = candidate.has_rules
        short_duty = kind == "duty" and has_rules and _words(candidate, part) < MODEL_DUTY_MIN_WORDS
        # one word is enough for a listed skill where no rules read the list ("rūpīga, akurāta un godīga")
        one_word = listed and kind == "skill" and not has_rules
        enough = (words >= 2 or one_word) and not short_duty
        full = calibration.model_threshold if has_rules else NO_RULES_THRESHOLD
        bar = min(sibling, full) if sibling is not None and verdict.kind == kind else full
        confidence, keep = probability, probability >= bar and enough
    else:
        weight = calibration.rule_weight
        confidence = weight * region.prior + (1 - weight) * probability
        keep = confidence >= calibration.threshold
    if not keep:
        return None
    subtype = (head or region.subtype or verdict.skill_subtype) if kind == "skill" else ""
    source = region.source if region.source == MODEL_SOURCE else f"{region.source}+model"
    return _item(candidate, part, kind, subtype, confidence, source)


def _item(candidate: Candidate, part: tuple[int, int], kind: str, subtype: str, confidence: float,
          source: str) -> Item:
    sentence = candidate.sentence
    start = sentence.start + candidate.tokens[part[0]].start
    end = sentence.start + candidate.tokens[part[1] - 1].end
    return Item(doc_id=sentence.doc_id, sentence_index=sentence.index, kind=kind, subtype=subtype,
                start=start, end=end, text=candidate.text(*part), lang=sentence.lang,
                confidence=round(float(confidence), 4), source=source)


def _without_overlaps(items: list[Item]) -> list[Item]:
    """Keep rule items before model-only ones and confident before doubtful; drop overlapping spans."""
    order = sorted(items, key=lambda item: (item.source == MODEL_SOURCE, -item.confidence, item.start))
    kept: list[Item] = []
    for item in order:
        if all(item.end <= other.start or item.start >= other.end for other in kept):
            kept.append(item)
    return kept
