"""``python -m kb``: thin command-line wrappers over ``KnowledgeBase``."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Callable, Sequence

from kb.errors import KBError, run_cli
from kb.records import KINDS

EPILOG = "The knowledge base is --kb DIR, else $KB_DIR, else ./kbdata."


def _open(args: argparse.Namespace):
    from kb.knowledge import KnowledgeBase

    return KnowledgeBase.open(args.kb)


def print_json(value: object) -> None:
    """Print a value as indented UTF-8 JSON."""
    print(json.dumps(value, ensure_ascii=False, indent=2))


def cmd_search(args: argparse.Namespace) -> None:
    """Search duties, skills and sentences in any language."""
    with _open(args) as kb:
        hits = kb.search(args.query, k=args.k, lang=args.lang, kind=args.kind, doc=args.doc)
    if args.json:
        print_json([hit.to_dict() for hit in hits])
        return
    if not hits:
        print("no good match; try other words, fewer filters or --kind all")
    for hit in hits:
        print(f"{hit.rank:>2}. {hit.score:.3f} [{hit.lang} {hit.kind}] {hit.doc_id}: {shown_text(hit)}")


def shown_text(hit) -> str:
    """What a result line shows: the matched duty or skill, or the whole sentence of a sentence hit with the
    part that matched (a part of a long sentence, ingest.parts) in brackets, so no fragment passes for it."""
    if hit.kind != "sentence" or (hit.start, hit.end) == (hit.sentence_start, hit.sentence_end):
        return hit.text
    start, end = hit.start - hit.sentence_start, hit.end - hit.sentence_start
    return f"{hit.sentence[:start]}[{hit.sentence[start:end]}]{hit.sentence[end:]}"


def cmd_docs(args: argparse.Namespace) -> None:
    """List the articles."""
    with _open(args) as kb:
        docs = kb.docs(label_lang=args.label_lang)
    if args.json:
        print_json(docs)
        return
    for doc in docs:
        occupation = f"\tESCO: {doc['esco_label']}" if doc.get("esco_label") else ""
        print(f"{doc['doc_id']}\t{doc['lang']}\t{doc['sentences']} sentences, {doc['duties']} duties, "
              f"{doc['skills']} skills\t{doc['title']}{occupation}")


def cmd_items(args: argparse.Namespace) -> None:
    """List extracted duties and skills."""
    with _open(args) as kb:
        items = kb.items(doc=args.doc, kind=args.kind, lang=args.lang, label_lang=args.label_lang,
                         min_confidence=args.min_confidence, min_esco_score=args.min_esco_score)
    if args.json:
        print_json([{key: value for key, value in item.items() if key not in ("id", "source", "title")}
                    for item in items])
        return
    if not items:
        print("no duties or skills match these filters" + (f" in {args.doc}" if args.doc else ""), file=sys.stderr)
    for item in items:
        label = item["kind"] + (f"/{item['subtype']}" if item["subtype"] else "")
        esco = f"\t-> {item['esco_label']}" if item["esco_label"] else ""
        print(f"{item['doc_id']}\t{item['lang']}\t{label}\t{item['confidence']:.2f}\t{item['text']}{esco}")


def cmd_skills(args: argparse.Namespace) -> None:
    """List skill groups across roles and languages."""
    from kb.analysis.skills import format_skill

    with _open(args) as kb:
        if args.by == "esco":  # ESCO concepts the items are linked to, counted across roles and languages
            rows = kb.esco_skills(lang=args.lang, label_lang=args.label_lang,
                                  min_esco_score=args.min_esco_score)[:args.top]
            empty, line = "no item is linked to ESCO; ingest with the default e5 embedder", _esco_line
        else:
            if args.min_esco_score:
                raise KBError("--min-esco-score counts ESCO links, which skill groups do not have",
                              hint="add --by esco, or leave --min-esco-score out")
            rows = kb.skills(lang=args.lang, subtype=args.subtype, top=args.top)
            empty, line = "no skills; try without --lang or --subtype", format_skill
    if args.json:
        print_json(rows)
        return
    if not rows:
        print(empty)
    for number, row in enumerate(rows, start=1):
        print(f"{number:>3}. {line(row)}")


def _esco_line(row: dict) -> str:
    return f"{row['esco_label']} ({row['type']}): {row['roles']} roles, {row['items']} items, {', '.join(row['languages'])}"


def cmd_role(args: argparse.Namespace) -> None:
    """One role against its ESCO occupation: essential skills covered, with the item, and the gaps."""
    from kb.analysis.gaps import format_profile

    with _open(args) as kb:
        profile = kb.role(args.doc, label_lang=args.label_lang)
    if args.json:
        print_json(profile)
        return
    print(format_profile(profile))


def cmd_export(args: argparse.Namespace) -> None:
    """Export duties and skills to a file."""
    from pathlib import Path

    with _open(args) as kb:
        path = kb.export(Path(args.out), format=args.format, kind=args.kind, lang=args.lang, doc=args.doc,
                         label_lang=args.label_lang, min_confidence=args.min_confidence,
                         min_esco_score=args.min_esco_score)
    if args.json:
        print_json({"path": str(path), "format": args.format or path.suffix.lstrip(".")})
        return
    print(f"wrote {path}")


def cmd_remove(args: argparse.Namespace) -> None:
    """Remove articles (and their duties, skills and vectors) by id."""
    with _open(args) as kb:
        with kb.batch():  # all of them or none
            for doc_id in args.docs:
                kb.remove(doc_id)
    if args.json:
        print_json({"removed": args.docs})
        return
    print(f"removed {', '.join(args.docs)}")


def cmd_compare(args: argparse.Namespace) -> None:
    """Compare roles: similarity, shared duties and unique duties."""
    from kb.analysis.compare import format_comparison

    with _open(args) as kb:
        result = kb.compare(*args.docs, label_lang=args.label_lang)
    if args.json:
        print_json({key: result[key] for key in ("docs", "similarity", "pairs")})
        return
    print(format_comparison(result))


COMMANDS: dict[str, tuple[Callable, str, str]] = {
    "search": (cmd_search, "search duties, skills and sentences in any language",
               'python -m kb search "organise the director\'s diary" --lang sv -k 5'),
    "docs": (cmd_docs, "list the articles with their language and counts", "python -m kb docs --json"),
    "items": (cmd_items, "list extracted duties and skills", "python -m kb items --kind duty --lang pl --json"),
    "skills": (cmd_skills, "list skill groups across roles and languages, most mentioned first",
               "python -m kb skills --lang sv --subtype skill --top 20"),
    "export": (cmd_export, "export duties and skills to CSV, JSON, JSONL, Excel or Parquet",
               "python -m kb export --format xlsx --out items.xlsx --kind skill"),
    "compare": (cmd_compare, "compare roles: similarity, aligned shared duties, what is unique to each and "
                             "the ESCO concepts both are linked to",
                "python -m kb compare 000 004 --json"),
    "role": (cmd_role, "one role against its ESCO occupation: essential skills covered and the gaps",
             "python -m kb role 003 --label-lang sv"),
    "remove": (cmd_remove, "remove articles by id (a file deleted from the corpus; or 'python -m ingest DIR --prune')",
               "python -m kb remove upload/office_coordinator"),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per entry of COMMANDS."""
    parser = argparse.ArgumentParser(prog="python -m kb", description="Query the job-description knowledge base.",
                                     epilog=EPILOG)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (function, help_text, example) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
                                  epilog=f"example: {example}\n{EPILOG}",
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.set_defaults(function=function)
        sub.add_argument("--kb", metavar="DIR", help="knowledge-base folder")
        sub.add_argument("--json", action="store_true", help="print machine-readable JSON")
        ARGUMENTS.get(name, lambda _: None)(sub)
    from kb.esco.cli import add_parser as add_esco_parser

    add_esco_parser(commands)
    return parser


