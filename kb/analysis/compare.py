"""Role-to-role comparison: similarity, aligned shared duties and what is unique to each role.

Works across languages because it uses centered vectors (each language's mean
vector removed, see ``kb.analysis.group``). Role similarity uses the stored passage vectors
of items and sentences, as grouping does; duty alignment uses the items' paraphrase
vectors (``kb.analysis.paraphrase``: embedded once with e5's symmetric "query: " prefix and
cached). Alignment is one-to-one (each duty pairs with at most one of the other
role) and has two passes:

1. every duty pair at a cosine of 0.35 or more, best first;
2. when that found at least two pairs (so the roles are alike), the duties left
   that are each other's best match, at 0.25 or more and 0.05 above either
   duty's next best: between similar roles a clear mutual best is a shared duty
   even when e5 scores the paraphrase low ("screeningsamtal" and "screenar
   inkommande telefon- och e-postkommunikation", 0.28).

Measured by ``python -m eval.grouping``: on the hand-aligned duties of similar
roles in ``tests/data/role_pairs.jsonl`` (worded differently, the real task)
precision 0.59 and recall 0.34, against 0.59 / 0.28 for the first pass alone,
with 3 more alignments among the 974 pairs of articles of different roles
(a second pass without the two-pair condition made 129 there 539); on the labelled
translations of ``tests/data/groups.jsonl`` precision 0.99 and recall 0.79
(0.99 / 0.73).
"""
from __future__ import annotations

import itertools

import numpy as np

from kb.errors import KBError
from kb.analysis.group import centered_vectors
from kb.analysis.paraphrase import paraphrase_vectors
from kb.storage import esco_links

MIN_ITEMS = 3  # a role with fewer duties and skills is compared by its sentences instead
SHARED_THRESHOLD = 0.35  # one-to-one alignment of paraphrase vectors, measured by `python -m eval.grouping`
MUTUAL_SUPPORT = 2  # first-pass pairs that open the second pass (mutual best matches)
MUTUAL_THRESHOLD = 0.25  # the lowest cosine of a mutual best match
MUTUAL_MARGIN = 0.05  # how far a mutual best match leads either duty's next best


def compare(kb, doc_ids: list[str], label_lang: str = "en") -> dict:
    """Similarity matrix of the roles and, for every pair, aligned shared duties, unique ones and the ESCO
    concepts both roles' items are linked to (labels in ``label_lang``, else English)."""
    doc_ids = list(dict.fromkeys(resolve_doc_id(kb, doc_id) for doc_id in doc_ids))
    if len(doc_ids) < 2:
        raise KBError("compare needs at least two different document ids",
                      hint="list the ids with 'python -m kb docs'")
    profiles = {doc_id: {} for doc_id in doc_ids}
    for name, kinds in (("items", ("duty", "skill")), ("sentences", ("sentence",))):
        units, vectors = kb.store.unit_vectors(kinds)
        views = [(name, vectors)] + ([("paraphrases", paraphrase_vectors(kb, units))] if name == "items" else [])
        for view, view_vectors in views:
            centered = centered_vectors(view_vectors, [unit["lang"] for unit in units])
            for doc_id in doc_ids:
                positions = [p for p, unit in enumerate(units) if unit["doc_id"] == doc_id]
                profiles[doc_id][view] = ([units[p] for p in positions], centered[positions])
    concepts = esco_links.doc_concepts(kb.store.connection, doc_ids)
    size = len(doc_ids)
    matrix = np.eye(size)
    pairs = []
    for i, j in itertools.combinations(range(size), 2):
        a, b = profiles[doc_ids[i]], profiles[doc_ids[j]]
        matrix[i, j] = matrix[j, i] = role_similarity(a, b)
        shared, unique_a, unique_b = align_duties(a["paraphrases"], b["paraphrases"])
        pairs.append({"a": doc_ids[i], "b": doc_ids[j], "similarity": round(float(matrix[i, j]), 4),
                      "shared": shared, "unique_a": unique_a, "unique_b": unique_b,
                      "shared_esco": shared_concepts(kb, concepts[doc_ids[i]], concepts[doc_ids[j]], label_lang)})
    pairs.sort(key=lambda pair: -pair["similarity"])
    return {"docs": doc_ids, "titles": {doc_id: kb.article(doc_id)["title"] for doc_id in doc_ids},
            "similarity": [[round(float(value), 4) for value in row] for row in matrix], "pairs": pairs}


def shared_concepts(kb, a: dict[str, list[str]], b: dict[str, list[str]], label_lang: str) -> list[dict]:
    """The ESCO concepts linked in both roles, by label, with the items of each that carry them."""
    shared = [{"esco_uri": uri, "esco_label": kb.esco_label(uri, label_lang), "a_items": a[uri], "b_items": b[uri]}
              for uri in a.keys() & b.keys()]
    return sorted(shared, key=lambda concept: concept["esco_label"])


def resolve_doc_id(kb, doc_id: str) -> str:
    """The document id itself, or the one id it is a unique prefix of (``000`` for ``000_8c16...``)."""
    if kb.store.article(doc_id) is not None:
        return doc_id
    matches = [doc["doc_id"] for doc in kb.docs() if doc["doc_id"].startswith(doc_id)]
    if len(matches) == 1:
        return matches[0]
    hint = f"it matches {', '.join(matches[:5])}; type more of it" if matches else \
        "list the ids with 'python -m kb docs'"
    raise KBError(f"no article {doc_id!r}" if not matches else f"ambiguous document id {doc_id!r}", hint=hint)


