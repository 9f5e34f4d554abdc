"""Files a knowledge base keeps beside its database, written so that a reader never sees half of one."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write`` on a temporary sibling of ``path``, then rename it over ``path``: an interruption
    leaves the old file (or none), never a partial one. The temporary name keeps the suffix, so writers
    that add one (``numpy.savez``) write where they are told."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.stem}.tmp{path.suffix}")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text_atomically(path: Path, text: str) -> None:
    """Write UTF-8 text atomically (see ``write_atomically``)."""
    write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))
