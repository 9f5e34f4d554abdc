"""Writers of one knowledge base meeting: who holds the write lock, and a full disk.

SQLite lets one connection write at a time (``BEGIN IMMEDIATE``). A second
writer (another ingest, an upload in the app) waits up to ``BUSY_TIMEOUT_S``
seconds ($KB_BUSY_TIMEOUT), then is refused with a message that names the
first, which notes its pid and command in ``writer.json`` while it writes.
"""
from __future__ import annotations

import errno
import json
import os
import sqlite3
import sys
from pathlib import Path

from kb.errors import KBError

WRITER_FILE = "writer.json"
BUSY_TIMEOUT_S = float(os.environ.get("KB_BUSY_TIMEOUT", "30"))


def is_locked(error: sqlite3.OperationalError) -> bool:
    """Whether SQLite refused because another connection holds the write lock."""
    return "locked" in str(error) or "busy" in str(error)


def is_disk_full(error: BaseException) -> bool:
    """Whether an error says the disk (or the database's size limit) is full."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(error, sqlite3.OperationalError) and "full" in str(error)


def disk_full(error: BaseException, folder: Path) -> KBError | None:
    """The message for a write that failed on a full disk (rolled back: nothing was changed), or None."""
    if not is_disk_full(error):
        return None
    message = KBError("disk full: nothing was changed", where=str(folder),
                      hint="free some space on its disk, then run this again")
    message.__cause__ = error
    return message


def note_writer(path: Path) -> None:
    """Note this process as the writer (best effort: only a waiting writer's message reads it)."""
    try:
        path.write_text(json.dumps({"pid": os.getpid(), "command": " ".join(sys.argv)[:200]}), encoding="utf-8")
    except OSError:
        pass  # a full disk or a read-only folder: the lock itself is SQLite's


def writer_name(path: Path) -> str:
    """Who holds the write lock, as its writer file tells ("another process (pid 1234: python -m ingest corpus)")."""
    try:
        writer = json.loads(path.read_text(encoding="utf-8"))
        command = f": {writer['command']}" if writer.get("command") else ""
        return f"another process (pid {int(writer['pid'])}{command})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (an ingest or an upload)"
