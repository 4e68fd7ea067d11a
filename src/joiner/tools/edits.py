"""The text work of ``edit_file``: find ``old_string``, replace it, and describe the change.

The change is described line by line from the matched regions only (``diffs.Change``), so a small
edit in a large file never compares the two whole files, nor splits them: the line starts
around each region (``Replacement.starts``) let ``diffs.TextLines`` find the diff's context.
"""

from __future__ import annotations

from dataclasses import dataclass

from joiner.tools.diffs import Change, middle_changes, split_lines


@dataclass(slots=True)
class Replacement:
    text: str  # before
    pieces: list[tuple[int, int] | str]  # spans of ``text`` and new texts, in order
    changes: list[Change]
    starts: dict[int, int]  # line index -> offset in the text before, around each region
    lines: list[int]  # 1-based line of each replaced occurrence

    @property
    def after(self) -> str:
        """The new text, built when asked (a preview needs only the changes)."""
        text = self.text
        return "".join(p if isinstance(p, str) else text[p[0] : p[1]] for p in self.pieces)


def find_all(text: str, needle: str) -> list[int]:
    """Start offsets of the non-overlapping occurrences of ``needle`` (as ``str.replace`` sees)."""
    starts: list[int] = []
    at = text.find(needle)
    while at != -1:
        starts.append(at)
        at = text.find(needle, at + len(needle))
    return starts


def line_numbers(text: str, offsets: list[int]) -> list[int]:
    """1-based line numbers of sorted ``offsets`` (counted incrementally: linear overall)."""
    numbers: list[int] = []
    line, pos = 1, 0
    for offset in offsets:
        line += text.count("\n", pos, offset)
        pos = offset
        numbers.append(line)
    return numbers


def replace_at(text: str, starts: list[int], old: str, new: str) -> Replacement:
    """Replace ``old`` at ``starts`` (sorted, non-overlapping) with ``new``.

    Each match is widened to whole lines (a region); regions that touch are merged, and a
    replacement that drops a line's final newline takes the next line into its region, so each
    region's new text is again whole lines. Then only the regions are compared.
    """
    pieces: list[tuple[int, int] | str] = []
    changes: list[Change] = []
    line_starts: dict[int, int] = {}
    lines: list[int] = []
    copied = 0  # text[:copied] is already in pieces
    line_of_copied = 0  # line index of offset ``copied`` (when it is a line start)
    i = 0
    size = len(text)
    while i < len(starts):
        region_start = text.rfind("\n", 0, starts[i]) + 1
        first_line = line_of_copied + text.count("\n", copied, region_start)
        region: list[str] = []
        pos = region_start
        region_end = region_start
        while True:
            while i < len(starts) and (starts[i] < region_end or pos == region_start):
                region += [text[pos:starts[i]], new]
                lines.append(first_line + 1 + text.count("\n", region_start, starts[i]))
                pos = starts[i] + len(old)
                i += 1
                region_end = _line_end(text, pos)
            region.append(text[pos:region_end])
            pos = region_end
            new_text = "".join(region)
            if new_text and not new_text.endswith("\n") and region_end < size:
                region_end = _line_end(text, region_end + 1)  # take the next line in
                continue
            break
        old_lines = split_lines(text[region_start:region_end])
        new_lines = split_lines(new_text)
        changes += middle_changes(old_lines, new_lines, first_line)
        pieces += [(copied, region_start), new_text]
        line_of_copied = first_line + len(old_lines)
        copied = region_end
        line_starts[first_line], line_starts[line_of_copied] = region_start, region_end
    pieces.append((copied, size))
    return Replacement(text, pieces, changes, line_starts, lines)


def _line_end(text: str, pos: int) -> int:
    """The end (after the ``\\n``) of the line holding ``text[pos - 1]``, or the text's end."""
    if pos > 0 and text[pos - 1] == "\n":
        return pos
    end = text.find("\n", pos)
    return len(text) if end == -1 else end + 1
