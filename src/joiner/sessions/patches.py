"""Applying a recorded unified diff to a file's text, strictly (context must match)."""

from __future__ import annotations

import re

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchMismatch(ValueError):
    """The diff does not fit the text it is applied to."""


def diff_target(diff: str) -> tuple[bool, bool]:
    """(creates the file, deletes the file) for a one-file unified diff."""
    old = next((line for line in diff.splitlines() if line.startswith("--- ")), "")
    new = next((line for line in diff.splitlines() if line.startswith("+++ ")), "")
    return old.strip().endswith("/dev/null"), new.strip().endswith("/dev/null")


def apply_diff(text: str | None, diff: str) -> str | None:
    """``text`` changed by ``diff``; None when the diff deletes the file.

    ``text`` None means the file does not exist (the diff must create it).
    Raises ``PatchMismatch`` if a context or removed line differs.
    """
    creates, deletes = diff_target(diff)
    if deletes:
        return None
    if text is None and not creates:
        raise PatchMismatch("the diff changes a file whose content is unknown")
    old = (text or "").splitlines(keepends=True)
    out: list[str] = []
    pos = 0  # index in ``old`` of the next line not yet copied
    lines = diff.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        match = _HUNK.match(lines[i])
        i += 1
        if not match:
            continue
        start = int(match.group(1)) - (0 if match.group(2) == "0" else 1)
        if start < pos or start > len(old):
            raise PatchMismatch("a hunk starts outside the text")
        out.extend(old[pos:start])
        pos = start
        while i < len(lines) and not lines[i].startswith("@@"):
            line = lines[i]
            i += 1
            if line.startswith("\\"):  # "\ No newline at end of file": strip the last newline
                if out and out[-1].endswith("\n") and lines[i - 2][:1] in "+ ":
                    out[-1] = out[-1][:-1]
                continue
            kind, body = line[:1], line[1:]
            if kind in (" ", "-"):
                if pos >= len(old) or old[pos].rstrip("\n") != body.rstrip("\n"):
                    raise PatchMismatch(f"line {pos + 1} differs from the diff's context")
                if kind == " ":
                    out.append(old[pos])
                pos += 1
            elif kind == "+":
                out.append(body if body.endswith("\n") else body + "\n")
            elif line.startswith(("---", "+++")):
                break
    out.extend(old[pos:])
    return "".join(out)
