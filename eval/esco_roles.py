"""``python -m eval.esco_roles``: role articles and job ads -> their ESCO occupation, on text that is not ESCO's.

72 texts of this project's test sets (held-out articles and ads, the prose set, the rules' development set:
25 languages, most without ESCO labels in the shipped tables) are annotated with the ESCO occupation(s) of the
role each describes (``eval/data/esco_roles.tsv``). Each text is matched three ways: its title line, its body
(the text without the title, as ``kb esco match`` would take it) and its body as ingest sees an untitled
article (the mean of its sentences' passage: vectors through the passage map). Methods, measured in one run:
the naive baseline (the raw encoder, nearest label in the text's language, English where the tables have
none), the matcher without its text head, and the shipped matcher. A text's rank is that of the best of its
right occupations. Nothing here is fitted to these texts.
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from eval.esco import metrics
from kb.esco.scoring import Method, concept_scores, kind_index

ROOT = Path(__file__).resolve().parent.parent
GOLD = Path(__file__).resolve().parent / "data" / "esco_roles.tsv"


def load_gold(path: Path = GOLD) -> list[tuple[Path, list[str]]]:
    """(text file, English preferred labels of its right occupations) per annotated text."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(("#", "path\t")) or not line.strip():
            continue
        file, labels = line.split("\t")
        rows.append((ROOT / file, labels.split("|")))
    return rows


def split_title(text: str) -> tuple[str, str]:
    """The first non-empty line and the rest."""
    lines = text.strip().splitlines()
    return lines[0].strip(), "\n".join(lines[1:]).strip()


def best_ranks(scores: np.ndarray, right: list[np.ndarray]) -> np.ndarray:
    """1-based rank of the best-placed right concept of each row."""
    return np.array([1 + (row > row[concepts].max()).sum() for row, concepts in zip(scores, right)])


def right_concepts(concepts, labels: list[tuple[str, ...] | list[str]], gold: Path, type: str
                   ) -> tuple[dict[str, int], list[np.ndarray]]:
    """Each concept's number by its English preferred label, and the numbers of each text's right concepts;
    stops with the annotation file's name where a label is not one of ``concepts``."""
    number = {concept.label("en"): n for n, concept in enumerate(concepts)}
    unknown = sorted({label for text_labels in labels for label in text_labels if label not in number})
    if unknown:
        raise SystemExit(f"{gold}: not ESCO {type} labels: {', '.join(unknown)}")
    return number, [np.array([number[label] for label in text_labels], dtype=int) for text_labels in labels]


def naive_scores(label_vectors, kind: str, count: int, vectors: np.ndarray, langs: list[str]) -> np.ndarray:
    """The naive baseline: each raw query vector against the labels of its language (English where the tables
    have none), no centering."""
    langs = [lang if lang in label_vectors.languages else "en" for lang in langs]
    indexes = {lang: kind_index(label_vectors, kind, count, Method(center=False, languages=(lang,)))
               for lang in set(langs)}
    return np.vstack([concept_scores(vectors[n:n + 1], indexes[lang], Method(center=False))
                      for n, lang in enumerate(langs)])


