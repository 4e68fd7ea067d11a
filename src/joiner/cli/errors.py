"""One clear line and an exit code for every user-facing failure."""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """A failure the user can fix; printed as one line. ``code`` is the exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int) -> None:
    print(f"joiner: {message}", file=sys.stderr)
    raise SystemExit(code)
