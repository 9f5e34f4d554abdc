"""``python -m eval.grouping``: pair precision and recall of cross-language grouping.

The labelled set ``tests/data/groups.jsonl`` holds duties and skills in sv, pl,
vi, en and de, each tagged with the concept it expresses. Two items of one
concept should share a group, two of different concepts should not. The items
are grouped together with the dev set's gold items (``tests/data/dev/gold``) as
background, as they would be in a knowledge base, in a fixed shuffled order.
Precision: of the labelled pairs placed in one group, the share that truly mean
the same; recall: of the true pairs, the share placed in one group.

Compare's duty alignment is scored twice. On the labelled items, each language's
items stand in for one role (every item has its translation on the other side,
an easy case). On ``tests/data/role_pairs.jsonl``, the real case: pairs of dev
articles about the same or a similar role (``{"a", "b", "pair": true}``), each
followed by the pairs of their gold duties that state the same task
(``{"a", "b", "a_text", "b_text"}``); alignments between articles of different
roles (pairs not listed) are counted as well, as they are mostly false. Each
threshold row runs compare's whole alignment (its second pass, mutual best
matches of alike roles, included); one more row shows compare's threshold with
the first pass only.
"""
from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from kb.analysis.compare import SHARED_THRESHOLD
from kb.analysis.group import THRESHOLD, cluster

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "data" / "groups.jsonl"
GOLD = ROOT / "tests" / "data" / "dev" / "gold"
ROLE_PAIRS = ROOT / "tests" / "data" / "role_pairs.jsonl"


def load_items() -> tuple[list[dict], list[dict]]:
    """The labelled items and the background gold items (text, lang, kind)."""
    labelled = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]
    background = []
    for path in sorted(GOLD.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        background += [{"text": item["text"], "lang": document["lang"], "kind": item["kind"], "group": None,
                        "doc": path.stem} for item in document["items"]]
    return labelled, background


def pair_scores(items: list[dict], group_ids: list[str], concepts: set[str] | None = None) -> dict[str, float]:
    """Pair precision, recall and F1 over the labelled items (optionally only some concepts)."""
    true_positive = predicted = actual = 0
    labelled = [(item, gid) for item, gid in zip(items, group_ids)
                if item["group"] is not None and (concepts is None or item["group"] in concepts)]
    for (a, group_a), (b, group_b) in itertools.combinations(labelled, 2):
        if a["kind"] != b["kind"]:
            continue
        same, together = a["group"] == b["group"], group_a == group_b
        true_positive += same and together
        predicted += together
        actual += same
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "pairs_grouped": predicted, "true_pairs": actual}


def alignment_scores(items: list[dict], centered: np.ndarray, threshold: float,
                     second_pass: bool = True) -> dict[str, float]:
    """Pair precision and recall of compare's one-to-one duty alignment, applied to every pair of
    languages of the labelled items (each language's items standing in for one role's list)."""
    from kb.analysis.compare import align_duties

    labelled = [position for position, item in enumerate(items) if item["group"] is not None]
    langs = sorted({items[position]["lang"] for position in labelled})
    true_positive = predicted = actual = 0
    for lang_a, lang_b in itertools.combinations(langs, 2):
        for kind in ("duty", "skill"):
            side_a = [p for p in labelled if items[p]["lang"] == lang_a and items[p]["kind"] == kind]
            side_b = [p for p in labelled if items[p]["lang"] == lang_b and items[p]["kind"] == kind]
            units_a = [{"kind": "duty", "text": str(p)} for p in side_a]
            units_b = [{"kind": "duty", "text": str(p)} for p in side_b]
            shared, _, _ = align_duties((units_a, centered[side_a]), (units_b, centered[side_b]), threshold,
                                        second_pass)
            group = {p: items[p]["group"] for p in side_a + side_b}
            true_positive += sum(group[int(pair["a_text"])] == group[int(pair["b_text"])] for pair in shared)
            predicted += len(shared)
            actual += sum(group[a] == group[b] for a in side_a for b in side_b)
    return {"precision": true_positive / predicted if predicted else 1.0,
            "recall": true_positive / actual if actual else 0.0, "pairs_aligned": predicted, "true_pairs": actual}


