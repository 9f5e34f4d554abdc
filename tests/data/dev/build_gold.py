"""Build gold/<doc_id>.json from annotations.txt by locating each annotated text.

Run from the repository root: ``python tests/data/dev/build_gold.py [FOLDER]``. It reads
``annotations.txt`` (where there is one) and every ``annotations_<lang>.txt`` in the folder (this
one by default; ``tests/data/prose`` for the prose set) and writes ``gold/`` there. Each item's
text is searched forward from the previous item's start, so offsets are never
counted by hand; a text that is not found stops the build with its line number.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def parse(lines: list[str], source: str = "annotations.txt") -> list[dict]:
    """Annotation blocks as dicts with doc_id, lang, path and (line, kind, subtype, text) items."""
    docs: list[dict] = []
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if line.startswith("# doc:"):
            doc_id, *fields = line[len("# doc:"):].split()
            meta = dict(field.split("=", 1) for field in fields)
            docs.append({"doc_id": doc_id, "lang": meta["lang"], "path": meta["path"], "items": [],
                         "source": source})
        elif line.strip() and not line.startswith("#"):
            label, text = (part.strip() for part in line.split("|", 1))
            kind, _, subtype = label.partition("/")
            docs[-1]["items"].append((number, kind, subtype, text))
    return docs


def locate(doc: dict) -> dict:
    """The gold record for one block, with offsets into the decoded article text."""
    text = (ROOT / doc["path"]).read_text(encoding="utf-8-sig")
    items, cursor = [], 0
    for number, kind, subtype, item_text in doc["items"]:
        start = text.find(item_text, cursor)
        if start < 0:
            sys.exit(f"{doc['source']}:{number}: {item_text!r} not found in {doc['path']} after offset {cursor}")
        items.append({"kind": kind, "subtype": subtype, "text": item_text,
                      "start": start, "end": start + len(item_text)})
        cursor = start
    return {"doc_id": doc["doc_id"], "lang": doc["lang"], "path": doc["path"], "items": items}


def main(folder: Path = HERE) -> None:
    """Write one gold file per annotated article."""
    (folder / "gold").mkdir(exist_ok=True)
    sources = [path for path in [folder / "annotations.txt"] if path.exists()] + sorted(folder.glob("annotations_*.txt"))
    docs = [doc for path in sources for doc in parse(path.read_text(encoding="utf-8").splitlines(), path.name)]
    for doc in docs:
        record = locate(doc)
        out = folder / "gold" / f"{doc['doc_id']}.json"
        out.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{out.relative_to(ROOT)}: {len(record['items'])} items")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else HERE)
