"""``python -m eval.esco``: text -> ESCO matching on held-out dev sets built from the open ESCO data.

Sets (fixed seed, no leakage):
  a) occupation labels (sv any, pl/en alternative) as queries for their occupation; the query's own
     label is removed from the index for that query.
  b) Polish occupation descriptions -> their occupation; no Polish description is in the index.
  c) Swedish skill labels -> their skill; no Swedish skill label is in the index.
Vectors come from the cache in /work/cache/esco (embedded once; ``--cache`` to move it).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from kb.esco.data import EscoData, load
from kb.esco.embedcache import embed_texts, load_cache
from kb.esco.scoring import Method, concept_scores, kind_index, text_head_scores
from kb.esco.vectors import KINDS, IndexRow, LabelVectors, index_rows, row_prefix

CACHE = Path("/work/cache/esco")
SEED = 13
PER_SET = 500


@dataclass(frozen=True)
class Query:
    """One dev query: text, language, the right concept and the index rows it may not see."""

    text: str
    lang: str
    kind: str
    concept: int
    set_name: str


def cached_index(data: EscoData, cache_dir: Path, only_cached: bool = True) -> tuple[list[IndexRow], LabelVectors]:
    """The index rows with their vectors: from the cache where it holds every row, else the shipped int8 label
    vectors (the very rows the product matches against); ``only_cached=False`` embeds what the cache lacks."""
    rows = index_rows(data)
    if only_cached:
        caches = {prefix: load_cache(cache_dir, prefix) for prefix in ("query", "passage")}
        if not all(row.text in caches[row_prefix(row)] for row in rows):
            return rows, _shipped(data, rows)
        vectors = np.vstack([caches[row_prefix(row)][row.text] for row in rows]).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    else:
        from kb.esco.vectors import embed_rows

        vectors = embed_rows(rows, cache_dir=cache_dir)
    table = np.array([(r.kind, r.concept, data.languages.index(r.lang), r.field) for r in rows], dtype=np.int32)
    return rows, LabelVectors(vectors, table[:, 0], table[:, 1], table[:, 2], table[:, 3], data.languages)


def _shipped(data: EscoData, rows: list[IndexRow]) -> LabelVectors:
    """The label vectors shipped with the tables, checked to be those of ``rows``."""
    from kb.esco.vectors import load_vectors

    shipped = load_vectors(data.folder)
    expected = np.array([(r.kind, r.concept, data.languages.index(r.lang), r.field) for r in rows], dtype=np.int32)
    found = np.stack([shipped.kind, shipped.concept, shipped.lang, shipped.field], axis=1)
    if found.shape != expected.shape or not (found == expected).all():
        raise SystemExit(f"{data.folder}: the shipped vectors are not those of the tables; "
                         "rebuild them with 'python -m kb.esco.build'")
    return shipped


def build_sets(data: EscoData, per_set: int = PER_SET, seed: int = SEED) -> list[Query]:
    """The dev queries of sets a, b and c."""
    rng = random.Random(seed)
    queries: list[Query] = []
    for lang in ("sv", "pl", "en"):
        pool = [(label, number) for number, concept in enumerate(data.occupations)
                for label in concept.labels.get(lang, ())[(0 if lang == "sv" else 1):]]
        queries += [Query(t, lang, "occupation", n, f"a-{lang}") for t, n in rng.sample(pool, min(per_set, len(pool)))]
    pool = [(c.descriptions["pl"], n) for n, c in enumerate(data.occupations) if c.descriptions.get("pl")]
    # A generator of its own, so set b stays the same when the other sets change size.
    sample = random.Random(0).sample(pool, min(600, len(pool)))[:per_set]
    queries += [Query(t, "pl", "occupation", n, "b-pl") for t, n in sample]
    # The same descriptions without their first sentence, which names the occupation ("Reżyserzy techniczni
    # realizują..."): closer to a job ad's duty prose, where the title is not repeated.
    queries += [Query(body, "pl", "occupation", n, "b-pl-body") for body, n in
                ((_after_first_sentence(t), n) for t, n in sample) if body]
    for lang in ("sv", "pl"):  # pl last, so that the sets before it stay the same
        pool = [(label, n) for n, c in enumerate(data.skills) for label in c.labels.get(lang, ())]
        queries += [Query(t, lang, "skill", n, f"c-{lang}") for t, n in rng.sample(pool, min(per_set, len(pool)))]
    return queries


def _after_first_sentence(text: str) -> str:
    """The text after its first sentence ('' if it has one sentence only)."""
    parts = re.split(r"(?<=[.!?])\s+", text, maxsplit=1)
    return parts[1].strip() if len(parts) == 2 else ""


def exclusions(queries: list[Query], rows: list[IndexRow], languages: tuple[str, ...]) -> list[np.ndarray]:
    """Rows each query may not see: its own label text (set a), every skill label in its language (set c)."""
    by_text: dict[tuple[int, str, str], list[int]] = {}
    for number, row in enumerate(rows):
        by_text.setdefault((row.kind, row.lang, row.text), []).append(number)
    skills_in = {lang: np.array([n for n, r in enumerate(rows) if r.kind == 1 and r.lang == lang], dtype=np.int64)
                 for lang in ("sv", "pl")}
    result = []
    for query in queries:
        if query.set_name.startswith("c"):
            result.append(skills_in[query.lang])
        else:
            result.append(np.array(by_text.get((KINDS.index(query.kind), query.lang, query.text), []), dtype=np.int64))
    return result


def ranks(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """1-based rank of the right concept in each row of scores."""
    right = scores[np.arange(len(truth)), truth]
    return 1 + (scores > right[:, None]).sum(axis=1)


def metrics(rank: np.ndarray) -> dict[str, float]:
    """MRR, Acc@1 and R@10 of a list of ranks."""
    return {"MRR": float(np.mean(1.0 / rank)), "Acc@1": float(np.mean(rank == 1)), "R@10": float(np.mean(rank <= 10)),
            "n": int(len(rank))}


def naive_method(query: Query, languages: tuple[str, ...]) -> Method:
    """The baseline: raw encoder, nearest label in the query's language (English where the index has none)."""
    lang = query.lang if not query.set_name.startswith("c") else "en"
    return Method(center=False, languages=(lang,))


