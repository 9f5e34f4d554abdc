"""Import of a user's official ESCO CSV download: validated, embedded, then swapped in whole."""
from __future__ import annotations

from pathlib import Path

from kb.errors import KBError

ESCO_FOLDER = "esco"


def esco_dir(kb_dir: Path) -> Path:
    """Where a knowledge base keeps its imported ESCO tables."""
    return Path(kb_dir) / ESCO_FOLDER


def tables_dir(kb_dir: Path | None) -> Path | None:
    """The imported tables of a knowledge base, or None (use the shipped ones) when it has none."""
    if kb_dir is None:
        return None
    from kb.esco.data import TABLES_FILE

    folder = esco_dir(kb_dir)
    return folder if (folder / TABLES_FILE).exists() else None


def matcher_for(embedder_name: str, kb_dir: Path | None):
    """The ESCO matcher of a knowledge base (its imported tables, else the shipped ones), or None when its
    embedder is not the e5 model the ESCO label vectors were made with."""
    if embedder_name != "e5":
        return None
    from kb.esco.match import open_matcher

    return open_matcher(tables_dir(kb_dir))


def import_official(source_dir: Path, target_dir: Path, cache_dir: Path | None = None) -> Path:
    """Read an official download (any ESCO languages), embed its labels and replace ``target_dir`` with it.

    Every file is checked first; a missing column raises KBError naming the file and the column, and
    ``target_dir`` is left as it was (the new tables are written to a temporary folder, then renamed).
    Embedding the labels takes minutes for a full download; progress goes to stderr.
    """
    from kb.esco.build import build
    from kb.esco.match import forget

    source_dir, target_dir = Path(source_dir), Path(target_dir)
    if source_dir.resolve() == target_dir.resolve():
        raise KBError("the download and the target are the same folder", where=str(source_dir),
                      hint="give the folder of the CSV files and another folder to import into")
    result = build(source_dir, target_dir, with_vectors=True, cache_dir=cache_dir)
    forget(target_dir)
    return result
