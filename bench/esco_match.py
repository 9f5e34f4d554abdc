"""``python -m bench.esco_match``: how long the ESCO matcher takes to load and to match one text, warm.

Load: tables and label vectors (``Matcher.open``), then each type's lexical index, built from the tables
(what the first use on a machine does) and read back from the user's cache folder. Match: one text at a
time, the median and 95th percentile over job titles and skill terms, after one warm-up call (the model
and both indexes already open): the matcher alone (the query vector given) and with the e5 encoder.
"""
from __future__ import annotations

import argparse
import statistics
import time

TEXTS = ["truckförare", "operator wózka widłowego", "sjuksköterska", "programista java", "projektledning",
         "obsługa wózka widłowego", "kundtjänstmedarbetare", "księgowa", "lagerarbetare", "spawacz",
         "svetsare", "kierowca autobusu", "undersköterska inom hemtjänst", "Load and unload goods from trucks"]


def _seconds(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Print load and match times."""
    parser = argparse.ArgumentParser(prog="python -m bench.esco_match", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="times each text is matched (default 5)")
    args = parser.parse_args(argv)
    from kb.esco.lexical import build_lexical, lexical_labels, open_lexical
    from kb.esco.match import Matcher, _default_embedder

    holder: list = []
    print(f"tables + label vectors: {_seconds(lambda: holder.append(Matcher.open())):.2f} s")
    matcher = holder[0]
    for kind in ("occupation", "skill"):
        concepts = matcher.data.occupations if kind == "occupation" else matcher.data.skills
        built = _seconds(lambda: build_lexical(lexical_labels(concepts), len(concepts)))
        open_lexical(matcher.data, kind)  # the cache file, should it be missing
        cached = _seconds(lambda: matcher.lexical(kind))
        print(f"lexical index, {kind}: built {built:.2f} s, from the cache {cached:.2f} s")
    embedder = _default_embedder()
    from kb.embedding.embedders import embed_queries

    vectors = embed_queries(embedder, TEXTS)
    for kind in ("occupation", "skill"):
        times = sorted(_seconds(lambda: matcher.match_vectors(vectors[n:n + 1], kind, texts=[text])) * 1000
                       for _ in range(args.rounds) for n, text in enumerate(TEXTS))
        print(f"match one text's vector and text (no encoder), {kind}: median {statistics.median(times):.1f} ms, "
              f"p95 {times[int(0.95 * (len(times) - 1))]:.1f} ms")
    for kind in ("occupation", "skill"):
        matcher.match(TEXTS[:1], kind, embedder=embedder)
        times = sorted(_seconds(lambda: matcher.match([text], kind, embedder=embedder)) * 1000
                       for _ in range(args.rounds) for text in TEXTS)
        print(f"match one text, {kind}: median {statistics.median(times):.1f} ms, "
              f"p95 {times[int(0.95 * (len(times) - 1))]:.1f} ms ({len(times)} calls)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
