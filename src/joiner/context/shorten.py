"""Cutting a tool result down to its head and tail, with a marker saying what was cut and how
to get it back (the exact ``read_file`` call for a file, a narrower call for a search)."""

from __future__ import annotations

import json
import re

from joiner.context.estimate import estimate_text
from joiner.core.messages import Message, ToolCall

MARK = "[joiner: "  # every note the fitter adds starts with this
_NUMBERED = re.compile(r"^ *(\d+)\t")  # read_file's "     12\ttext" lines


def how_to_get_back(call: ToolCall | None, cut_lines: str) -> str:
    """One sentence telling the model how to see the cut part again."""
    if call is None:
        return "Call the tool again if you need the cut part."
    try:
        args = call.parsed_arguments()
    except ValueError:
        args = {}
    if call.name == "read_file" and (first := _first_number(cut_lines)) is not None:
        count = cut_lines.count("\n") or 1
        return (f"To see them again: read_file(path={json.dumps(args.get('path', ''))}, "
                f"offset={first}, limit={count}).")
    if call.name in ("grep", "list_files"):
        return (f"Run {call.name} again to see them, narrowed (path=…, glob=…, a more precise "
                "pattern) so the answer stays short.")
    if call.name == "run_shell":
        return ("The output is not kept: if the command is safe to repeat, run it again with "
                "its output filtered (e.g. | grep, | sed -n 'A,Bp', | tail).")
    return f"Call {call.name} again (more narrowly) if you need the cut part."


def _first_number(text: str) -> int | None:
    match = _NUMBERED.match(text)
    return int(match.group(1)) if match else None


def head_and_tail(text: str, keep_tokens: int, why: str, call: ToolCall | None, *,
                  remember: bool = True) -> str:
    """``text`` cut to about ``keep_tokens`` (two thirds head, one third tail, at line ends
    where there are lines) with a note in the middle; unchanged if it already fits.
    ``remember=False`` when ``text`` is made for this call only (see ``estimate_text``)."""
    total = estimate_text(text, remember=remember)
    if total <= keep_tokens:
        return text
    ratio = len(text) / max(total, 1)  # characters per token of this very text
    keep_chars = max(int(keep_tokens * ratio), 80)
    head_end = _line_end(text, keep_chars * 2 // 3, forward=False)
    tail_start = _line_end(text, len(text) - keep_chars // 3, forward=True)
    if tail_start <= head_end:
        return text
    cut = text[head_end:tail_start]
    lines = cut.count("\n")
    what = (f"{lines} lines (about {estimate_text(cut, remember=False)} tokens)" if lines
            else f"{len(cut)} characters")
    note = (f"\n{MARK}{why}: {what} were cut from the middle of this result. "
            f"{how_to_get_back(call, cut)}]\n")
    return text[:head_end].rstrip("\n") + note + text[tail_start:].lstrip("\n")


def _line_end(text: str, at: int, *, forward: bool) -> int:
    """A position near ``at`` just after a newline (within 200 characters), else ``at``."""
    at = max(0, min(at, len(text)))
    found = (text.find("\n", at, at + 200) if forward
             else text.rfind("\n", max(0, at - 200), at))
    return found + 1 if found != -1 else at


def shortened_result(result: Message, keep_tokens: int, why: str,
                     call: ToolCall | None) -> Message:
    """A copy of the tool result ``result`` cut to about ``keep_tokens``."""
    text = head_and_tail(result.text, keep_tokens, why, call)
    if text is result.text:
        return result
    return Message("tool", text, tool_call_id=result.tool_call_id, name=result.name,
                   is_error=result.is_error)