def _search_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("query", help="what to look for, in any language")
    sub.add_argument("-k", "--top", dest="k", type=int, default=10, help="number of hits (default 10)")
    sub.add_argument("--lang", metavar="CODE", help="only units in this language (sv, pl, vi, en, ...)")
    sub.add_argument("--kind", choices=KINDS + ("all",), default="all", help="unit kind (default all)")
    sub.add_argument("--doc", metavar="ID", help="only this document id")


def _items_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--doc", metavar="ID", help="only this document id")
    sub.add_argument("--kind", choices=("duty", "skill"), help="only duties or only skills")
    sub.add_argument("--lang", metavar="CODE", help="only items in this language")
    _min_confidence(sub)
    _min_esco_score(sub)
    _label_lang(sub)


def _probability(text: str) -> float:
    """A number from 0 to 1, or argparse's error."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a probability; give a number from 0 to 1, e.g. 0.7")
    return value


def _min_confidence(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--min-confidence", type=_probability, default=0.0, metavar="P",
                     help="only items the extractor is at least this sure of (0-1, a calibrated probability)")


def _min_esco_score(sub: argparse.ArgumentParser, effect: str = "an item under it is kept without a concept") -> None:
    sub.add_argument("--min-esco-score", type=_probability, default=0.0, metavar="P",
                     help=f"only ESCO links the matcher is at least this sure of (0-1, a calibrated probability); "
                          f"{effect}")


def _label_lang(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--label-lang", default="en", metavar="CODE",
                     help="language of ESCO labels (en, sv, pl, ...; falls back to en)")


def _role_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("doc", metavar="DOC", help="a document id or a unique prefix of one")
    _label_lang(sub)


def _skills_arguments(sub: argparse.ArgumentParser) -> None:
    from kb.records import SKILL_SUBTYPES

    sub.add_argument("--lang", metavar="CODE", help="only groups with a member in this language")
    sub.add_argument("--subtype", choices=SKILL_SUBTYPES, help="only this kind of skill")
    sub.add_argument("--top", metavar="N", type=int, help="only the N most mentioned groups")
    sub.add_argument("--by", choices=("group", "esco"), default="group",
                     help="count skill groups (default) or linked ESCO concepts")
    _min_esco_score(sub, "with --by esco, what is counted")
    _label_lang(sub)


def _export_arguments(sub: argparse.ArgumentParser) -> None:
    from kb.export import FORMATS

    sub.add_argument("--format", choices=FORMATS, help="file format (default: from the --out suffix)")
    sub.add_argument("--out", metavar="FILE", required=True, help="file to write")
    sub.add_argument("--kind", choices=("duty", "skill"), help="only duties or only skills")
    sub.add_argument("--lang", metavar="CODE", help="only items in this language")
    sub.add_argument("--doc", metavar="ID", help="only this document id")
    _min_confidence(sub)
    _min_esco_score(sub)
    _label_lang(sub)


def _compare_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("docs", nargs="+", metavar="DOC", help="two or more document ids (see 'python -m kb docs')")
    _label_lang(sub)


def _remove_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("docs", nargs="+", metavar="ID", help="exact document ids (see 'python -m kb docs')")


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "search": _search_arguments,
    "docs": _label_lang,
    "role": _role_arguments,
    "items": _items_arguments,
    "skills": _skills_arguments,
    "export": _export_arguments,
    "compare": _compare_arguments,
    "remove": _remove_arguments,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m kb``."""
    args = build_parser().parse_args(argv)
    return run_cli(lambda: args.function(args))
