"""``python -m eval.esco_speed``: how long the ESCO matcher takes, warm, split into its parts.

Texts: 100 real ones, Swedish, Polish and English job titles and skill phrases (ESCO labels drawn with a
fixed seed, and the product's example queries). Each is matched one at a time after a warm-up, and the
times are given as median and 95th percentile in milliseconds:

  encoder       the e5 query vector (``embed_queries``, one text)
  matcher       ``match_vectors`` with the vector and its text: dense + lexical + head + calibration + ranking
  match         ``Matcher.match`` of a text seen for the first time (encoder + matcher)
  match again   the same text again (its query vector kept in the process)
  link          ``Matcher.link`` of a batch of passage vectors (what ingest does per article), per item
  label product the skill label rows against 64 query vectors on one BLAS thread, in int8 (what the matcher
                does, ``kb.embedding.quantized``) and in float32 (the same rows); with ``quantize``, the
                time to make the int8 rows of the skill index once

Load: the tables and label vectors (``Matcher.open``) and both lexical indexes (from the user's cache
folder, built there on a first run), in this fresh process.

``--ingest DIR``: instead, ingest DIR into a fresh knowledge base and time, inside it, what only ESCO linking
does: ``esco_links`` and the query encoding of each article's title (``--title-one-thread``: the title
encoded through ``ingest.link.embed_title``). Ingest has no switch to turn linking off.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from contextlib import contextmanager
from typing import Iterator

EXAMPLES = ["truckförare", "operator wózka widłowego", "sjuksköterska", "programista java", "projektledning",
            "obsługa wózka widłowego", "kundtjänstmedarbetare", "księgowa", "lagerarbetare", "spawacz",
            "svetsare", "kierowca autobusu", "undersköterska inom hemtjänst", "Load and unload goods from trucks"]
SEED = 5


def speed_texts(data, count: int = 100) -> list[str]:
    """``count`` real texts: the examples, then ESCO labels in sv, pl and en of occupations and skills."""
    rng = random.Random(SEED)
    texts = list(EXAMPLES)
    pools = [[labels for concept in concepts for lang, labels in concept.labels.items() if lang == wanted]
             for concepts in (data.occupations, data.skills) for wanted in ("sv", "pl", "en")]
    while len(texts) < count:
        text = rng.choice(rng.choice(rng.choice(pools)))
        if text not in texts:
            texts.append(text)
    return texts[:count]


def _milliseconds(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"p50": round(statistics.median(ordered), 2), "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2)}


def measure(count: int = 100, link_batch: int = 20) -> dict:
    """Load time and per-text times (see the module's docstring)."""
    started = time.perf_counter()
    from kb.embedding.embedders import embed_queries
    from kb.embedding.quantized import quantize_table
    from kb.esco.match import Matcher, _default_embedder

    imported = time.perf_counter()
    matcher = Matcher.open()
    opened = time.perf_counter()
    for kind in ("occupation", "skill"):
        matcher.lexical(kind)
    result = {"load": {"imports_s": round(imported - started, 2), "tables_vectors_s": round(opened - imported, 2),
                       "lexical_s": round(time.perf_counter() - opened, 2),
                       "total_s": round(time.perf_counter() - started, 2)}}
    embedder = _default_embedder()
    texts = speed_texts(matcher.data, count)
    vectors = embed_queries(embedder, texts)
    passages = embedder.embed_passages(texts)
    for kind in ("occupation", "skill"):
        matcher.match_vectors(vectors[:1], kind, texts=texts[:1])
    times: dict[str, list[float]] = {}
    for number, text in enumerate(texts):
        times.setdefault("encoder", []).append(_milliseconds(lambda: embed_queries(embedder, [text])))
        for kind in ("occupation", "skill"):
            times.setdefault(f"matcher {kind}", []).append(
                _milliseconds(lambda: matcher.match_vectors(vectors[number:number + 1], kind, texts=[text])))
    for kind in ("occupation", "skill"):
        fresh = [f"{text} ({kind})" for text in texts]  # texts not seen yet: the encoder runs
        times[f"match {kind}"] = [_milliseconds(lambda: matcher.match([text], kind, embedder=embedder))
                                  for text in fresh]
        times[f"match again {kind}"] = [_milliseconds(lambda: matcher.match([text], kind, embedder=embedder))
                                        for text in fresh]
    kinds = ["duty", "skill"] * (link_batch // 2)
    times["link per item"] = [
        _milliseconds(lambda: matcher.link(passages[begin:begin + link_batch], kinds, passage=True,
                                           texts=texts[begin:begin + link_batch])) / link_batch
        for begin in range(0, len(texts) - link_batch + 1, link_batch // 2)]
    times.update(product_times(matcher, vectors))
    result["load"]["quantize_skill_rows_s"] = round(_milliseconds(lambda: quantize_table(
        matcher._indexes["skill"].labels)) / 1000, 3)
    result["ms"] = {name: _summary(values) for name, values in times.items()}
    return result


def product_times(matcher, vectors, count: int = 64, repeats: int = 10) -> dict[str, list[float]]:
    """The skill label rows against ``count`` query vectors, int8 and float32, on one BLAS thread."""
    from kb.esco.scoring import label_similarities
    from kb.threads import one_blas_thread

    index = matcher._indexes["skill"]
    queries = vectors[:count]
    label_similarities(queries, index)  # the int8 rows are made on first use
    with one_blas_thread:
        return {f"label product x{len(queries)} int8": [_milliseconds(lambda: label_similarities(queries, index))
                                                       for _ in range(repeats)],
                f"label product x{len(queries)} float32": [_milliseconds(lambda: queries @ index.labels.T)
                                                          for _ in range(repeats)]}


@contextmanager
def esco_stage_timer(title_one_thread: bool = False) -> Iterator[dict[str, float]]:
    """Time ingest's ESCO stage inside the block: the seconds in ``esco_links`` / ``esco_links_many``
    ("esco_links_s") and in the title's query encoding, which only linking needs ("title_s"); in this process
    (the local engine). ``title_one_thread``: titles encoded through ``ingest.link.embed_title``."""
    import ingest.compute as compute
    from ingest.link import embed_title
    from kb.embedding.embedders import MemoEmbedder

    spent = {"esco_links_s": 0.0, "title_s": 0.0}

    def timed(name, action):
        def wrapper(*args):
            started = time.perf_counter()
            try:
                return action(*args)
            finally:
                spent[name] += time.perf_counter() - started
        return wrapper

    plain_title = MemoEmbedder.embed_query
    links, many = compute.esco_links, compute.esco_links_many  # one article at a time, or short ones together
    title = (lambda memo, text: embed_title(memo.inner, text)) if title_one_thread else plain_title
    compute.esco_links, compute.esco_links_many = timed("esco_links_s", links), timed("esco_links_s", many)
    MemoEmbedder.embed_query = timed("title_s", title)
    try:
        yield spent
    finally:
        compute.esco_links, compute.esco_links_many, MemoEmbedder.embed_query = links, many, plain_title


def stage_share(spent: dict[str, float], total: float) -> float:
    """What the ESCO stage adds to the rest of an ingest that took ``total`` seconds."""
    linking = spent["esco_links_s"] + spent["title_s"]
    return linking / max(total - linking, 1e-9)


def measure_ingest(folder: str, title_one_thread: bool = False) -> dict:
    """Ingest ``folder`` into a temporary knowledge base; seconds in total, in ``esco_links`` and in title
    encoding, and what linking adds to the rest."""
    import tempfile

    from ingest.pipeline import ingest

    with esco_stage_timer(title_one_thread) as spent, tempfile.TemporaryDirectory() as kb_dir:
        started = time.perf_counter()
        ingest([folder], kb_dir=kb_dir, progress=False)
        total = time.perf_counter() - started
    return {"total_s": round(total, 2), **{name: round(value, 2) for name, value in spent.items()},
            "linking_adds": round(stage_share(spent, total), 4)}


def main(argv: list[str] | None = None) -> int:
    """Print the load and per-text times (``--json`` for a dict)."""
    parser = argparse.ArgumentParser(prog="python -m eval.esco_speed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=100, help="how many texts (default 100)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--ingest", metavar="DIR", help="time ESCO linking inside an ingest of DIR instead")
    parser.add_argument("--title-one-thread", action="store_true",
                        help="with --ingest: encode titles through ingest.link.embed_title")
    args = parser.parse_args(argv)
    if args.ingest:
        print(json.dumps(measure_ingest(args.ingest, args.title_one_thread)))
        return 0
    result = measure(args.texts)
    if args.json:
        print(json.dumps(result))
        return 0
    print("load: " + ", ".join(f"{name} {value:.2f}" for name, value in result["load"].items()))
    for name, summary in result["ms"].items():
        print(f"{name:<24} p50 {summary['p50']:7.2f} ms   p95 {summary['p95']:7.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
