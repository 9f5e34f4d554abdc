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

import os
from itertools import groupby
from typing import Iterable, Iterator, Mapping

from ingest.extract.candidates import GATED, MODEL_SOURCE, Candidate, _article_candidates, _head, _own_verb
from ingest.extract.classify import PrototypeClassifier, Verdict, classifier_for
from ingest.extract.enumeration import verb_headed
from ingest.extract.rules import Region
from kb.embedding.embedders import Embedder
from kb.records import Item, Sentence

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




METHODS = ("auto", "learned", "rules", "tagger")
EXTRACTOR_ENV = "KB_EXTRACTOR"  # "tagger", "learned" or "rules": what method="auto" means


def extract(sentences: Iterable[Sentence], embedder: Embedder | None = None,
            titles: Mapping[str, str] | None = None, texts: Mapping[str, str] | None = None,
            method: str = "auto") -> Iterator[Item]:
    """Duties and skills of each article's sentences, by ``method``:

    * "tagger": the span tagger (``ingest.extract.tagger``) on the e5 token states of the sentences;
    * "learned": the unit classifier (``ingest.extract.model``) on e5 vectors of candidate spans;
    * "rules": the cue-word rules with the prototype classifier (the rules alone when ``embedder`` is None).

    The two models need the e5 embedder they were trained on (and the tagger e5's token-state library);
    without it the rules run. ``method="auto"`` reads $KB_EXTRACTOR (``python -m ingest --extractor`` sets it).
    ``titles`` maps doc ids to article titles, which name the role ("Co robi koordynator spotkania?");
    ``texts`` maps doc ids to article texts, whose layout shows headings (a short line after a blank one)."""
    from ingest.extract.learned import learned_items, uses_learned_model

    method = resolved_method(method)
    tagging = _token_states(embedder) if method == "tagger" and uses_learned_model(embedder) else None
    learned = method == "learned" and uses_learned_model(embedder)
    classifier = classifier_for(embedder) if embedder is not None and not learned and not tagging else None
    for doc_id, article_sentences in groupby(sentences, key=lambda sentence: sentence.doc_id):
        title, text = (titles or {}).get(doc_id, ""), (texts or {}).get(doc_id, "")
        if tagging:
            from ingest.extract.tagger import tagged_items

            yield from tagged_items(list(article_sentences), *tagging)
        elif learned:
            yield from learned_items(list(article_sentences), embedder, title, text)
        else:
            yield from extract_article(list(article_sentences), classifier, title, text)


def _token_states(embedder: Embedder):
    """(states, pieces) for the tagger: the token states of texts and the word-piece count of a text; None
    where e5's token-state library is not available. At ingest the states come from the memo, which keeps
    them for the search rerank (no second model pass); with another embedder they are computed here."""
    from kb.embedding.embedders import MemoEmbedder
    from kb.embedding.tokens import encoder_for

    if isinstance(embedder, MemoEmbedder) and embedder.encoder is not None:
        def states(texts):
            embedder.want_states(texts)
            return embedder.states(texts)

        return states, embedder.encoder.pieces
    encoder = encoder_for(embedder.name)
    return (encoder.encode, encoder.pieces) if encoder is not None else None


def resolved_method(method: str = "auto") -> str:
    """"tagger", "learned" or "rules": what ``method`` means ("auto" reads $KB_EXTRACTOR, else ``DEFAULT_METHOD``)."""
    if method == "auto":
        method = os.environ.get(EXTRACTOR_ENV, DEFAULT_METHOD)
    if method not in METHODS[1:]:
        raise ValueError(f"unknown extraction method {method!r}; use one of {', '.join(METHODS)}")
    return method


DEFAULT_METHOD = "tagger"


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
