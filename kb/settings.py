"""The knowledge base's configuration: one frozen object saved in its folder."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from kb.errors import KBError
from kb.files import write_text_atomically

# 2: vectors stored as float16 or int8, token states of sentences only (int8 or 4-bit; every variant is read,
# told apart by the blob: kb.storage.codec), no stored covariances or corrected index (kb.search.bias); a
# format-1 knowledge base is refused with how to rebuild it
FORMAT_VERSION = 2
SETTINGS_FILE = "settings.json"
DEFAULT_KB_DIR = "kbdata"


@dataclass(frozen=True)
class Settings:
    """Everything that must stay the same for a knowledge base to be readable."""

    embedder: str = "e5"
    dim: int = 384
    format_version: int = FORMAT_VERSION
    vectors: str = ""  # the vector engine's URI (kb.storage.vectors): "" is FAISS files in the folder

    def save(self, folder: Path) -> None:
        """Write the settings to ``folder/settings.json`` atomically."""
        write_text_atomically(folder / SETTINGS_FILE, json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> "Settings | None":
        """Read the settings of a knowledge base, or None if the folder has none."""
        path = folder / SETTINGS_FILE
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise KBError(f"unreadable settings ({error})", where=str(path),
                          hint="rebuild the knowledge base with python -m ingest") from error
        known = {field.name for field in fields(cls)}
        data.setdefault("format_version", 1)  # the first versions wrote none
        return cls(**{key: value for key, value in data.items() if key in known})

    def with_embedder(self, name: str, dim: int) -> "Settings":
        """A copy that records another embedder."""
        return replace(self, embedder=name, dim=dim)

    def with_vectors(self, uri: str) -> "Settings":
        """A copy that records another vector engine."""
        return replace(self, vectors=uri)

    def check_compatible(self, folder: Path, embedder: str | None, vectors: str | None = None) -> None:
        """Refuse a knowledge base of another format or, if given, another embedder or vector engine."""
        if self.format_version != FORMAT_VERSION:
            age = "an older" if self.format_version < FORMAT_VERSION else "a newer"
            raise KBError(f"knowledge base format {self.format_version} was written by {age} version of this "
                          f"program (this one reads format {FORMAT_VERSION}) and is not read, so as not to misread it",
                          where=str(folder), hint=rebuild_hint(folder, self.embedder))
        if embedder is not None and embedder != self.embedder:
            raise KBError(f"knowledge base was built with embedder {self.embedder!r}, not {embedder!r}",
                          where=str(folder), hint=rebuild_hint(folder, embedder))
        if vectors is not None and vectors != self.vectors:
            raise KBError(f"knowledge base keeps its vectors in {self.vectors or 'faiss'!r}, not {vectors or 'faiss'!r}",
                          where=str(folder), hint="leave --vectors out to use its own, or give a new folder with --kb DIR")


def rebuild_hint(folder: Path, embedder: str) -> str:
    """The sentence that tells a user how to rebuild a knowledge base."""
    return (f"rebuild it with 'python -m ingest corpus/ --kb NEW_DIR --embedder {embedder}' "
            f"or delete {folder} first")


def resolve_kb_dir(value: str | os.PathLike | None) -> Path:
    """The knowledge-base folder: the argument, else $KB_DIR, else ./kbdata."""
    return Path(value or os.environ.get("KB_DIR") or DEFAULT_KB_DIR)
