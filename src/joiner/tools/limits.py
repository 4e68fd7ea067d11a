"""Output caps of the built-in tools, so one call cannot flood the model's context.

Every cap ends in a note telling the model how to get the rest ("N more lines: read on with
offset=..."). Defaults below; override any of them with ``builtin_tools(workspace, limits)``,
e.g. from the config's ``[limits]`` table:

- ``read_max_lines`` (2000): lines ``read_file`` returns when no ``limit`` is given.
- ``read_max_bytes`` (100000): bytes of numbered text ``read_file`` returns at most.
- ``read_max_line_chars`` (2000): a longer line is cut (minified files).
- ``list_max_entries`` (1000) / ``list_max_bytes`` (40000): paths ``list_files`` returns.
- ``grep_max_matches`` (200) / ``grep_max_bytes`` (40000): matching lines ``grep`` returns.
- ``grep_max_line_chars`` (400): a longer matching line is shown as a preview.
- ``shell_max_bytes`` (30000): output of ``run_shell`` (stdout and stderr each), cut in the middle.
- ``shell_timeout`` (120): seconds a command may run when the call gives no ``timeout``.
- ``shell_max_timeout`` (600): the largest ``timeout`` a call may ask for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Limits:
    read_max_lines: int = 2000
    read_max_bytes: int = 100_000
    read_max_line_chars: int = 2000
    list_max_entries: int = 1000
    list_max_bytes: int = 40_000
    grep_max_matches: int = 200
    grep_max_bytes: int = 40_000
    grep_max_line_chars: int = 400
    shell_max_bytes: int = 30_000
    shell_timeout: float = 120.0
    shell_max_timeout: float = 600.0

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> Limits:
        """Defaults overridden by ``values``; unknown keys and non-positive numbers are refused
        with a ``ValueError`` that names the key (a typo in the config must not pass silently)."""
        if not values:
            return cls()
        known = {f.name: f for f in fields(cls)}
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if key not in known:
                raise ValueError(f"unknown tool limit {key!r} (known: {', '.join(known)})")
            kind = float if known[key].type in ("float", float) else int
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"the tool limit {key!r} must be a positive number, "
                                 f"not {value!r}")
            if kind is int and value != int(value):
                raise ValueError(f"the tool limit {key!r} must be a whole number, not {value!r}")
            changes[key] = kind(value)
        return replace(cls(), **changes)
