"""Unified diffs of file changes, for approval, the ``tool_result`` event and undo.

``make_diff(rel_path, before, after)`` compares whole texts: the common head and tail are skipped
in linear time and only the changed middle goes to ``difflib`` (which is quadratic at worst); a
middle too large for it is first split at the lines that occur once on each side (patience diff,
O(n log n)), and a part still too large with no such line is shown as one replacement.
``diff_changes`` builds a diff from changes already known (what ``edit_file`` does), without
comparing the whole files at all, nor splitting them (``TextLines`` finds the context lines).

The output is a standard unified diff with ``a/`` and ``b/`` paths (``/dev/null`` for a created or
deleted file), ``\\ No newline at end of file`` markers and 3 lines of context; ``git apply`` and
``patch -p1`` accept it.
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Sequence
from dataclasses import dataclass

CONTEXT = 3
# Above this many line pairs (len(a) * len(b)) the changed middle is not given to difflib.
DIFFLIB_MAX_WORK = 4_000_000
NO_NEWLINE = "\\ No newline at end of file\n"


@dataclass(slots=True)
class Change:
    """Lines ``old[i1:i2]`` become ``new_lines`` (``i1 == i2``: an insertion before ``i1``)."""

    i1: int
    i2: int
    new_lines: list[str]


def split_lines(text: str) -> list[str]:
    """Lines with their ``\\n`` kept; only ``\\n`` ends a line (not ``\\r`` or form feeds)."""
    if not text:
        return []
    lines = text.splitlines(keepends=True)  # fast, but also splits at \r, \f, \x1c, ...
    if len(lines) == text.count("\n") + (not text.endswith("\n")):
        return lines  # so only \n (or \r\n) ended lines: the same as the split below
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


class TextLines:
    """The lines of a text (as ``split_lines`` cuts them) by index, found on demand.

    A diff of a few known changes needs only a few lines around each; splitting a
    200,000-line file for them would cost more than the edit itself. The lines are found by
    walking from the nearest known line start (``starts``: line index -> offset; line 0 at
    offset 0 is always known), so each slice costs the distance to the change it is near.
    Only slicing is offered (no ``len``): a slice past the end is just shorter.
    """

    def __init__(self, text: str, starts: dict[int, int] | None = None) -> None:
        self.text = text
        self.starts = {0: 0, **(starts or {})}
        self._known = sorted(self.starts)

    def _start(self, line: int) -> int:
        """The offset where ``line`` starts (``len(text)`` or more: past the end)."""
        text = self.text
        at = bisect.bisect_right(self._known, line) - 1
        index, offset = self._known[at], self.starts[self._known[at]]
        if at + 1 < len(self._known) and self._known[at + 1] - line < line - index:
            index, offset = self._known[at + 1], self.starts[self._known[at + 1]]
            while index > line:  # walk back: line index-1 ends at offset-1
                offset = text.rfind("\n", 0, offset - 1) + 1
                index -= 1
            return offset
        while index < line:
            end = text.find("\n", offset)
            if end == -1:
                return len(text) + 1
            offset, index = end + 1, index + 1
        return offset

    def __getitem__(self, span: slice) -> list[str]:
        start, stop = span.start or 0, span.stop
        assert span.step is None and stop is not None and start >= 0
        text, lines = self.text, []
        offset = self._start(start)
        for _ in range(start, stop):
            if offset >= len(text):
                break
            end = text.find("\n", offset)
            end = len(text) if end == -1 else end + 1
            lines.append(text[offset:end])
            offset = end
        return lines


def make_diff(rel_path: str, before: str | None, after: str | None) -> str:
    """The unified diff turning ``before`` into ``after`` (None: the file does not exist)."""
    old = split_lines(before or "")
    new = split_lines(after or "")
    head = 0
    limit = min(len(old), len(new))
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    changes = middle_changes(old[head:len(old) - tail], new[head:len(new) - tail], head)
    return diff_changes(rel_path, old, changes, before is None, after is None)


def middle_changes(old: Sequence[str], new: Sequence[str], offset: int) -> list[Change]:
    """Fine-grained changes between two (small) line lists, at line ``offset`` of the file."""
    if not old and not new:
        return []
    if not old or not new:
        return [Change(offset, offset + len(old), list(new))]
    if len(old) * len(new) > DIFFLIB_MAX_WORK:
        return _anchored_changes(old, new, offset)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=True)
    return [Change(offset + i1, offset + i2, list(new[j1:j2]))
            for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _anchored_changes(old: Sequence[str], new: Sequence[str], offset: int) -> list[Change]:
    """Changes between two large line lists in O(n log n): the lines found exactly once in
    each, kept in the longest run of the same order (patience diff), split the lists into
    gaps, each diffed on its own (difflib when small); with no such line, one replacement."""
    seen_old: dict[str, int] = {}
    for line in old:
        seen_old[line] = seen_old.get(line, 0) + 1
    at_new: dict[str, int] = {}
    for j, line in enumerate(new):
        at_new[line] = -1 if line in at_new else j
    pairs = [(i, at_new[line]) for i, line in enumerate(old)
             if seen_old[line] == 1 and at_new.get(line, -1) >= 0]
    anchors = _longest_increasing(pairs)
    if not anchors:
        return [Change(offset, offset + len(old), list(new))]
    changes: list[Change] = []
    i0 = j0 = 0
    for i, j in [*anchors, (len(old), len(new))]:
        changes += middle_changes(old[i0:i], new[j0:j], offset + i0)
        i0, j0 = i + 1, j + 1
    return changes


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of ``pairs`` (sorted by first item) increasing in the second."""
    tails: list[int] = []  # tails[k]: index in pairs of the end of the best run of length k+1
    before: list[int] = [-1] * len(pairs)
    for index, (_i, j) in enumerate(pairs):
        k = _bisect_tails(pairs, tails, j)
        if k > 0:
            before[index] = tails[k - 1]
        if k == len(tails):
            tails.append(index)
        else:
            tails[k] = index
    run: list[tuple[int, int]] = []
    index = tails[-1] if tails else -1
    while index >= 0:
        run.append(pairs[index])
        index = before[index]
    return run[::-1]


