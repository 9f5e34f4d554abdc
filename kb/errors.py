"""The one exception type for problems a user can cause and fix."""
from __future__ import annotations


class KBError(Exception):
    """A user-caused problem. The message says where (file, line) and what to do.

    Only the CLI entry points and ``app.py`` catch it; bugs keep their traceback.
    """

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        self.where = where
        self.hint = hint
        text = message
        if where:
            text = f"{where}: {text}"
        if hint:
            text = f"{text}; {hint}"
        super().__init__(text)
