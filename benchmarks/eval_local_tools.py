"""How well the embedded model (local/gemma3-270m) uses Joiner's tools.

Each case is a realistic request on the small repository in ``sample_repo/`` (copied to
a temporary directory per case, so edits never touch it). It runs through the real
agent loop (``joiner.core.loop.Agent``) with the real built-in tools and every call
allowed (as ``--permission-mode auto``), at most 4 model requests. Two verdicts:

- tool: the first call names an acceptable tool, its arguments pass the case's check,
  and the tool ran without error (for a question that needs no tool: no call at all);
- answer: the run ended with an answer, and the answer (or, for an edit, the file)
  passes the case's check.

Three groups. ``tuned``: the cases the prompt format, grounding and hints were tuned on.
``held-out-1``: written after the first version was settled and run once (that first
result is kept in the report); its failures then informed a second version of the hints,
so it is no longer unseen. ``held-out-2``: written before that second version, never run
while tuning it. The summary reports each group.
``--no-hints`` runs the model without the request hints (``tool_hints = false``), to see
what the model does alone.

    .venv/bin/python benchmarks/eval_local_tools.py [--split GROUP|all] [--only ID,...] [-v]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joiner.core import Approval, ApprovalRequest
from joiner.core.events import Event
from joiner.core.loop import Agent, RunResult
from joiner.core.messages import Usage
from joiner.providers.local import create
from joiner.tools import builtin_tools
from joiner.workspace.guard import Workspace

SAMPLE = Path(__file__).parent / "sample_repo"
MAX_TURNS = 4

ArgCheck = Callable[[dict[str, Any]], bool]
AnswerCheck = Callable[[str, Path], bool]


@dataclass(frozen=True)
class Case:
    id: str
    prompt: str
    tools: dict[str, ArgCheck]  # acceptable first tools; {} means "answer without a tool"
    answer: AnswerCheck
    expects: str  # the answer check, in words (printed with --verbose)
    group: str = "tuned"  # tuned | held-out-1 | held-out-2 (see the module docstring)

    @property
    def held_out(self) -> bool:
        return self.group != "tuned"


def path_is(*names: str) -> ArgCheck:
    return lambda a: str(a.get("path", "")).strip("./") in names


def has(key: str, *words: str) -> ArgCheck:
    return lambda a: all(w.lower() in str(a.get(key, "")).lower() for w in words)


def mentions(*words: str, any_of: bool = False) -> AnswerCheck:
    def check(text: str, _root: Path) -> bool:
        hits = [w.lower() in text.lower() for w in words]
        return any(hits) if any_of else all(hits)
    return check


def file_has(path: str, present: str, absent: str | None = None) -> AnswerCheck:
    def check(_text: str, root: Path) -> bool:
        f = root / path
        if not f.is_file():
            return False
        content = f.read_text(encoding="utf-8")
        return present in content and (absent is None or absent not in content)
    return check


ANY: ArgCheck = lambda a: True  # noqa: E731

CASES = [
    # --- tuned on --------------------------------------------------------------------
    Case("list-all", "What files are in this project?", {"list_files": ANY},
         mentions("calc.py"), "names calc.py"),
    Case("list-dir", "List the files in the utils folder.",
         {"list_files": path_is("utils")}, mentions("text.py"), "names text.py"),
    Case("show-file", "Show me calc.py", {"read_file": path_is("calc.py")},
         mentions("add", "divide", any_of=True), "names a function of calc.py"),
    Case("what-defines", "What does calc.py define?", {"read_file": path_is("calc.py")},
         mentions("add", "subtract", "multiply", "divide", any_of=True),
         "names a function of calc.py"),
    Case("find-func", "Where is the function slugify defined?",
         {"grep": has("pattern", "slugify")}, mentions("text.py"), "names utils/text.py"),
    Case("find-class", "Which file defines the class Inventory?",
         {"grep": has("pattern", "Inventory")}, mentions("inventory.py"), "names inventory.py"),
    Case("config-value", "What is the version in settings.json?",
         {"read_file": path_is("settings.json"), "grep": has("pattern", "version")},
         mentions("0.3.1"), "says 0.3.1"),
    Case("greet-returns", "What does the greet function in greet.py return?",
         {"read_file": path_is("greet.py"), "grep": has("pattern", "greet")},
         mentions("hello", "greeting", any_of=True), "mentions the greeting"),
    Case("edit-const", 'In greet.py, change GREETING from "Hello" to "Hi".',
         {"edit_file": path_is("greet.py")}, file_has("greet.py", 'GREETING = "Hi"'),
         'greet.py has GREETING = "Hi"'),
    Case("run-tests", "Run the tests.", {"run_shell": has("command", "pytest")},
         mentions("pass", any_of=True), "says the tests pass"),
    Case("read-readme", "Read the README.", {"read_file": path_is("README.md")},
         mentions("shop", "inventory", any_of=True), "says what the project is"),
    Case("find-const", "What is TAX_RATE set to?",
         {"grep": has("pattern", "TAX_RATE"), "read_file": path_is("inventory.py")},
         mentions("0.2"), "says 0.2"),
    Case("create-file", "Create a file notes.txt that says: remember the milk",
         {"write_file": path_is("notes.txt")}, file_has("notes.txt", "remember the milk"),
         "notes.txt has the text"),
    Case("no-tool", "What is a linked list?", {},
         mentions("node", "element", "list", any_of=True), "explains it"),
    # (first written as held-out, then read while writing the request hints: tuned on)
    Case("list-tests", "Which files are in the tests directory?",
         {"list_files": path_is("tests")}, mentions("test_calc.py"), "names test_calc.py"),
    Case("read-class", "Open inventory.py and tell me what class it defines.",
         {"read_file": path_is("inventory.py")}, mentions("Inventory", "Item", any_of=True),
         "names Inventory or Item"),
    Case("find-divide", "Find where divide is defined.", {"grep": has("pattern", "divide")},
         mentions("calc.py"), "names calc.py"),
    Case("currency", "What currency does settings.json use?",
         {"read_file": path_is("settings.json"), "grep": has("pattern", "currency")},
         mentions("EUR"), "says EUR"),
    Case("rename", "In calc.py, rename the function subtract to sub.",
         {"edit_file": path_is("calc.py")}, file_has("calc.py", "def sub(a, b)"),
         "calc.py defines sub"),
    Case("show-docs", "Show me the docs/usage.md file.",
         {"read_file": path_is("docs/usage.md")}, mentions("Inventory", "total_value",
                                                          any_of=True),
         "says what the doc says"),
    Case("search-exc", "Search the code for ZeroDivisionError.",
         {"grep": has("pattern", "ZeroDivisionError")}, mentions("calc.py"), "names calc.py"),
    Case("edit-json", "Change the currency in settings.json from EUR to USD.",
         {"edit_file": path_is("settings.json")}, file_has("settings.json", "USD", "EUR"),
         "settings.json says USD"),
    Case("slugify", "What does slugify do?",
         {"grep": has("pattern", "slugify"), "read_file": path_is("utils/text.py")},
         mentions("dash", "lowercase", "lower", "-", any_of=True), "describes it"),
    Case("run-script", "Run python greet.py", {"run_shell": has("command", "greet.py")},
         mentions("hello"), "shows Hello, world!"),
    # --- held out 1: written after the prompt format and the first hints were settled;
    # run once (its result is in the report), then its failures informed the second hints
    Case("ho-multiply", "Is there a function that multiplies numbers?",
         {"grep": has("pattern", "multipl"), "read_file": path_is("calc.py")},
         mentions("multiply"), "names multiply", group="held-out-1"),
    Case("ho-overview", "Give me an overview of the files here.", {"list_files": ANY},
         mentions("calc.py", "inventory.py", "greet.py", any_of=True), "names a file",
         group="held-out-1"),
    Case("ho-print-text", "Print the contents of utils/text.py",
         {"read_file": path_is("utils/text.py")}, mentions("slugify"), "names slugify",
         group="held-out-1"),
    Case("ho-item", "Which module has the Item dataclass?", {"grep": has("pattern", "Item")},
         mentions("inventory"), "names inventory.py", group="held-out-1"),
    Case("ho-replace-msg", "Replace 'cannot divide by zero' with 'division by zero' in calc.py.",
         {"edit_file": path_is("calc.py")}, file_has("calc.py", '"division by zero"'),
         "calc.py has the new message", group="held-out-1"),
    Case("ho-how-tests", "How do I run the tests of this project?",
         {"read_file": path_is("README.md"), "grep": ANY, "run_shell": has("command", "pytest"),
          "list_files": ANY}, mentions("pytest"), "names pytest", group="held-out-1"),
    Case("ho-test-funcs", "Look at tests/test_calc.py: which functions does it test?",
         {"read_file": path_is("tests/test_calc.py")}, mentions("add", "divide", any_of=True),
         "names add or divide", group="held-out-1"),
    Case("ho-exec-greet", "Execute the greet script.", {"run_shell": has("command", "greet")},
         mentions("hello"), "shows Hello, world!", group="held-out-1"),
    Case("ho-project-name", "What's the name of the project in settings.json?",
         {"read_file": path_is("settings.json"), "grep": has("pattern", "name")},
         mentions("shop"), "says shop", group="held-out-1"),
    Case("ho-recursion", "Explain what recursion is.", {},
         mentions("itself", "function", any_of=True), "explains it", group="held-out-1"),
    # --- held out 2: written before the second hints were made, never run while tuning --
    Case("h2-docs", "Tell me which files live under docs.", {"list_files": path_is("docs")},
         mentions("usage.md"), "names usage.md", group="held-out-2"),
    Case("h2-total", "Where is total_value implemented?",
         {"grep": has("pattern", "total_value")}, mentions("inventory.py"),
         "names inventory.py", group="held-out-2"),
    Case("h2-open", "Open greet.py", {"read_file": path_is("greet.py")},
         mentions("greet", "hello", any_of=True), "says what greet.py has", group="held-out-2"),
    Case("h2-gbp", "Set the currency in settings.json to GBP instead of EUR.",
         {"edit_file": path_is("settings.json")}, file_has("settings.json", "GBP", "EUR"),
         "settings.json says GBP", group="held-out-2"),
    Case("h2-has-slugify", "Does the project have a function called slugify?",
         {"grep": has("pattern", "slugify")}, mentions("text.py"), "names utils/text.py",
         group="held-out-2"),
    Case("h2-paris", "What is the capital of France?", {}, mentions("Paris"), "says Paris",
         group="held-out-2"),
    Case("h2-print-readme", "Print README.md", {"read_file": path_is("README.md")},
         mentions("shop", "inventory", any_of=True), "says what the project is",
         group="held-out-2"),
    Case("h2-ls", "Run ls in the shell.", {"run_shell": has("command", "ls")},
         mentions("calc.py"), "names calc.py", group="held-out-2"),
    Case("h2-tax", "In inventory.py change TAX_RATE from 0.2 to 0.25",
         {"edit_file": path_is("inventory.py")}, file_has("inventory.py", "TAX_RATE = 0.25"),
         "inventory.py has TAX_RATE = 0.25", group="held-out-2"),
    Case("h2-which-tests", "Which tests exist for calc.py?",
         {"grep": ANY, "read_file": path_is("tests/test_calc.py"), "list_files": ANY},
         mentions("test_add", "test_divide", any_of=True), "names a test",
         group="held-out-2"),
]


class AllowAll:
    async def approve(self, request: ApprovalRequest) -> Approval:
        return Approval(True)


@dataclass
class Totals:
    usage: Usage = field(default_factory=Usage)

    def record(self, usage: Usage, model: str) -> dict[str, Any]:
        self.usage = self.usage + usage
        return usage.to_dict()

    def total(self) -> dict[str, Any]:
        return {**self.usage.to_dict(), "cost_usd": 0.0}

    def budget_exceeded(self) -> str | None:
        return None


class Events:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)


@dataclass
class Outcome:
    case: Case
    first_call: str
    tool_ok: bool
    answer_ok: bool
    turns: int
    seconds: float
    answer: str
    stop_reason: str


def judge(case: Case, result: RunResult, root: Path) -> tuple[str, bool, bool]:
    assistant = [m for m in result.messages if m.role == "assistant"]
    first = next((m.tool_calls[0] for m in assistant if m.tool_calls), None)
    if first is None:
        tool_ok = not case.tools
        shown = "-"
    else:
        outcome = next((m for m in result.messages if m.tool_call_id == first.id), None)
        try:
            args = first.parsed_arguments()
        except ValueError:
            args = None
        check = case.tools.get(first.name)
        tool_ok = (check is not None and args is not None and check(args)
                   and outcome is not None and not outcome.is_error)
        shown = f"{first.name} {first.arguments}"
    answer_ok = result.stop_reason == "end_turn" and bool(result.result.strip()) and \
        case.answer(result.result, root)
    return shown, tool_ok, answer_ok


async def run_case(case: Case, provider: Any) -> Outcome:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(SAMPLE, root)
        tools = builtin_tools(Workspace(root))
        agent = Agent(provider, tools, AllowAll(), Events(), Totals(), max_turns=MAX_TURNS)
        started = time.perf_counter()
        result = await agent.run(case.prompt)
        seconds = time.perf_counter() - started
        shown, tool_ok, answer_ok = judge(case, result, root)
    return Outcome(case, shown, tool_ok, answer_ok, result.num_turns, seconds, result.result,
                   result.stop_reason)


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_table(outcomes: list[Outcome], verbose: bool) -> None:
    print(f"{'case':<15} {'group':<10} {'first call':<44} {'tool':<5} {'answer':<6} "
          f"{'turns':>5} {'s':>5}")
    for o in outcomes:
        print(f"{o.case.id:<15} {o.case.group:<10} {_cut(o.first_call, 44):<44} "
              f"{'yes' if o.tool_ok else 'NO':<5} {'yes' if o.answer_ok else 'NO':<6} "
              f"{o.turns:>5} {o.seconds:>5.1f}")
        if verbose:
            print(f"    prompt: {o.case.prompt}\n    answer: {_cut(o.answer, 150)!r}"
                  f"  [{o.stop_reason}; wants: {o.case.expects}]")
    print()
    groups = [(name, [o for o in outcomes if o.case.group == name])
              for name in ("tuned", "held-out-1", "held-out-2")]
    for label, group in [*groups, ("all", outcomes)]:
        if group:
            tools = sum(o.tool_ok for o in group)
            answers = sum(o.answer_ok for o in group)
            print(f"{label:<11} right tool + valid args: {tools:>2}/{len(group)}   "
                  f"sensible answer: {answers:>2}/{len(group)}")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["tuned", "held-out-1", "held-out-2", "all"],
                        default="all")
    parser.add_argument("--only", default="", help="comma-separated case ids")
    parser.add_argument("--verbose", "-v", action="store_true")
    parser.add_argument("--json", help="also write the outcomes to this file")
    parser.add_argument("--no-hints", action="store_true", help="tool_hints = false")
    args = parser.parse_args()
    cases = [c for c in CASES if args.split in ("all", c.group)]
    if args.only:
        wanted = set(args.only.split(","))
        cases = [c for c in cases if c.id in wanted]
    provider = create("gemma3-270m", {"tool_hints": not args.no_hints})
    await provider.load()
    outcomes = [await run_case(case, provider) for case in cases]
    print_table(outcomes, args.verbose)
    if args.json:
        Path(args.json).write_text(json.dumps([
            {"id": o.case.id, "group": o.case.group, "first_call": o.first_call,
             "tool_ok": o.tool_ok, "answer_ok": o.answer_ok, "turns": o.turns,
             "seconds": round(o.seconds, 2), "answer": o.answer} for o in outcomes], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