def concept_half(kind: str, concept: int) -> int:
    """0 or 1: a fixed split of the concepts, for cross-fitting anything learned."""
    return hashlib.sha1(f"{kind}:{concept}".encode()).digest()[0] % 2


def evaluate(data: EscoData, rows: list[IndexRow], index: LabelVectors, queries: list[Query],
             query_vectors: np.ndarray, method: Method | None, adapter: dict | None = None) -> dict[str, np.ndarray]:
    """Ranks per set for one method (None: the naive baseline); an adapter is cross-fitted on concept halves."""
    from eval.esco_adapter import fit_adapter, fit_shared_map

    excluded = exclusions(queries, rows, index.languages)
    result: dict[str, np.ndarray] = {}
    shared: dict[tuple[str, int], object] = {}
    for set_name in dict.fromkeys(q.set_name for q in queries):
        chosen = [n for n, q in enumerate(queries) if q.set_name == set_name]
        first = queries[chosen[0]]
        use = method or naive_method(first, index.languages)
        count = len(data.occupations if first.kind == "occupation" else data.skills)
        truth = np.array([queries[n].concept for n in chosen])
        if adapter is None or first.kind not in adapter.get("kinds", (first.kind,)):
            prepared = kind_index(index, first.kind, count, use)
            scores = concept_scores(query_vectors[chosen], prepared, use, [excluded[n] for n in chosen])
            if use.lexical_weight:
                scores += use.lexical_weight * lexical_scores(data, [queries[n] for n in chosen])
            result[set_name] = ranks(scores, truth)
            continue
        halves = np.array([concept_half(first.kind, c) for c in range(count)])
        rank = np.zeros(len(chosen), dtype=np.int64)
        for fold in (0, 1):
            if "shared" in adapter:  # one map per kind and fold, blind to every query label of that kind
                key = (first.kind, fold)
                if key not in shared:
                    same_kind = [n for n, q in enumerate(queries) if q.kind == first.kind]
                    counts = {"occupation": len(data.occupations), "skill": len(data.skills)}
                    shared[key] = fit_shared_map(_without(index, excluded, same_kind), first.kind, counts, use,
                                                 halves == fold, **adapter["shared"])
                    shared[key, "plain"] = kind_index(index, first.kind, count, use)
                fitted = shared[key]
            else:
                visible = _without(index, excluded, chosen)
                fitted = fit_adapter(visible, first.kind, count, use, halves == fold, **adapter)
            prepared = kind_index(index, first.kind, count, use, adapter=fitted)
            part = np.flatnonzero(halves[truth] != fold)
            scores = concept_scores(query_vectors[[chosen[p] for p in part]], prepared, use,
                                    [excluded[chosen[p]] for p in part])
            if adapter.get("max_words"):  # long texts (descriptions) keep the plain scores
                long = np.array([len(queries[chosen[p]].text.split()) > adapter["max_words"] for p in part])
                if long.any():
                    scores[long] = concept_scores(query_vectors[[chosen[p] for p in part[long]]],
                                                  shared[(first.kind, fold), "plain"], use,
                                                  [excluded[chosen[p]] for p in part[long]])
            if use.lexical_weight:
                scores += use.lexical_weight * lexical_scores(data, [queries[chosen[p]] for p in part])
            if "text" in adapter:  # long texts: the text heads trained on the other half's descriptions
                long = np.array([len(queries[chosen[p]].text.split()) > adapter["max_words"] for p in part])
                if long.any():
                    for target in adapter["text"].get("targets", ("labels",)):
                        head, plain = _text_head(data, index, first.kind, count, use, halves == fold, shared,
                                                 {**adapter["text"], "target": target})
                        scores[long] += adapter["text"]["weight"] * text_head_scores(
                            query_vectors[[chosen[p] for p in part[long]]], plain, head)
            rank[part] = ranks(scores, truth[part])
        result[set_name] = rank
    return result


