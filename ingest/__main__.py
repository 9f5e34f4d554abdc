"""python -m ingest PATH... : (re)build the knowledge base from role articles."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Sequence

from kb.cli import run_cli


def build_parser() -> argparse.ArgumentParser:
    """The ingest argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m ingest", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read role articles (.txt, .md, .html files or folders), detect their language, split "
                    "sentences, extract duties and skills, embed them and store them in the knowledge base. "
                    "Unchanged files are skipped; changed files replace their old rows.",
        epilog="example: python -m ingest corpus/ --kb kbdata\n"
               "on Ray:  python -m ingest corpus/ --kb kbdata --engine ray --workers 2\n"
               "The knowledge base is --kb DIR, else $KB_DIR, else ./kbdata.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to ingest")
    parser.add_argument("--kb", metavar="DIR", help="knowledge-base folder")
    parser.add_argument("--embedder", metavar="NAME",
                        help="e5 (default, bundled multilingual-e5-small) or st:NAME_OR_PATH (sentence-transformers)")
    parser.add_argument("--extractor", choices=("tagger", "rules", "learned"),
                        help="how duties and skills are found: the span tagger on e5's token states (default), the cue-word "
                             "rules with the prototype classifier, or the unit classifier (the models need the e5 "
                             "embedder; see docs/extraction_model.md)")
    parser.add_argument("--vectors", metavar="URI",
                        help="vector store of a new knowledge base: faiss (default, files in the folder), "
                             "milvus-lite://FILE.db (in-process Milvus) or milvus://HOST:PORT/COLLECTION "
                             "(a Milvus server; see README, Scaling out); kept in its settings")
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="where the files are processed: in this process one after another (local, default) "
                             "or as a Ray Data pipeline (ray: needs requirements-scale.txt; this process still "
                             "reads the files and writes the knowledge base; see docs/scaling.md)")
    parser.add_argument("--address", metavar="ADDRESS",
                        help="with --engine ray: the Ray cluster to use (auto: the one 'ray start' runs here, or "
                             "HOST:PORT, or ray://HOST:10001); without it Ray is started on this machine for the run")
    parser.add_argument("--workers", metavar="N", type=positive,
                        help="with --engine ray: how many workers, each one CPU that runs one actor of each model "
                             "stage (default: the CPUs of this machine, or of the cluster); without --address, "
                             "the CPUs Ray is started with here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--prune", action="store_true",
                        help="also remove the documents whose files under these folders no longer exist")
    return parser


def positive(value: str) -> int:
    """An argument that must be a whole number of at least 1."""
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return int(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m ingest``."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")

    def body() -> int:
        from ingest.pipeline import ingest

        if args.extractor:
            os.environ["KB_EXTRACTOR"] = args.extractor
        report = ingest(args.paths, kb_dir=args.kb, embedder_name=args.embedder, progress=not args.quiet,
                        prune=args.prune, vectors=args.vectors, engine=args.engine, address=args.address,
                        workers=args.workers)
        print(report.summary())
        return 0 if report.ok else 1

    return run_cli(body)


if __name__ == "__main__":
    sys.exit(main())