def role_similarity(a: dict, b: dict) -> float:
    """Best-match similarity of items averaged with that of sentences (sentences only when a role has few items).

    Sentences cover what the extractor missed, items weigh what the role does; on the corpus the blend
    separates the two senior-coordinator articles from the rest more clearly than either alone.
    """
    sentences = best_match(a["sentences"][1], b["sentences"][1])
    if min(len(a["items"][0]), len(b["items"][0])) < MIN_ITEMS:
        return sentences
    return (best_match(a["items"][1], b["items"][1]) + sentences) / 2


def best_match(vectors_a: np.ndarray, vectors_b: np.ndarray) -> float:
    """Mean of best-match similarities in both directions."""
    if len(vectors_a) == 0 or len(vectors_b) == 0:
        return 0.0
    scores = vectors_a @ vectors_b.T
    return float((scores.max(axis=1).mean() + scores.max(axis=0).mean()) / 2)


def align_duties(a: tuple[list[dict], np.ndarray], b: tuple[list[dict], np.ndarray],
                 threshold: float = SHARED_THRESHOLD,
                 second_pass: bool = True) -> tuple[list[dict], list[str], list[str]]:
    """One-to-one duty pairs (best first, then the mutual best matches of alike roles), and the duties left."""
    units_a, vectors_a = _duties(a)
    units_b, vectors_b = _duties(b)
    pairs: list[tuple[int, int]] = []
    scores = np.zeros((len(units_a), len(units_b)))
    if units_a and units_b:
        scores = vectors_a @ vectors_b.T
        pairs = confident_pairs(scores, threshold)
        if second_pass and len(pairs) >= MUTUAL_SUPPORT:
            pairs += mutual_best_pairs(scores, pairs)
    shared = [{"a_text": units_a[i]["text"], "b_text": units_b[j]["text"], "similarity": round(float(scores[i, j]), 4)}
              for i, j in pairs]
    used_a, used_b = {i for i, _ in pairs}, {j for _, j in pairs}
    unique_a = [unit["text"] for k, unit in enumerate(units_a) if k not in used_a]
    unique_b = [unit["text"] for k, unit in enumerate(units_b) if k not in used_b]
    return shared, unique_a, unique_b


def confident_pairs(scores: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Greedy one-to-one pairs (row, column) at ``threshold`` or above, best first."""
    pairs, used_a, used_b = [], set(), set()
    for flat in np.argsort(-scores, axis=None):
        i, j = divmod(int(flat), scores.shape[1])
        if scores[i, j] < threshold:
            break
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            pairs.append((i, j))
    return pairs


def mutual_best_pairs(scores: np.ndarray, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Pairs of duties not in ``taken`` that are each other's best match by a margin, best first."""
    used_a, used_b = {i for i, _ in taken}, {j for _, j in taken}
    found = []
    for i in range(scores.shape[0]):
        j = int(np.argmax(scores[i]))
        if i in used_a or j in used_b or int(np.argmax(scores[:, j])) != i or scores[i, j] < MUTUAL_THRESHOLD:
            continue
        runner_up = max(_second_best(scores[i]), _second_best(scores[:, j]))
        if scores[i, j] - runner_up >= MUTUAL_MARGIN:
            found.append((i, j))
    return sorted(found, key=lambda pair: -scores[pair])


def _second_best(values: np.ndarray) -> float:
    return float(np.partition(values, -2)[-2]) if len(values) > 1 else -np.inf


def _duties(profile: tuple[list[dict], np.ndarray]) -> tuple[list[dict], np.ndarray]:
    """Only the duties of a role's item profile."""
    units, vectors = profile
    positions = [p for p, unit in enumerate(units) if unit["kind"] == "duty"]
    return [units[p] for p in positions], vectors[positions] if len(positions) else np.zeros((0, 1))


def format_comparison(result: dict) -> str:
    """The comparison as plain text: the matrix, then each pair's shared and unique duties."""
    lines = ["role similarity (best-match centered cosines of items and sentences):"]
    lines += [f"  {doc_id:>12}  " + "  ".join(f"{value:.3f}" for value in row)
              for doc_id, row in zip(result["docs"], result["similarity"])]
    for pair in result["pairs"]:
        lines.append(f"\n{pair['a']} vs {pair['b']}: {pair['similarity']:.3f}, {len(pair['shared'])} shared duties, "
                     f"{len(pair['shared_esco'])} shared ESCO concepts")
        lines += [f"  = {s['similarity']:.3f}  {s['a_text']}  <->  {s['b_text']}" for s in pair["shared"]]
        lines += [f"  ESCO {c['esco_label']}: {'; '.join(c['a_items'])}  <->  {'; '.join(c['b_items'])}"
                  for c in pair["shared_esco"]]
        lines += [f"  only {pair['a']}: {text}" for text in pair["unique_a"]]
        lines += [f"  only {pair['b']}: {text}" for text in pair["unique_b"]]
    return "\n".join(lines)
