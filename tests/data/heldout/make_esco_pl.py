"""Write the held-out ESCO Polish occupation descriptions (articles and uris.txt).

Run from the repository root: ``python tests/data/heldout/make_esco_pl.py [ESCO_DIR]``
(default ``/work/shared/data/esco``). Occupations are sorted by sha1(conceptUri) and the first
N whose Polish description has at least MIN_CHARS characters are kept; each becomes
``esco_pl/articles/hpl_<NN>_<uuid8>.txt`` (first line preferredLabel, then the description with
its whitespace collapsed to single spaces) and its conceptUri goes to ``esco_pl/uris.txt`` so
training can exclude it.
Source: ESCO v1.2.1, European Commission, reuse under Commission Decision 2011/833/EU.
"""
from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
N = 64
MIN_CHARS = 150


def chosen(esco_dir: Path) -> list[dict]:
    """The first N occupations by sha1(conceptUri) with a long enough Polish description."""
    with open(esco_dir / "v1.2.1_occupations_pl.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    rows.sort(key=lambda row: hashlib.sha1(row["conceptUri"].encode("utf-8")).hexdigest())
    return [row for row in rows if len(row["description"].strip()) >= MIN_CHARS][:N]


def main(esco_dir: Path) -> None:
    out = HERE / "esco_pl" / "articles"
    out.mkdir(parents=True, exist_ok=True)
    uris = []
    for number, row in enumerate(chosen(esco_dir)):
        uuid8 = row["conceptUri"].rsplit("/", 1)[-1][:8]
        body = " ".join(row["description"].split())
        (out / f"hpl_{number:02d}_{uuid8}.txt").write_text(
            row["preferredLabel"].strip() + "\n" + body + "\n", encoding="utf-8")
        uris.append(row["conceptUri"])
    (HERE / "esco_pl" / "uris.txt").write_text("\n".join(uris) + "\n", encoding="utf-8")
    print(f"{len(uris)} articles in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data/esco"))