def load_role_pairs(path: Path = ROLE_PAIRS) -> tuple[list[tuple[str, str]], set[tuple[str, str, str, str]]]:
    """The labelled article pairs of similar roles, and their aligned duties as (a, b, a_text, b_text)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    article_pairs = [(row["a"], row["b"]) for row in rows if row.get("pair")]
    return article_pairs, {(row["a"], row["b"], row["a_text"], row["b_text"]) for row in rows if not row.get("pair")}


def role_pair_scores(items: list[dict], centered: np.ndarray, threshold: float,
                     role_pairs: tuple[list[tuple[str, str]], set], second_pass: bool = True) -> dict[str, float]:
    """Precision and recall of compare's alignment on the duties of labelled similar-role article pairs, and
    how many duty pairs it aligns between the articles of different roles (every dev article pair not labelled)."""
    from kb.analysis.compare import align_duties

    article_pairs, aligned = role_pairs
    docs: dict[str, list[int]] = {}
    for position, item in enumerate(items):
        if item.get("doc") and item["kind"] == "duty":
            docs.setdefault(item["doc"], []).append(position)

    def align(doc_a: str, doc_b: str) -> list[dict]:
        side_a, side_b = docs.get(doc_a, []), docs.get(doc_b, [])
        units_a = [{"kind": "duty", "text": items[p]["text"]} for p in side_a]
        units_b = [{"kind": "duty", "text": items[p]["text"]} for p in side_b]
        return align_duties((units_a, centered[side_a]), (units_b, centered[side_b]), threshold, second_pass)[0]

    true_positive = predicted = 0
    for doc_a, doc_b in article_pairs:
        shared = align(doc_a, doc_b)
        predicted += len(shared)
        true_positive += sum((doc_a, doc_b, pair["a_text"], pair["b_text"]) in aligned for pair in shared)
    labelled = set(article_pairs) | {(b, a) for a, b in article_pairs}
    other = sum(len(align(a, b)) for a, b in itertools.combinations(sorted(docs), 2) if (a, b) not in labelled)
    return {"precision": true_positive / predicted if predicted else 1.0,
            "recall": true_positive / len(aligned) if aligned else 0.0, "pairs_aligned": predicted,
            "true_pairs": len(aligned), "article_pairs": len(article_pairs), "other_role_pairs": other}


def evaluate(thresholds: list[float], seed: int = 0) -> dict:
    """Group the items at each threshold and score them; also a two-fold calibration check."""
    from kb.embedding.embedders import embed_queries, open_embedder

    labelled, background = load_items()
    items = labelled + background
    order = np.random.default_rng(seed).permutation(len(items))
    items = [items[position] for position in order]
    embedder = open_embedder("e5")
    vectors = embedder.embed_passages([item["text"] for item in items])
    args = ([item["text"] for item in items], [item["lang"] for item in items], [item["kind"] for item in items])
    runs = {threshold: cluster(*args, vectors, threshold=threshold) for threshold in thresholds}
    table = {threshold: pair_scores(items, ids) for threshold, ids in runs.items()}
    concepts = sorted({item["group"] for item in labelled})
    folds = [set(concepts[0::2]), set(concepts[1::2])]
    held_out = []
    for calibrate, test in (folds, folds[::-1]):
        best = max(thresholds, key=lambda t: pair_scores(items, runs[t], calibrate)["f1"])
        held_out.append({"threshold": best, **pair_scores(items, runs[best], test)})
    from kb.analysis.group import centered_vectors

    # compare aligns paraphrase vectors (kb.analysis.paraphrase); the passage vectors are shown for comparison
    paraphrases = embed_queries(embedder, [item["text"] for item in items])
    alignment, roles = {}, {}
    role_pairs = load_role_pairs()
    for view, view_vectors in (("paraphrase", paraphrases), ("passage", vectors)):
        centered = centered_vectors(view_vectors, args[1])
        for threshold in sorted({0.25, 0.30, 0.35, 0.40, 0.45, SHARED_THRESHOLD}):
            name = f"{view} {threshold:.2f}"
            alignment[name] = alignment_scores(items, centered, threshold)
            roles[name] = role_pair_scores(items, centered, threshold, role_pairs)
        if view == "paraphrase":  # compare's setting without its second pass (mutual best matches)
            name = f"{view} {SHARED_THRESHOLD:.2f} first pass only"
            alignment[name] = alignment_scores(items, centered, SHARED_THRESHOLD, second_pass=False)
            roles[name] = role_pair_scores(items, centered, SHARED_THRESHOLD, role_pairs, second_pass=False)
    return {"items": len(labelled), "background": len(background), "table": table, "held_out": held_out,
            "alignment": alignment, "role_pairs": roles}


def main() -> None:
    """Print the threshold sweep, the scores at the chosen threshold and the two-fold check."""
    parser = argparse.ArgumentParser(prog="python -m eval.grouping", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    args = parser.parse_args()
    thresholds = sorted({round(value, 2) for value in np.arange(0.30, 0.61, 0.02)} | {THRESHOLD})
    result = evaluate(thresholds)
    if args.json:
        print(json.dumps({**result, "table": {str(k): v for k, v in result["table"].items()},
                          "alignment": result["alignment"], "role_pairs": result["role_pairs"],
                          "threshold": THRESHOLD}, indent=2))
        return
    print(f"{result['items']} labelled items, {result['background']} background items (dev gold)")
    print("threshold  precision  recall  f1     grouped pairs")
    for threshold, scores in result["table"].items():
        mark = "  <- chosen (kb.analysis.group.THRESHOLD)" if threshold == THRESHOLD else ""
        print(f"{threshold:9.2f}  {scores['precision']:9.3f}  {scores['recall']:6.3f}  {scores['f1']:.3f}  "
              f"{scores['pairs_grouped']:6d}{mark}")
    for fold in result["held_out"]:
        print(f"two-fold (calibrated on half the concepts, tested on the rest): threshold {fold['threshold']:.2f} "
              f"precision {fold['precision']:.3f} recall {fold['recall']:.3f}")
    chosen = f"paraphrase {SHARED_THRESHOLD:.2f}"
    print("compare's one-to-one alignment between every two languages of the labelled items:")
    for name, scores in result["alignment"].items():
        mark = "  <- compare's vectors and threshold" if name == chosen else ""
        print(f"  {name}  precision {scores['precision']:.3f}  recall {scores['recall']:.3f}  "
              f"({scores['pairs_aligned']} aligned, {scores['true_pairs']} true pairs){mark}")
    print("compare's alignment on the duties of similar-role article pairs (tests/data/role_pairs.jsonl):")
    for name, scores in result["role_pairs"].items():
        mark = "  <- compare's vectors and threshold" if name == chosen else ""
        print(f"  {name}  precision {scores['precision']:.3f}  recall {scores['recall']:.3f}  "
              f"({scores['pairs_aligned']} aligned, {scores['true_pairs']} true pairs in "
              f"{scores['article_pairs']} article pairs; {scores['other_role_pairs']} between different roles){mark}")


if __name__ == "__main__":
    main()
