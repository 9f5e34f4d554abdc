"""``python -m eval.esco_items``: duties and skills as ingest extracts them -> ESCO skills, on text that is not ESCO's.

181 gold items of the held-out articles and ads (sv, pl, vi, en) are annotated with the ESCO skill concept(s) an
analyst would code them with, or none (``eval/data/esco_items.tsv``). Each item is matched as ingest matches it
(its e5 passage: vector through the passage map; duties against skill/competence concepts, skills against all)
and, for comparison, as ``kb esco match`` matches its text (query: vector and the character n-gram channel).
The naive baseline, measured in the same run, is the raw encoder's query vector with its nearest label in the
item's language (English where the tables have none). Ranking figures (MRR, Acc@1, R@10) are over the items
with a concept; the link figures count, at the matcher's calibrated threshold, right links, wrong links on items
with a concept, and links made where no concept fits; then the shipped links kept at the bars ``BARS`` of
``--min-esco-score``. Nothing here is fitted to these items.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.esco import metrics
from eval.esco_roles import best_ranks, gold_argument, naive_scores, right_concepts

GOLD = Path(__file__).resolve().parent / "data" / "esco_items.tsv"
LANGS = ("sv", "pl", "vi", "en")
BARS = (0.5, 0.75, 0.9)  # ``--min-esco-score`` values whose links are counted too


@dataclass(frozen=True)
class GoldItem:
    """One annotated item: its document, kind, text and the English labels of its right concepts (may be none)."""

    doc_id: str
    kind: str
    text: str
    labels: tuple[str, ...]

    @property
    def lang(self) -> str:
        """The item's language, from its document id ("ha_sv_florist", "ad_pl_...")."""
        return self.doc_id.split("_")[1]


def load_gold(path: Path = GOLD) -> list[GoldItem]:
    """The annotated items of ``path``."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(("#", "doc_id\t")) or not line.strip():
            continue
        doc_id, kind, text, labels = line.split("\t")
        items.append(GoldItem(doc_id, kind, text, () if labels == "-" else tuple(labels.split("|"))))
    return items


def restricted(scores: np.ndarray, items: list[GoldItem], competence: np.ndarray) -> np.ndarray:
    """Scores with every concept but skill/competence ruled out for duties, as ingest links them."""
    scores = scores.copy()
    duties = np.array([item.kind == "duty" for item in items])
    scores[np.ix_(duties, ~competence)] = -np.inf
    return scores


def by_kind(matcher, vectors: np.ndarray, items: list[GoldItem], **options) -> np.ndarray:
    """``Matcher.scores`` of each item as ingest scores it: duties among skill/competence concepts only."""
    scores = np.empty((len(items), len(matcher.data.skills)), dtype=np.float32)
    texts = options.pop("texts", None)
    for kind, skill_type in (("duty", "skill/competence"), ("skill", None)):
        chosen = [n for n, item in enumerate(items) if item.kind == kind]
        if chosen:
            scores[chosen] = matcher.scores(vectors[chosen], "skill", skill_type,
                                            texts=None if texts is None else [texts[n] for n in chosen], **options)
    return scores


def link_counts(linked: list, items: list[GoldItem], number: dict[str, int], right: list[np.ndarray]) -> dict[str, int]:
    """Right links, wrong links on items with a concept, and links where none fits."""
    counts = {"linked": 0, "right": 0, "wrong": 0, "where none fits": 0}
    for match, item, concepts in zip(linked, items, right):
        if match is None:
            continue
        counts["linked"] += 1
        if not item.labels:
            counts["where none fits"] += 1
        elif number[match.label] in concepts:
            counts["right"] += 1
        else:
            counts["wrong"] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    """Print ranking and link figures per method, kind and language."""
    gold_file = gold_argument(argv, "python -m eval.esco_items", __doc__, GOLD)
    from kb.embedding.embedders import embed_queries, open_embedder
    from kb.esco.match import LINK_LEXICAL_TOP, Matcher
    from kb.esco.vectors import load_vectors
    from kb.knowledge import at_least

    items = load_gold(gold_file)
    matcher = Matcher.open()
    data = matcher.data
    number, right = right_concepts(data.skills, [item.labels for item in items], gold_file, "skill")
    answerable = np.array([bool(item.labels) for item in items])
    competence = np.array([concept.skill_type == "skill/competence" for concept in data.skills])
    texts = [item.text for item in items]
    e5 = open_embedder("e5")
    queries = embed_queries(e5, texts)
    passages = e5.embed_passages(texts)

    naive = naive_scores(load_vectors(data.folder), "skill", len(data.skills), queries, [item.lang for item in items])
    methods = {
        "naive (raw encoder, nearest label in the item's language)": restricted(naive, items, competence),
        "ingest, dense channel only (passage vector)": by_kind(matcher, passages, items, passage=True),
        "ingest (shipped): passage vector + n-gram channel": by_kind(matcher, passages, items, passage=True,
                                                               texts=texts, lexical_top=LINK_LEXICAL_TOP),
        "text: query vector + n-gram channel (kb esco match)": by_kind(matcher, queries, items, texts=texts),
    }
    print(f"{len(items)} items, {int(answerable.sum())} with a concept; {len(set(i.doc_id for i in items))} documents")
    print("| method | items | MRR | Acc@1 | R@10 |\n|---|---|---|---|---|")
    groups = {"all": answerable,
              **{plural: answerable & np.array([i.kind == kind for i in items])
                 for kind, plural in (("duty", "duties"), ("skill", "skills"))},
              **{lang: answerable & np.array([i.lang == lang for i in items]) for lang in LANGS}}
    ranked = {name: best_ranks(scores[answerable], [r for r, a in zip(right, answerable) if a])
              for name, scores in methods.items()}
    for name in methods:
        for group, members in groups.items():
            table = metrics(ranked[name][members[answerable]])
            print(f"| {name} | {group} ({int(members.sum())}) | {table['MRR']:.3f} | {table['Acc@1']:.3f} | "
                  f"{table['R@10']:.3f} |")
    kinds = [item.kind for item in items]
    print("\nlinks at the calibrated threshold (right / wrong / where none fits; of "
          f"{int(answerable.sum())} with a concept and {int((~answerable).sum())} without):")
    shipped = matcher.link(passages, kinds, passage=True, texts=texts)
    for name, linked in (("ingest, dense only", matcher.link(passages, kinds, passage=True)),
                         ("ingest (shipped)", shipped),
                         ("text", [_first(m) for m in _text_links(matcher, queries, items)]),
                         *((f"ingest, score >= {bar}", [at_least(link, bar) for link in shipped]) for bar in BARS)):
        counts = link_counts(linked, items, number, right)
        print(f"  {name:<22} linked {counts['linked']:>3}: right {counts['right']}, wrong {counts['wrong']}, "
              f"where none fits {counts['where none fits']}")
    return 0


def _text_links(matcher, queries: np.ndarray, items: list[GoldItem]) -> list[list]:
    """``kb esco match`` links of each item's text, duties among skill/competence concepts."""
    results: list[list] = [[] for _ in items]
    for kind, skill_type in (("duty", "skill/competence"), ("skill", None)):
        chosen = [n for n, item in enumerate(items) if item.kind == kind]
        if chosen:
            found = matcher.match_vectors(queries[chosen], "skill", 1, skill_type,
                                          texts=[items[n].text for n in chosen])
            for n, matches in zip(chosen, found):
                results[n] = matches
    return results


def _first(matches: list):
    return matches[0] if matches else None


if __name__ == "__main__":
    raise SystemExit(main())