def _bisect_tails(pairs: list[tuple[int, int]], tails: list[int], j: int) -> int:
    lo, hi = 0, len(tails)
    while lo < hi:
        mid = (lo + hi) // 2
        if pairs[tails[mid]][1] < j:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _range(start: int, length: int) -> str:
    """A hunk range as unified diffs write it (1-based; an empty range names the line before)."""
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def _emit(out: list[str], prefix: str, line: str) -> None:
    out.append(prefix + line)
    if not line.endswith("\n"):
        out.append("\n" + NO_NEWLINE)


def diff_changes(rel_path: str, old: Sequence[str] | TextLines, changes: Sequence[Change],
                 created: bool = False, deleted: bool = False) -> str:
    """A unified diff of ``old`` (the file's lines, or ``TextLines``) with ``changes`` (sorted,
    not overlapping). Only the lines the hunks show are looked at."""
    if not changes:
        return ""
    out = ["--- /dev/null\n" if created else f"--- a/{rel_path}\n",
           "+++ /dev/null\n" if deleted else f"+++ b/{rel_path}\n"]
    shift = 0  # new line index minus old line index, before the current change
    group: list[Change] = []
    for change in changes:
        if group and change.i1 - group[-1].i2 > 2 * CONTEXT:
            shift = _hunk(out, old, group, shift)
            group = []
        group.append(change)
    _hunk(out, old, group, shift)
    return "".join(out)


def _hunk(out: list[str], old: Sequence[str] | TextLines, group: Sequence[Change],
          shift: int) -> int:
    start = max(0, group[0].i1 - CONTEXT)
    end = group[-1].i2 + len(old[group[-1].i2 : group[-1].i2 + CONTEXT])
    added = sum(len(c.new_lines) - (c.i2 - c.i1) for c in group)
    old_len = end - start
    out.append(f"@@ -{_range(start, old_len)} +{_range(start + shift, old_len + added)} @@\n")
    at = start
    for change in group:
        for line in old[at:change.i1]:
            _emit(out, " ", line)
        for line in old[change.i1:change.i2]:
            _emit(out, "-", line)
        for line in change.new_lines:
            _emit(out, "+", line)
        at = change.i2
    for line in old[at:end]:
        _emit(out, " ", line)
    return shift + added
