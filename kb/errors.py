"""The one exception type for problems a user can cause and fix."""
from __future__ import annotations

import sys
from typing import Callable


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


def run_cli(function: Callable[[], int | None]) -> int:
    """Run a CLI body: user errors become one 'error: ...' line and exit code 1."""
    try:
        return function() or 0
    except KBError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; the knowledge base is unchanged", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
