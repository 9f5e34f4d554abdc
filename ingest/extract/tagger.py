"""The span tagger: duties and skills found word by word on the e5 token states ingest already computes.

Every sentence goes through e5 once at ingest, for its vector and its token states (``kb.embedding.tokens``:
one state per word piece after layer 11, kept for the search rerank). The tagger reads those states, so it
costs no model pass of its own. Each word is represented by the mean state of its pieces, its neighbours',
the sentence's mean state, the mean of the sentences around it and of the whole document (``INPUTS``: whether
a sentence sits among duties or in a paragraph of career advice, in a job ad or an article); three
one-hidden-layer MLPs, averaged, give a probability for each tag of ``TAGS`` (outside,
or the beginning or inside of a duty or of a skill of one of the five subtypes). Each kind's probabilities
are then shifted by one prior factor (``KIND_PRIOR``: the training text is mostly ESCO's duty clauses, so the
MLPs under-call skills in articles and ads), and a Viterbi pass keeps the likeliest tag sequence in which an
inside tag only follows its own kind. Each run of tags is an item; its
confidence is the mean probability of its words' tags, calibrated (Platt scaling fitted on runs tagged in
sources left out of the fit, see ``ingest.extract.train_tagger``). Nothing here depends on the language: no cue words, no
thresholds per language. Weights: ``data/tagger.npz`` (float16), built by ``make train``; provenance in
``data/tagger.json``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ingest.extract.conjunctions import cldr_conjunctions
from ingest.extract.model import platt_scale, read_weights, save_weights, softmax
from kb.embedding.pooling import piece_starts
from kb.records import Item, Sentence
from kb.text.pipelines import stop_words

SUBTYPES = ("education", "experience", "knowledge", "skill", "trait")
KINDS = ("duty", *(f"skill:{subtype}" for subtype in SUBTYPES))
TAGS = ("O", *(f"{edge}-{kind}" for kind in KINDS for edge in "BI"))
TAGGER_WEIGHTS = Path(__file__).resolve().parent / "data" / "tagger.npz"
SOURCE = "model:tagger"
# blocks of a word's row; a word is the mean state of its pieces ("pieces' mean": weights made for a word's first
# piece alone are refused at load)
INPUTS = ("word, pieces' mean", "previous word", "next word", "sentence", "sentences around", "document")
# Log-prior shift of each kind's tags before decoding: one value per kind for every language, chosen on the
# prose and development sets with models trained without them (docs/extraction_model.md, "A prior shift per
# kind"); the Platt calibration is fitted after it (``train_tagger.fit``).
KIND_PRIOR = {"duty": 0.5, "skill": 1.5}
_PRIOR = np.exp([0.0 if tag == "O" else KIND_PRIOR[tag[2:].split(":")[0]] for tag in TAGS])
_WORD = re.compile(r"\w+(?:[-'’.]\w+)*|[^\w\s]")
_PUNCT = re.compile(r"^[^\w]+$")

States = Callable[[Sequence[str]], list[np.ndarray]]  # texts -> token states (one array per text)


def words(text: str, lang: str = "") -> list[tuple[int, int]]:
    """(start, end) of the words and punctuation marks of a text. Vietnamese writes a word's syllables apart
    ("sắp xếp", to arrange): its words are pyvi's, so a word is tagged as one."""
    spans = [(match.start(), match.end()) for match in _WORD.finditer(text)]
    if lang != "vi" or not spans:
        return spans
    from pyvi import ViTokenizer

    ranges, cursor = [], 0  # pyvi's words as character ranges of the text
    for word in ViTokenizer.tokenize(text).split():
        found = [text.find(syllable, cursor) for syllable in word.split("_")]
        if any(at < 0 for at in found) or found != sorted(found):
            continue  # pyvi normalised a character: its syllables stay words of their own
        ranges.append((found[0], found[-1] + len(word.split("_")[-1])))
        cursor = ranges[-1][1]
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and any(a <= merged[-1][0] and end <= b for a, b in ranges) and text[merged[-1][1]:start].isspace():
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def first_pieces(text: str, spans: Sequence[tuple[int, int]], count: Callable[[str], int]) -> np.ndarray:
    """The index of each word's first word piece, from ``count`` (the pieces of a text, prefix and
    special tokens left out); e5's tokenizer cuts a text's start the same way as the whole text."""
    return np.array(piece_starts(text, [start for start, _ in spans], count), dtype=np.int64)


