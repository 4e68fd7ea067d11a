"""Request hints: which built-in tools the words of a request point to.

Gemma 3 270M's own preference among tools is nearly flat (after ``Action:`` the first
tokens of ``read_file``, ``grep``, ``list_files`` and ``run_shell`` are typically within
one nat of each other, whatever the request), and it takes any question for a tool
request. A request's verbs say much more: "where is X defined" is a search, "list the
files" a listing, "change A to B" an edit. So before the model chooses, the provider
narrows the call grammar to the tools the request's words point to (the model still
chooses among them and writes the arguments), and it leans the answer-or-tool decision
toward answering when nothing in the request names a file, a code symbol or a tool verb.

Only the six built-in tool names are hinted; other tools (MCP) are always allowed.
The ``tool_hints = false`` setting turns this off (the evaluation reports both).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from joiner.providers._local_grounding import BARE_FILES, file_names

_HINTS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE) for name, pattern in {
        "edit_file": r"\b(change|replace|rename|edit|modify|fix|update|set \S+ to|"
                     r"make \S+ return|remove the line|delete the line)\b",
        "write_file": r"\b(create|write a|write the|new file|save .* to a file)\b",
        "run_shell": r"\b(run|execute|install|build|compile|launch)\b",
        "list_files": r"\blist (the |all |every )?(files|folders|directories)\b|\bfiles\b|"
                      r"\bfolders?\b|\bdirector(y|ies)\b|\btree\b|\bls\b",
        "grep": r"\b(where|find|search|defined|defines|definition|locate|grep|"
                r"occurrences?|usages?|mentions?|references?|look for|is there an?|"
                r"which (file|module|class|function|method)|called|named)\b",
        "read_file": r"\b(show|read|open|print|display|contents?|look at|explain|"
                     r"summari[sz]e|what does|what is in|what's in)\b",
    }.items()
}
# A question about one named thing: "what does X do", "how does X work".
_ABOUT = re.compile(r"\b(what|how) (does|do|is) \w+ (do|work|mean|return)", re.IGNORECASE)
# A code symbol: snake_case, CamelCase (an inner capital), or an ALL_CAPS constant.
_SYMBOL = re.compile(r"\b([a-z]+_[a-z0-9_]+|[A-Z][a-z0-9]+[A-Z]\w*|[A-Z][A-Z0-9]*_[A-Z0-9_]+)\b")


@dataclass(frozen=True, slots=True)
class Hints:
    tools: frozenset[str]  # built-in tools the request points to (empty: no opinion)
    concrete: bool  # the request names a file, a code symbol, or a tool verb

    def narrow(self, available: Sequence[str]) -> list[str]:
        """The tools the call grammar allows: the hinted ones among ``available`` plus
        every non-built-in tool; all of ``available`` when no hinted tool is there."""
        hinted = [name for name in available if name in self.tools]
        if not hinted:
            return list(available)
        return [name for name in available if name in self.tools or name not in _HINTS]


def request_hints(request: str) -> Hints:
    """The hints of one user request."""
    tools = {name for name, pattern in _HINTS.items() if pattern.search(request)}
    bare = any(word in BARE_FILES for word in re.findall(r"\w+", request))
    has_file = bool(file_names(request)) or bare
    has_symbol = bool(_SYMBOL.search(request))
    if "read_file" in tools and not has_file:
        tools.discard("read_file")  # nothing to open by name: search for the thing asked
        if has_symbol or _ABOUT.search(request):  # about ("what does X do?"), if any
            tools.add("grep")
    if not tools and has_file:
        tools.add("read_file")  # a question about a named file: read it
    if not tools and has_symbol:
        tools.add("grep")  # a question about a named symbol: find it
    return Hints(frozenset(tools), bool(tools) or has_file or has_symbol)