def _text_head(data: EscoData, index: LabelVectors, kind: str, count: int, method: Method, train: np.ndarray,
               cache: dict, options: dict):
    """(text head trained on the descriptions of the concepts where ``train`` holds, the plain index), once per
    fold: cross-fitted, so no measured concept's description is ever trained on. ``options["view"]``: "text"
    (the descriptions' query vectors) or "document" (their sentences' mean, as ingest sees an article)."""
    from eval.esco_adapter import text_head_inputs, train_text_head

    view = options.get("view", "text")
    key = (view, options.get("target", "labels"), kind, train.tobytes())
    if key not in cache:
        plain = kind_index(index, kind, count, method)
        vectors, owners = text_head_inputs(data, view, CACHE)
        params = {name: value for name, value in options.items() if name not in ("weight", "view", "targets")}
        cache[key] = (train_text_head(vectors, owners, plain, train, **params), plain)
    return cache[key]


_LEXICAL: dict[tuple[str, str], tuple[list, object]] = {}


def lexical_scores(data: EscoData, queries: list[Query]) -> np.ndarray:
    """Lexical-channel scores of queries of one set, with the same labels held out as for the dense channel:
    the query's own label text (sets a, b), every skill label of the query's language (set c)."""
    from kb.esco.lexical import build_lexical, lexical_labels

    first = queries[0]
    held_out = first.lang if first.set_name.startswith("c") else ""
    key = (first.kind, held_out)
    if key not in _LEXICAL:
        concepts = data.occupations if first.kind == "occupation" else data.skills
        labels = lexical_labels(concepts)
        keep = np.array([label.lang != held_out for label in labels])
        _LEXICAL[key] = (labels, build_lexical(labels, len(concepts), keep))
    labels, lexical = _LEXICAL[key]
    by_text: dict[tuple[str, str], list[int]] = {}
    for number, label in enumerate(labels):
        by_text.setdefault((label.lang, label.text), []).append(number)
    excluded = [np.array(by_text.get((q.lang, q.text), []) if not held_out else [], dtype=np.int64) for q in queries]
    return lexical.scores([q.text for q in queries], excluded)


def _without(index: LabelVectors, excluded: list[np.ndarray], chosen: list[int]) -> LabelVectors:
    """The index less the rows any of the chosen queries may not see (so training never sees them either)."""
    keep = np.ones(len(index.concept), dtype=bool)
    for n in chosen:
        keep[excluded[n]] = False
    return LabelVectors(index.vectors[keep], index.kind[keep], index.concept[keep], index.lang[keep],
                        index.field[keep], index.languages)


