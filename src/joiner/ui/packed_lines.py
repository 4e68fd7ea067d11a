"""Terminal lines kept in a form the garbage collector does not walk.

A drawn line is a list of Rich ``Segment``s, each holding a ``Style``: all of them objects
the collector walks on every full pass, and a conversation keeps hundreds of thousands of
them (a 2,000-message session: a 270-480 ms pass). Packed, a line is a tuple of (text,
style number) pairs: tuples of strings and numbers, which Python stops tracking after their
first collection. Styles are numbered once, in a table shared by every answer.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.segment import Segment
from rich.style import Style

Line = tuple[tuple[str, int], ...]

_styles: list[Style | None] = []
_numbers: dict[Style | None, int] = {}


def pack(segments: Iterable[Segment]) -> Line:
    numbers, packed = _numbers, []
    for text, style, _ in segments:
        number = numbers.get(style)
        if number is None:
            number = numbers[style] = len(_styles)
            _styles.append(style)
        packed.append((text, number))
    return tuple(packed)


def unpack(line: Line) -> list[Segment]:
    styles = _styles
    return [Segment(text, styles[number]) for text, number in line]