def gold_argument(argv: list[str] | None, prog: str, doc: str, default: Path) -> Path:
    """The annotation file an evaluation reads: ``--gold FILE``, else ``default``."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=default)
    gold = parser.parse_args(argv).gold
    if not gold.is_file():
        parser.error(f"{gold}: no such annotation file")
    return gold


def main(argv: list[str] | None = None) -> int:
    """Print MRR / Acc@1 / R@10 per view and method, and how often the shipped matcher links right or wrong."""
    gold_file = gold_argument(argv, "python -m eval.esco_roles", __doc__, GOLD)
    from eval.esco_adapter import document_views
    from kb.embedding.embedders import embed_queries, open_embedder
    from kb.esco.match import Matcher
    from kb.esco.vectors import load_vectors

    gold = load_gold(gold_file)
    shipped = Matcher.open()
    data = shipped.data
    number, right = right_concepts(data.occupations, [labels for _, labels in gold], gold_file, "occupation")
    langs = [path.name.split("_")[0] for path, _ in gold]
    titles, bodies = zip(*(split_title(path.read_text(encoding="utf-8")) for path, _ in gold))
    plain = Matcher(data, load_vectors(data.folder),
                    replace(shipped.config, method=replace(shipped.config.method, text_head_types=())))
    e5 = open_embedder("e5")
    views = {"title": (list(titles), embed_queries(e5, list(titles))),
             "body": (list(bodies), embed_queries(e5, list(bodies)))}
    # unmapped: the matcher maps passage vectors itself (``passage=True``), as at ingest
    document = document_views(list(bodies), None, mapped=False)

    count = len(data.occupations)
    label_vectors = load_vectors(data.folder)
    print(f"{len(gold)} texts, {len(set(langs))} languages")
    print("| view | method | MRR | Acc@1 | R@10 |\n|---|---|---|---|---|")
    by_group: dict[str, dict[str, np.ndarray]] = {}
    for view, (texts, vectors) in views.items():
        naive = naive_scores(label_vectors, "occupation", count, vectors, langs)
        rows = {"naive (raw encoder, nearest label in the text's language)": naive,
                "matcher without the text head": plain.scores(vectors, "occupation", texts=texts),
                "shipped matcher": shipped.scores(vectors, "occupation", texts=texts)}
        for name, scores in rows.items():
            table = metrics(best_ranks(scores, right))
            print(f"| {view} | {name} | {table['MRR']:.3f} | {table['Acc@1']:.3f} | {table['R@10']:.3f} |")
            if view == "body":
                by_group[name] = best_ranks(scores, right)
    for name, matcher in (("ingest view, without the text head", plain), ("ingest view, shipped", shipped)):
        table = metrics(best_ranks(matcher.scores(document, "occupation", passage=True), right))
        print(f"| untitled article | {name} | {table['MRR']:.3f} | {table['Acc@1']:.3f} | {table['R@10']:.3f} |")
    together = shipped.scores(views["title"][1], "occupation", texts=list(titles)) + shipped.scores(
        document, "occupation", passage=True)  # Matcher.match_articles' ranking
    table = metrics(best_ranks(together, right))
    print(f"| title and body (ingest) | shipped: title scores + untitled article scores | {table['MRR']:.3f} | "
          f"{table['Acc@1']:.3f} | {table['R@10']:.3f} |")
    sources = ["held-out " + path.parent.parent.name if "heldout" in path.parts else path.parent.parent.name
               for path, _ in gold]
    groups = {**{f"source {source}": np.array([s == source for s in sources]) for source in dict.fromkeys(sources)},
              **{f"language {lang}": np.array([g == lang for g in langs]) for lang in ("sv", "pl", "vi", "en")},
              "other languages": np.array([g not in ("sv", "pl", "vi", "en") for g in langs])}
    print("\nbody MRR by source and language (naive / without the text head / shipped):")
    for group, members in groups.items():
        cells = " / ".join(f"{metrics(ranks[members])['MRR']:.3f}" for ranks in by_group.values())
        print(f"  {group:<22} n={int(members.sum()):>2}  {cells}")
    from kb.embedding.tokens import encoder_for

    runs = encoder_for("e5")  # a title's word runs are pooled from its encoding by the token engine
    for view, (texts, vectors) in views.items():
        for name, matcher, encoder in (("without the text head", plain, None), ("shipped, whole text", shipped, None),
                                       ("shipped, with a title's word runs", shipped, runs)):
            if name.endswith("runs") and (view != "title" or encoder is None):
                continue
            linked = matcher.match_vectors(vectors, "occupation", 1, texts=texts, encoder=encoder)
            _print_links(f"{view}, {name}", linked, right, number)
    titled = shipped.match_vectors(views["title"][1], "occupation", 1, texts=list(titles), encoder=runs)
    untitled = shipped.match_vectors(document, "occupation", 1, passage=True)
    _print_links("article, title else body (ingest before)", [t or u for t, u in zip(titled, untitled)], right,
                 number)
    _print_links("article, title and body together (ingest now)", shipped.match_articles(
        views["title"][1], list(titles), document, 1, encoder=runs), right, number)
    return 0


def _print_links(name: str, linked: list, right: list[np.ndarray], number: dict[str, int]) -> None:
    good = sum(bool(m) and number[m[0].label] in r for m, r in zip(linked, right) if m)
    made = sum(bool(m) for m in linked)
    print(f"{name}: {made} of {len(linked)} linked, {good} right, {made - good} wrong")


if __name__ == "__main__":
    raise SystemExit(main())