def report(name: str, result: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Print and return the metrics of one method."""
    table = {set_name: metrics(rank) for set_name, rank in result.items()}
    cells = "  ".join(f"{s}: MRR {m['MRR']:.3f} A@1 {m['Acc@1']:.3f} R@10 {m['R@10']:.3f}" for s, m in table.items())
    print(f"{name:<34} {cells}", flush=True)
    return table


METHODS: dict[str, tuple[Method, dict | None]] = {
    "all languages, max, raw": (Method(center=False), None),
    "all languages, max, centered": (Method(center=True), None),
    "centered, log-mean-exp T=0.02": (Method(center=True, temperature=0.02), None),
    "centered + description 0.3": (Method(center=True, description_weight=0.3), None),
    "centered + description 0.6": (Method(center=True, description_weight=0.6), None),
    "centered + 8 language directions out": (Method(center=True), {"directions": 8, "ridge": None}),
    "centered + ridge map 1.0": (Method(center=True), {"directions": 0, "ridge": 1.0}),
    "centered + ridge map 0.03": (Method(center=True), {"directions": 0, "ridge": 0.03}),
    **{f"centered + description 0.6 + lexical {weight}":
       (Method(center=True, description_weight=0.6, lexical_weight=weight), None) for weight in (0.2, 0.4, 0.7, 1.0)},
    "centered + description 0.6 + shared map r64": (Method(center=True, description_weight=0.6),
                                                     {"shared": {"rank": 64}}),
    "centered + description 0.6 + lexical 0.4 + shared map r64": (
        Method(center=True, description_weight=0.6, lexical_weight=0.4), {"shared": {"rank": 64}}),
    "centered + description 0.6 + lexical 0.4 + shared map r64 up to 8 words": (
        Method(center=True, description_weight=0.6, lexical_weight=0.4), {"shared": {"rank": 64}, "max_words": 8}),
    "centered + description 0.6 + lexical 0.4 + shared map r16 up to 8 words": (
        Method(center=True, description_weight=0.6, lexical_weight=0.4), {"shared": {"rank": 16}, "max_words": 8}),
    "lexical 0.4 + occupation head r64 up to 8 words": (
        Method(center=True, description_weight=0.6, lexical_weight=0.4),
        {"shared": {"rank": 64}, "max_words": 8, "kinds": ("occupation",)}),
    "lexical 0.2 + occupation head r64 up to 8 words": (
        Method(center=True, description_weight=0.6, lexical_weight=0.2),
        {"shared": {"rank": 64}, "max_words": 8, "kinds": ("occupation",)}),
    "all languages raw + lexical 0.4": (Method(center=False, lexical_weight=0.4), None),
    **{f"lexical 0.4 + occupation head up to 8 words + text head x {weight}": (
        Method(center=True, description_weight=0.6, lexical_weight=0.4),
        {"shared": {"rank": 64}, "max_words": 8, "kinds": ("occupation",),
         "text": {"rank": 64, "epochs": 10, "weight": weight}}) for weight in (0.5, 1.0, 2.0)},
    **{f"centered descriptions {weight} + lexical 0.4 + occupation head up to 8 words + text head": (
        Method(center=True, description_weight=weight, description_center=True, lexical_weight=0.4),
        {"shared": {"rank": 64}, "max_words": 8, "kinds": ("occupation",),
         "text": {"rank": 64, "epochs": 10, "weight": 1.0}}) for weight in (0.3, 0.6, 1.0)},
    "shipped: centered descriptions 0.6 + lexical 0.4 + occupation head up to 8 words + text heads to labels "
    "and to descriptions": (
        Method(center=True, description_weight=0.6, description_center=True, lexical_weight=0.4),
        {"shared": {"rank": 64}, "max_words": 8, "kinds": ("occupation",),
         "text": {"rank": 64, "epochs": 10, "weight": 1.0, "targets": ("labels", "descriptions")}}),
    "centered descriptions 0.6 + lexical 0.4 + occupation head up to 8 words, no text head": (
        Method(center=True, description_weight=0.6, description_center=True, lexical_weight=0.4),
        {"shared": {"rank": 64}, "max_words": 8, "kinds": ("occupation",)}),
}


def document_view_report(data: EscoData, index: LabelVectors, queries: list[Query], cache: Path
                         ) -> dict[str, dict[str, dict[str, float]]]:
    """Sets b as ingest sees an article without a usable title: the mean of its sentences' passage: vectors,
    through the shipped passage map, scored by the dense channel alone, then with a text head added (trained
    on the descriptions' query vectors, or on the same document view of them; cross-fitted on concept
    halves); prints a table."""
    from eval.esco_adapter import document_views
    from kb.esco.match import MatcherConfig

    method = replace(MatcherConfig.load().method, lexical_weight=0.0, head_types=())
    weight = method.text_head_weight or 1.0
    chosen = [q for q in queries if q.set_name.startswith("b")]
    views = document_views([q.text for q in chosen], cache)
    count = len(data.occupations)
    plain = kind_index(index, "occupation", count, method)
    base = concept_scores(views, plain, method)
    truth = np.array([q.concept for q in chosen])
    halves = np.array([concept_half("occupation", c) for c in range(count)])
    rows = {"document view, dense (ingest before the text heads)": base}
    for view, name in (("text", "text head (query vectors)"), ("document", "document head (ingest now)")):
        heads: dict = {}
        headed = base.copy()
        for fold in (0, 1):
            part = halves[truth] != fold
            head, _ = _text_head(data, index, "occupation", count, method, halves == fold, heads,
                                 {"rank": 64, "epochs": 10, "view": view})
            headed[part] += weight * text_head_scores(views[part], plain, head)
        rows[f"document view, dense + {name} x {weight}"] = headed
    figures: dict[str, dict[str, dict[str, float]]] = {}
    for name, scores in rows.items():
        figures[name] = {}
        for set_name in dict.fromkeys(q.set_name for q in chosen):
            members = np.array([q.set_name == set_name for q in chosen])
            figures[name][set_name] = metrics(ranks(scores[members], truth[members]))
        report(name, {s: ranks(scores[[q.set_name == s for q in chosen]], truth[[q.set_name == s for q in chosen]])
                      for s in figures[name]})
    return figures


def markdown(figures: dict[str, dict[str, dict[str, float]]]) -> str:
    """The figures as a markdown table: one row per method, MRR / Acc@1 / R@10 per set."""
    sets = list(next(iter(figures.values())))
    lines = ["| method | " + " | ".join(f"{s} MRR / A@1 / R@10" for s in sets) + " |",
             "|---|" + "---|" * len(sets)]
    for name, table in figures.items():
        lines.append(f"| {name} | " + " | ".join(
            f"{table[s]['MRR']:.3f} / {table[s]['Acc@1']:.3f} / {table[s]['R@10']:.3f}" for s in sets) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every method on the dev sets and print the table."""
    parser = argparse.ArgumentParser(prog="python -m eval.esco", description=__doc__)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--per-set", type=int, default=PER_SET)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--methods", nargs="*", help="only methods whose name contains one of these")
    parser.add_argument("--passage", action="store_true",
                        help="also the shipped method on passage:-prefixed queries (as ingest links), raw and mapped")
    parser.add_argument("--document-view", action="store_true",
                        help="also sets b as ingest sees an untitled article (its sentences' mean passage: vector)")
    args = parser.parse_args(argv)
    data = load()
    started = time.time()
    rows, index = cached_index(data, args.cache)
    print(f"index: {len(rows)} label rows ({time.time() - started:.1f}s)", flush=True)
    queries = build_sets(data, args.per_set)
    vectors = embed_texts([q.text for q in queries], "query", cache_dir=args.cache)
    figures = {"naive": report("naive (query language, raw, max)", evaluate(data, rows, index, queries, vectors, None))}
    for name, (method, adapter) in METHODS.items():
        if args.methods and not any(part in name for part in args.methods):
            continue
        figures[name] = report(name, evaluate(data, rows, index, queries, vectors, method, adapter))
    print(markdown(figures))
    if args.passage:  # ingest links items by their passage: vectors
        from eval.esco_passage import passage_report

        figures.update(passage_report(data, rows, index, queries, vectors, args.cache))
    if args.document_view:  # ingest matches an article without a usable title by its sentences' mean
        figures.update(document_view_report(data, index, queries, args.cache))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
