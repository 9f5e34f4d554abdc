"""``python -m kb esco match|import|info``: ESCO matching and reference data from the command line."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXAMPLES = {
    "match": 'python -m kb esco match --type occupation "truckförare" "operator wózka widłowego"',
    "import": "python -m kb esco import ~/Downloads/ESCO_dataset_v1.2.1_sv --kb kbdata",
    "info": "python -m kb esco info --json",
}


def _folder(args: argparse.Namespace) -> Path | None:
    """The ESCO tables to use: those imported into the knowledge base, else the shipped ones."""
    from kb.esco.importer import tables_dir
    from kb.settings import resolve_kb_dir

    return tables_dir(resolve_kb_dir(args.kb))


def _texts(args: argparse.Namespace) -> list[str]:
    from kb.errors import KBError

    if args.jsonl:
        if args.texts:
            raise KBError("give texts either as arguments or on stdin with --jsonl, not both",
                          hint="drop the arguments or --jsonl")
        return [line.rstrip("\r\n") for line in sys.stdin]
    if not args.texts:
        raise KBError("no text to match", hint='give one or more texts, or --jsonl with one text per line on stdin')
    return list(args.texts)


def cmd_match(args: argparse.Namespace) -> None:
    """Match texts to ESCO occupations or skills."""
    from kb.esco.match import open_matcher

    texts = _texts(args)
    matcher = open_matcher(_folder(args))
    results = []
    for begin in range(0, len(texts), 256):  # bounded memory for a long stdin
        chunk = texts[begin:begin + 256]
        results += matcher.match(chunk, args.type, args.top, args.skill_type, args.label_lang)
    records = [{"text": text, "matches": [m.to_dict() for m in matches]} for text, matches in zip(texts, results)]
    if args.jsonl:
        for record in records:
            print(json.dumps(record, ensure_ascii=False))
    elif args.json:
        print(json.dumps(records, ensure_ascii=False, indent=2))
    else:
        for record in records:
            print(record["text"])
            if not record["matches"]:
                print("   no link (no ESCO concept fits well enough)")
            for match in record["matches"]:
                print(f"   {match['score']:.2f}  {match['label']}  <{match['uri']}>")


def cmd_import(args: argparse.Namespace) -> None:
    """Import an official ESCO CSV download into the knowledge base folder."""
    from kb.esco.data import load
    from kb.esco.importer import esco_dir, import_official
    from kb.settings import resolve_kb_dir

    target = import_official(Path(args.dir), esco_dir(resolve_kb_dir(args.kb)))
    info = load(target).info()
    if args.json:
        print(json.dumps(info.to_dict(), ensure_ascii=False, indent=2))
        return
    print(f"imported ESCO {_versions(info.versions)} ({', '.join(info.languages)}): {info.occupations} occupations, "
          f"{info.skills} skills into {target}")


def cmd_info(args: argparse.Namespace) -> None:
    """Show the ESCO version, languages and counts in use."""
    from kb.esco.data import load

    info = load(_folder(args)).info()
    if args.json:
        print(json.dumps(info.to_dict(), ensure_ascii=False, indent=2))
        return
    print(f"ESCO {_versions(info.versions)} from {info.folder}")
    print(f"languages: {', '.join(info.languages)}")
    print(f"{info.occupations} occupations, {info.skills} skills, {info.isco_groups} ISCO groups, "
          f"{info.relations} occupation-skill relations")
    print("labels: " + ", ".join(f"{lang} {count}" for lang, count in info.labels.items()))


def _versions(versions: dict[str, str]) -> str:
    unique = sorted(set(versions.values()))
    return "v" + "/".join(unique) if unique else "(version unknown)"


def add_parser(subparsers) -> None:
    """Add ``esco`` with its sub-commands to the ``python -m kb`` parser."""
    from kb.esco.data import SKILL_TYPES, TYPES

    esco = subparsers.add_parser("esco", help="match texts to ESCO occupations and skills; import or show ESCO",
                                 description="ESCO reference data and the text -> ESCO matcher.")
    commands = esco.add_subparsers(dest="esco_command", required=True, metavar="COMMAND")
    helps = {"match": (cmd_match, "match texts to ESCO occupations or skills, with calibrated scores"),
             "import": (cmd_import, "import an official ESCO CSV download (any languages) into the knowledge base"),
             "info": (cmd_info, "show the ESCO version, languages and counts in use")}
    for name, (function, help_text) in helps.items():
        sub = commands.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
                                  epilog=f"example: {EXAMPLES[name]}",
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.set_defaults(function=function)
        sub.add_argument("--kb", metavar="DIR", help="knowledge-base folder whose imported ESCO tables to use "
                                                     "(default: $KB_DIR or ./kbdata if it has some, else the shipped ones)")
        sub.add_argument("--json", action="store_true", help="print machine-readable JSON")
    match = commands.choices["match"]
    match.add_argument("texts", nargs="*", metavar="TEXT", help="role titles, descriptions, skills or duties")
    match.add_argument("--type", choices=TYPES, required=True, help="what to link to")
    match.add_argument("--top", type=int, default=5, metavar="K", help="matches per text (default 5)")
    match.add_argument("--skill-type", choices=SKILL_TYPES, help="only this kind of skill (with --type skill)")
    match.add_argument("--label-lang", default="en", metavar="LL", help="language of the labels shown (default en)")
    match.add_argument("--jsonl", action="store_true",
                       help="read one text per line from stdin; write one JSON object per line, in input order")
    commands.choices["import"].add_argument("dir", metavar="DIR", help="folder of the official ESCO CSV files")
