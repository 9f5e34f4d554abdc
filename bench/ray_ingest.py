"""``python -m bench.ray_ingest``: ingest by the local engine beside the ray engine with 1 and 2 workers, each on
as many cores.

Each run is a fresh process (``python -m bench.run --child ingest ...``) writing a fresh knowledge base, on the
same input: the corpus and ``--esco N`` ESCO occupation descriptions as article files (skipped with a message
when ``../shared`` is absent). Seconds are the whole ``ingest()`` call: for Ray they include starting Ray here
and loading the model in every actor. texts/s counts the sentences (as ``make bench`` does); x local is the
run's speed over the local engine's on the same set (above 1 is faster). Nothing here is a test: figures depend
on the machine and its load, which the first line names.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from bench import datasets
from bench.run import machine, path_list, spawn

# (engine, workers, cores the run is pinned to; None: every core). On a 2-core machine, scaling with the cores given
# shows as the 2-worker run on 2 cores against the 1-worker run on 1 core; local on 1 core is Ray's overhead at
# the same cores.
RUNS = (("local", None, None), ("local", None, 1), ("ray", 1, 1), ("ray", 2, 2))
HEADER = "| set | engine | files | texts | seconds | texts/s | x local |\n|---|---|---|---|---|---|---|"


def measure(name: str, paths: list[str], workdir: Path) -> list[dict]:
    """One row per engine run over ``paths``, each into its own new knowledge base."""
    rows = []
    every = os.sched_getaffinity(0)
    for engine, workers, cores in RUNS:
        label = engine if workers is None else f"{engine}, {workers} worker{'s' * (workers > 1)}"
        label += f" on {cores} core{'s' * (cores > 1)}" if cores else " on every core"
        folder = workdir / f"{name.split()[0]}-{engine}-{workers or 0}-{cores or 0}"
        os.sched_setaffinity(0, sorted(every)[:cores] if cores else every)  # the child and Ray inherit it
        try:
            result = spawn("ingest", path_list(paths, workdir, name), str(folder), engine,
                           *([str(workers)] if workers else []))
        finally:
            os.sched_setaffinity(0, every)
        if not result["ok"]:
            raise SystemExit(f"bench: {label} on {name} did not ingest every file")
        row = {"set": name, "engine": label, **result}
        row["speed"] = rows[0]["seconds"] / row["seconds"] if rows else 1.0
        rows.append(row)
        print(f"| {name} | {label} | {row['files']} | {row['texts']} | {row['seconds']:.1f} | "
              f"{row['texts'] / row['seconds']:.1f} | {row['speed']:.2f} |", flush=True)
    print(f"| {name} | ray: 2 workers on 2 cores over 1 worker on 1 core | | | | | "
          f"{rows[2]['seconds'] / rows[3]['seconds']:.2f} |", flush=True)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.ray_ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--esco", type=int, default=100, metavar="N", help="ESCO description files (default 100)")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="kb-bench-ray-"))
    try:
        print(HEADER, flush=True)
        measure("corpus", [str(path) for path in sorted((datasets.ROOT / "corpus").glob("*.txt"))], workdir)
        esco = datasets.esco_files(workdir / "esco-files", args.esco) if args.esco else None
        if esco is None:
            print(f"(ESCO set skipped: {datasets.ESCO_FILE} is absent or --esco 0)", flush=True)
        else:
            measure(f"ESCO pl x{len(esco)}", [str(path) for path in esco], workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"load average at the end: {' '.join(f'{value:.1f}' for value in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
