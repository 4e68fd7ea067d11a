"""The plain-text prompt format of the embedded model.

Gemma 3 270M is a base model without a chat template, and too small to follow a long
system prompt, so the conversation is written as a transcript it can continue:

    User: Where is load_data defined?
    Action: grep {"pattern": "def load_data"}
    Result:
    data/loader.py:12:def load_data(path):
    Answer: load_data is defined in data/loader.py, line 12.

The transcript opens with one short example per tool of the request (and one question
answered without a tool), then the real conversation. The model then writes either
``Action:`` (a tool call, generated under a grammar) or ``Answer:`` (free text).
The examples never change for a given tool set, so llama.cpp's prompt cache reuses
them from one request to the next.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from joiner.core.messages import Message, ModelRequest, ToolSpec
from joiner.providers._local_grammar import call_schema

USER = "User:"
ACTION = "Action:"
RESULT = "Result:"
ANSWER = "Answer:"
FENCE = "```"
_NUMBERED = re.compile(r"^ *\d+\t(.*)$")
# Where an answer ends: the model starting the next transcript line by itself.
ANSWER_STOPS = ["\nUser:", "\nAction:", "\nResult:", "\nAnswer:", "\n\n\n"]
RESULT_CHARS = 1500  # a tool result longer than this is cut, with a note
CHARS_PER_TOKEN = 3  # a cautious estimate for fitting the context window

INTRO = (
    "Below, Joiner, a coding assistant, helps a user with the files of a software project. "
    "To look at or change files, Joiner writes one Action line: a tool and its JSON "
    "arguments. The tool's output follows after Result. When Joiner knows enough, it writes "
    "the Answer: one or two short sentences."
)


@dataclass(frozen=True, slots=True)
class ToolExample:
    """One demonstration of a tool: what it is for, a request, the call, its result."""

    summary: str
    user: str
    arguments: dict[str, Any]
    result: str
    answer: str


EXAMPLES: dict[str, ToolExample] = {
    "list_files": ToolExample(
        "list the files of the project or of one folder",
        "Which files are in the docs folder?",
        {"path": "docs"},
        "docs/index.md\ndocs/setup.md",
        "The docs folder has: docs/index.md, docs/setup.md",
    ),
    "read_file": ToolExample(
        "show the lines of a file",
        "What does shapes.py define?",
        {"path": "shapes.py"},
        "     1\tPI = 3.14\n     2\t\n     3\tdef circle_area(r):\n     4\t    return PI * r * r",
        "shapes.py defines the constant PI = 3.14 and the function circle_area(r).",
    ),
    "grep": ToolExample(
        "search the files for a word or a definition",
        "Where is the function load_data defined?",
        {"pattern": "def load_data"},
        "data/loader.py:12:def load_data(path):",
        "load_data is defined in data/loader.py, line 12: def load_data(path):",
    ),
    "edit_file": ToolExample(
        "replace a piece of text in a file",
        "In server.py, change the port from 8080 to 9090.",
        {"path": "server.py", "old_string": "8080", "new_string": "9090"},
        "Edited server.py: replaced 1 occurrence (at line 2).",
        "Done: server.py now uses 9090 instead of 8080.",
    ),
    "write_file": ToolExample(
        "create a file with the given content",
        "Create a file todo.txt that says: buy milk",
        {"path": "todo.txt", "content": "buy milk\n"},
        "Wrote todo.txt (1 line).",
        "I created todo.txt with the text: buy milk",
    ),
    "run_shell": ToolExample(
        "run a shell command, such as the tests",
        "Run the tests.",
        {"command": "pytest -q"},
        "exit code: 0\nstdout:\n4 passed in 0.02s",
        "It printed: 4 passed in 0.02s",
    ),
}


NO_TOOL_EXAMPLE = ("What does a linter do?",
                   "A linter checks code for mistakes and style problems.")


def _call_text(name: str, arguments: dict[str, Any] | str) -> str:
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}")
        except json.JSONDecodeError:
            return f"{ACTION} {name} {arguments}"
    return f"{ACTION} {name} {json.dumps(arguments, ensure_ascii=False)}"


def _placeholder_arguments(spec: ToolSpec) -> dict[str, Any]:
    """Example arguments for a tool without a written example (an MCP tool)."""
    schema = call_schema(spec)
    values: dict[str, Any] = {}
    for name in schema["required"]:
        prop = schema["properties"][name]
        kind = prop.get("type")
        values[name] = (prop["enum"][0] if "enum" in prop else
                        0 if kind in ("integer", "number") else
                        False if kind == "boolean" else [] if kind == "array" else
                        {} if kind == "object" else "...")
    return values


def _summary(spec: ToolSpec) -> str:
    example = EXAMPLES.get(spec.name)
    if example is not None:
        return example.summary
    first = spec.description.strip().split("\n")[0].split(". ")[0].rstrip(".")
    return first[:100] or spec.name


def render_tools(tools: Sequence[ToolSpec]) -> str:
    """The tool list and the examples: the fixed head of every prompt with these tools."""
    lines = [INTRO, "", "Tools:"]
    for spec in tools:
        example = EXAMPLES.get(spec.name)
        args = example.arguments if example else _placeholder_arguments(spec)
        lines.append(f"- {spec.name} {json.dumps(args)}: {_summary(spec)}")
    question, answer = NO_TOOL_EXAMPLE
    lines += ["", f"{USER} {question}", f"{ANSWER} {answer}"]
    for spec in tools:
        example = EXAMPLES.get(spec.name)
        if example is None:
            continue
        lines += ["", f"{USER} {example.user}", _call_text(spec.name, example.arguments),
                  render_result(example.result, False), f"{ANSWER} {example.answer}"]
    return "\n".join(lines) + "\n"


def _without_line_numbers(text: str) -> str:
    """``cat -n`` output (read_file's) without its numbers: the tiny model copies the
    numbers into its answers instead of the code."""
    lines = text.split("\n")
    numbered = [_NUMBERED.match(line) for line in lines]
    if len(lines) > 0 and all(m or not line.strip() or line.startswith("[")
                              for m, line in zip(numbered, lines, strict=True)):
        return "\n".join(m.group(1) if m else line for m, line in
                         zip(numbered, lines, strict=True))
    return text


def render_result(text: str, is_error: bool, limit: int = RESULT_CHARS) -> str:
    """A tool's output in a fenced block: the closing fence tells the model it ended."""
    body = _without_line_numbers(text.strip("\n")).replace(FENCE, "'''") or "(no output)"
    if len(body) > limit:
        body = body[:limit].rstrip() + f"\n[... {len(body) - limit} more characters]"
    if is_error:
        body = "Error: " + body
    return f"{RESULT}\n{FENCE}\n{body}\n{FENCE}"


def render_message(message: Message) -> list[str]:
    """A message as transcript lines."""
    if message.role == "user":
        return ["", f"{USER} {message.text.strip()}"]
    if message.role == "tool":
        return [render_result(message.text, message.is_error)]
    if message.tool_calls:  # text beside calls (from another model) is left out
        return [_call_text(c.name, c.arguments) for c in message.tool_calls]
    return [f"{ANSWER} {message.text.strip()}"]


def render_conversation(messages: Sequence[Message], budget_chars: int) -> str:
    """The conversation as transcript lines; the oldest exchanges are dropped first
    when it is longer than ``budget_chars`` (the latest user message always stays)."""
    starts = [i for i, m in enumerate(messages) if m.role == "user"] or [0]
    for start in starts:
        text = "\n".join(line for m in messages[start:] for line in render_message(m))
        if len(text) <= budget_chars or start == starts[-1]:
            return text.lstrip("\n") + "\n"
    return ""  # pragma: no cover - the loop always returns


def build_prompt(request: ModelRequest, context_tokens: int, answer_tokens: int) -> str:
    """The whole prompt for ``request``, ending at the start of the model's next line.

    ``request.system`` is not used: the tiny model cannot follow a long system prompt;
    the tool examples carry the instructions instead."""
    head = render_tools(request.tools) if request.tools else ""
    if not request.tools:
        question, answer = NO_TOOL_EXAMPLE
        head = f"{INTRO}\n\n{USER} {question}\n{ANSWER} {answer}\n"
    budget = max(0, (context_tokens - answer_tokens) * CHARS_PER_TOKEN - len(head) - 2)
    return head + "\n" + render_conversation(request.messages, budget)


def calls_since_user(messages: Sequence[Message]) -> list[tuple[str, str]]:
    """The (name, canonical JSON arguments) of the calls made since the last user message."""
    calls: list[tuple[str, str]] = []
    for message in reversed(messages):
        if message.role == "user":
            break
        for call in message.tool_calls:
            calls.append((call.name, canonical_arguments(call.arguments)))
    return calls


def canonical_arguments(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments or "{}"), sort_keys=True)
    except json.JSONDecodeError:
        return arguments