def word_rows(states: np.ndarray, pieces: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
    """The model's input of each word (``INPUTS``): the mean state of its pieces, the previous and next word's, the
    sentence mean, and ``context`` (``sentence_context``; zeros when not given)."""
    words_part, shared = word_blocks(states, pieces, context)
    return np.hstack([words_part, np.broadcast_to(shared, (len(words_part), len(shared)))])


def word_blocks(states: np.ndarray, pieces: np.ndarray, context: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """``word_rows`` in two parts: the blocks that differ by word (its own, the previous and the next word's
    mean piece state; words x 3 widths) and those that are the same for every word of the sentence (its mean
    state and ``context``; one row)."""
    width = states.shape[1]
    if context is None:
        context = np.zeros((len(INPUTS) - 4) * width, np.float32)
    if not len(pieces):
        return np.zeros((0, 3 * width), dtype=np.float32), np.zeros(width + len(context), dtype=np.float32)
    states = states.astype(np.float32)
    # a word's pieces run from its first piece to the next word's (an inflected word's ending is often a piece
    # of its own); the last word's run to the end of the states. One product with a matrix of each word's
    # weights: a third of the time of a cumulative sum down the rows.
    starts = np.clip(pieces, 0, len(states) - 1)
    ends = np.maximum(np.append(starts[1:], len(states)), starts + 1)
    average = np.zeros((len(starts), len(states)), dtype=np.float32)
    for word, (start, end) in enumerate(zip(starts.tolist(), ends.tolist())):
        average[word, start:end] = 1.0 / (end - start)
    own = average @ states
    before = np.vstack([np.zeros_like(own[:1]), own[:-1]])
    after = np.vstack([own[1:], np.zeros_like(own[:1])])
    return np.hstack([own, before, after]), np.concatenate([states.mean(axis=0), context]).astype(np.float32)


def sentence_context(states: Sequence[np.ndarray]) -> list[np.ndarray]:
    """For each of a document's sentences (their token states, in order): the mean of the previous and the next
    sentence's mean state (zeros for a sentence alone), then the mean of every sentence's mean state."""
    means = [sentence.astype(np.float32).mean(axis=0) for sentence in states]
    if not means:
        return []
    document = np.mean(means, axis=0)
    context = []
    for index in range(len(means)):
        around = means[max(0, index - 1):index] + means[index + 1:index + 2]
        context.append(np.concatenate([np.mean(around, axis=0) if around else np.zeros_like(document), document]))
    return context


def _transitions() -> np.ndarray:
    """Log-allowed transitions: an inside tag follows only the beginning or inside of its own kind."""
    allowed = np.zeros((len(TAGS), len(TAGS)))
    for to, tag in enumerate(TAGS):
        if tag.startswith("I-"):
            allowed[:, to] = -np.inf
            allowed[TAGS.index("B-" + tag[2:]), to] = allowed[to, to] = 0.0
    return allowed


_ALLOWED = _transitions()
_START = np.array([-np.inf if tag.startswith("I-") else 0.0 for tag in TAGS])


def viterbi(probabilities: np.ndarray) -> list[int]:
    """The likeliest allowed tag sequence of one sentence's word probabilities (words x TAGS)."""
    if not len(probabilities):
        return []
    logp = np.log(np.clip(probabilities, 1e-9, 1.0))
    score = logp[0] + _START
    back = []
    for row in logp[1:]:
        total = score[:, None] + _ALLOWED
        back.append(total.argmax(axis=0))
        score = total.max(axis=0) + row
    path = [int(score.argmax())]
    for pointers in reversed(back):
        path.append(int(pointers[path[-1]]))
    return path[::-1]


def runs(path: Sequence[int]) -> list[tuple[int, int, str]]:
    """(first word, end word, kind) of each tagged run."""
    found: list[tuple[int, int, str]] = []
    for index, tag in enumerate(TAGS[t] for t in path):
        if tag.startswith("B-"):
            found.append((index, index + 1, tag[2:]))
        elif tag.startswith("I-") and found and found[-1][1] == index:
            found[-1] = (found[-1][0], index + 1, found[-1][2])
    return found


@dataclass(frozen=True)
class Tagger:
    """Weights and calibration of the span tagger: ``members`` one-hidden-layer MLPs trained from different
    seeds, whose tag probabilities are averaged (one seed alone swings held-out duty recall by up to .2).
    ``w1`` holds every member's first layer side by side (inputs x members*hidden), ``w2`` each member's
    second layer (members x hidden x TAGS)."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    platt: tuple[float, float] = (1.0, 0.0)

    @classmethod
    def of_members(cls, members: Sequence[tuple[np.ndarray, ...]], platt: tuple[float, float] = (1.0, 0.0)
                   ) -> "Tagger":
        """One tagger from (w1, b1, w2, b2) of each member."""
        return cls(np.hstack([m[0] for m in members]), np.concatenate([m[1] for m in members]),
                   np.stack([m[2] for m in members]), np.stack([m[3] for m in members]), platt)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Tag probabilities of word rows (words x TAGS): the members' softmax outputs, averaged."""
        return self._averaged(rows @ self.w1 + self.b1)

    def sentence_probabilities(self, blocks: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """``probabilities`` of a sentence's rows given as ``word_blocks``: the blocks every word shares are
        multiplied by their weights once for the sentence, not once per word (half the product)."""
        words_part, shared = blocks
        split = words_part.shape[1]
        return self._averaged(words_part @ self.w1[:split] + (shared @ self.w1[split:] + self.b1))

    def _averaged(self, before_activation: np.ndarray) -> np.ndarray:
        members, hidden = self.w2.shape[0], self.w2.shape[1]
        inner = np.maximum(0.0, before_activation).reshape(len(before_activation), members, hidden)
        return softmax(np.einsum("nmh,mht->nmt", inner, self.w2) + self.b2).mean(axis=1)

    def calibrate(self, probability: np.ndarray | float) -> np.ndarray:
        """Platt scaling of a run's mean tag probability."""
        return platt_scale(probability, self.platt)

    def save(self, path: Path) -> None:
        """Write the weights as float16 (the calibration stays float32)."""
        save_weights(path, self.platt, {"w1": self.w1, "b1": self.b1, "w2": self.w2, "b2": self.b2},
                     tags=np.array(TAGS), inputs=np.array(INPUTS))


@lru_cache(maxsize=4)
def load_tagger(path: Path = TAGGER_WEIGHTS) -> Tagger:
    """The shipped (or given) weights; refuses a file made for other tags."""
    data = read_weights(path, "the span tagger's", {"tags": TAGS, "inputs": INPUTS})
    return Tagger(*(data[name].astype(np.float32) for name in ("w1", "b1", "w2", "b2")),
                  platt=tuple(float(value) for value in data["platt"]))


def with_prior(probabilities: np.ndarray) -> np.ndarray:
    """Tag probabilities (words x TAGS) with each kind shifted by ``KIND_PRIOR``, renormalized."""
    shifted = probabilities * _PRIOR
    return shifted / shifted.sum(axis=1, keepdims=True)


def sentence_spans(tagger: Tagger, rows: np.ndarray) -> list[tuple[int, int, str, float]]:
    """(first word, end word, kind, raw confidence) of a sentence's tagged runs (``word_rows``), decoded after
    the prior shift."""
    return decoded(tagger.probabilities(rows))


def decoded(probabilities: np.ndarray) -> list[tuple[int, int, str, float]]:
    """``sentence_spans`` of a sentence's tag probabilities (words x TAGS)."""
    probabilities = with_prior(probabilities)
    path = viterbi(probabilities)
    return [(first, end, kind, float(probabilities[np.arange(first, end), path[first:end]].mean()))
            for first, end, kind in runs(path)]


@lru_cache(maxsize=None)
def _joining_words(lang: str) -> frozenset[str]:
    """The language's CLDR list conjunctions in lower case (once per language, not per tagged run)."""
    return frozenset(word.lower() for word in cldr_conjunctions(lang))


def _content_end(text: str, spans: Sequence[tuple[int, int]], first: int, end: int, lang: str) -> int:
    """The end word of a run without trailing punctuation or a trailing list conjunction (CLDR's, "och",
    "i", "và"), and ``first`` (nothing left) for a run made only of function words (spaCy's stop words of the
    language): a tagged run that stops on "och" or says only "tillsammans med en" names no duty or skill."""
    joining = _joining_words(lang)
    while end > first:
        word = text[spans[end - 1][0]:spans[end - 1][1]]
        if not (_PUNCT.match(word) or word.lower() in joining):
            break
        end -= 1
    function_words = stop_words(lang)
    if all(_PUNCT.match(text[a:b]) or text[a:b].lower() in function_words for a, b in spans[first:end]):
        return first
    return end


def _joined(text: str, spans: Sequence[tuple[int, int]], found: Sequence[tuple[int, int, str, float]],
            lang: str) -> list[tuple[int, int, str, float]]:
    """Tagged runs, a skill run that stops on a function word joined with a skill run that begins on the next
    word ("erfarenhet av" + "restaurangkök": the subtype changed mid-phrase); the joined run keeps the first
    one's subtype, and its raw confidence is the mean over all its words. Two duty runs that meet are two
    duties ("... dient medicatie toe" + "verzorgt wonden"): joining them cost duty recall on the prose articles
    and job ads (docs/extraction_model.md)."""
    function_words = stop_words(lang)
    joined: list[tuple[int, int, str, float]] = []
    for first, end, kind, raw in found:
        if joined:
            before_first, before_end, before_kind, before_raw = joined[-1]
            last = text[spans[before_end - 1][0]:spans[before_end - 1][1]].lower()
            if before_end == first and before_kind.startswith("skill") and kind.startswith("skill") \
                    and last in function_words:
                mean = (before_raw * (before_end - before_first) + raw * (end - first)) / (end - before_first)
                joined[-1] = (before_first, end, before_kind, mean)
                continue
        joined.append((first, end, kind, raw))
    return joined


def _complete_end(text: str, spans: Sequence[tuple[int, int]], end: int, lang: str, limit: int) -> int:
    """The end word of a run that stops on a function word ("erfarenhet av", "strukturerade som"), moved on
    through the function words that follow to the next content word ("erfarenhet av restaurangkök");
    unchanged where punctuation, a list conjunction or word ``limit`` (the next run's first word, or the
    sentence's end) comes first: the next item is not run into."""
    function_words, joining = stop_words(lang), _joining_words(lang)
    if text[spans[end - 1][0]:spans[end - 1][1]].lower() not in function_words:
        return end
    for stop in range(end, limit):
        word = text[spans[stop][0]:spans[stop][1]].lower()
        if _PUNCT.match(word) or word in joining:
            return end
        if word not in function_words:
            return stop + 1
    return end


def tagged_items(sentences: list[Sentence], states: States, count: Callable[[str], int],
                 tagger: Tagger | None = None) -> list[Item]:
    """The items of one article's sentences (``states``: their token states; ``count``: word pieces of a text)."""
    tagger = tagger or load_tagger()
    items: list[Item] = []
    every = states([sentence.text for sentence in sentences])
    for sentence, sentence_states, context in zip(sentences, every, sentence_context(every)):
        spans = words(sentence.text, sentence.lang)
        blocks = word_blocks(sentence_states, first_pieces(sentence.text, spans, count), context)
        runs_found = _joined(sentence.text, spans, decoded(tagger.sentence_probabilities(blocks)), sentence.lang)
        for number, (first, end, kind, raw) in enumerate(runs_found):
            while first < end and _PUNCT.match(sentence.text[spans[first][0]:spans[first][1]]):
                first += 1
            end = _content_end(sentence.text, spans, first, end, sentence.lang)
            if end <= first:
                continue
            limit = runs_found[number + 1][0] if number + 1 < len(runs_found) else len(spans)
            end = _complete_end(sentence.text, spans, end, sentence.lang, limit)
            confidence = float(tagger.calibrate(raw))
            start, stop = spans[first][0], spans[end - 1][1]
            items.append(Item(doc_id=sentence.doc_id, sentence_index=sentence.index, kind=kind.split(":")[0],
                              subtype=kind.split(":")[1] if ":" in kind else "",
                              start=sentence.start + start, end=sentence.start + stop,
                              text=sentence.text[start:stop], lang=sentence.lang,
                              confidence=round(confidence, 4), source=SOURCE))
    return items
