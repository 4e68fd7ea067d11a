"""The fitter's running view (``context.view``): kept up to date turn by turn, it is always
what rebuilding the view from the loop's whole list gives, sized the same; a turn estimates
only its new messages; a compaction's transcript is not kept alive."""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kit import Recorder, SummarizingProvider, write_numbered_files

import joiner.context.compaction as compaction
import joiner.context.estimate as estimate
import joiner.context.view as view_module
from joiner.context import ContextManager, Window, estimate_request, manager_for
from joiner.context.estimate import estimate_messages, estimate_text
from joiner.core import FanOut, Provider
from joiner.core.events import COMPACTION
from joiner.core.loop import Agent, RunResult
from joiner.core.messages import Message, ModelRequest, ToolCall
from joiner.cost.meter import CostMeter
from joiner.cost.pricing import Prices
from joiner.sessions import rebuild_messages
from joiner.tools import builtin_tools
from joiner.workspace.guard import Workspace


class CheckedManager(ContextManager):
    """A ``ContextManager`` that, at every size it computes (while making room too), checks
    its running view against the view rebuilt from the loop's whole list, and the size
    against the whole-list formula (the fitter's before it kept a running view)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loop_messages: Sequence[Message] | None = None
        self.last_sent: list[Message] = []  # kept here, apart from the view's own record
        self.checks = 0

    async def fit(self, request: ModelRequest, provider: Provider) -> ModelRequest:
        self.loop_messages = request.messages
        fitted = await super().fit(request, provider)
        assert _same(fitted.messages, self.whole_view())
        self.last_sent = list(fitted.messages)
        return fitted

    async def compact(self, messages: list[Message], provider: Provider, system: str = "",
                      tools: Sequence[Any] = (), max_tokens: int = 8192) -> Any:
        self.loop_messages = messages
        return await super().compact(messages, provider, system, tools, max_tokens)

    def whole_view(self) -> list[Message]:
        messages = self.loop_messages or []
        head = [self.summary] if self.summary is not None else []
        return head + [self.short.get(i, messages[i]) for i in range(self.offset, len(messages))]

    def size(self, fixed: int) -> int:
        got = super().size(fixed)
        if self.loop_messages is None:
            return got
        view, sent = self.whole_view(), self.last_sent
        assert _same(self.view.entries, view)
        assert self.view.total == estimate_messages(view)
        want = int((fixed + estimate_messages(view)) * self.factor)
        if self._reported and len(view) >= len(sent) and _same(view[:len(sent)], sent):
            want = max(want, self._reported + estimate_messages(view[len(sent):]))
        assert got == want
        messages = self.loop_messages
        assert self.view.calls == {c.id: c for m in messages[self.offset:] for c in m.tool_calls}
        for limit in self.view.cursors:  # what shortening skips is what it would skip
            for i in range(self.offset, min(self.view.skippable_until(limit), len(messages))):
                current = self.short.get(i, messages[i])
                assert current.role != "tool" or estimate_text(current.text) <= limit
        self.checks += 1
        return got


def _same(a: Sequence[Message], b: Sequence[Message]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


class Allow:
    async def approve(self, request: Any) -> Any:
        raise AssertionError("only read tools here")


async def agent_run(root: Path, manager: ContextManager, steps: list[dict[str, Any]],
                    window: int, prompt: str, history: list[Message], reported: Any = None,
                    ) -> tuple[RunResult, Recorder, SummarizingProvider]:
    recorder = Recorder()
    provider = SummarizingProvider(steps, reported=reported)
    sink = FanOut(recorder, manager)
    meter = CostMeter(Prices(), None, window)
    manager.sink, manager.meter = sink, meter
    agent = Agent(provider, builtin_tools(Workspace(root)), Allow(), sink, meter,
                  system="You read files.", context=manager)
    return await agent.run(prompt, history), recorder, provider


def random_steps(rng: random.Random, names: list[str], count: int) -> list[dict[str, Any]]:
    """Reads of random files and ranges: some answers make several calls, some repeat the
    one before three times (the loop guard's note goes on the last result)."""
    def call() -> dict[str, Any]:
        arguments: dict[str, Any] = {"path": rng.choice(names)}
        if rng.random() < 0.5:
            arguments |= {"offset": rng.randint(1, 40), "limit": rng.choice([3, 30, 300])}
        return {"name": "read_file", "arguments": arguments}

    steps: list[dict[str, Any]] = []
    while len(steps) < count:
        kind = rng.random()
        if kind < 0.1:
            steps += [{"tool_calls": [call()]}] * 3 + [{"text": "again", "tool_calls": [call()]}]
        elif kind < 0.25:
            steps.append({"text": "several", "tool_calls": [call() for _ in range(3)]})
        else:
            steps.append({"tool_calls": [call()]})
    return [*steps, {"text": "Done."}]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), window=st.sampled_from([3000, 6000, 12000, 40000]),
       factor=st.sampled_from([None, 0.8, 1.4, 2.5]), runs=st.integers(1, 3))
def test_the_running_view_is_the_whole_view_in_random_sessions(
        seed: int, window: int, factor: float | None, runs: int) -> None:
    rng = random.Random(seed)
    reported = None if factor is None else (
        lambda request: int(estimate_request(request) * factor))
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        names = [f"r{i}.py" for i in range(rng.randint(2, 8))]
        for name in names:
            write_numbered_files(root, [name], lines=rng.choice([5, 60, 400, 1500]))
        events: list[Any] = []
        history: list[Message] = []
        for run in range(runs):  # each run goes on from the last (its compactions carried)
            manager = CheckedManager(Window(window, source="config"))
            if events:
                carried = manager_for(events, Window(window, source="config"))
                manager.files_changed, manager.record = carried.files_changed, carried.record
            steps = random_steps(rng, names, rng.randint(5, 60))
            result, recorder, _ = asyncio.run(agent_run(
                root, manager, steps, window, f"request {run}", history, reported))
            assert result.stop_reason in ("end_turn", "loop")
            assert manager.checks > 0
            events += recorder.events
            for seq, event in enumerate(events, 1):
                event.seq = seq
            history = rebuild_messages(events)


def tool_turn(n: int, text: str) -> list[Message]:
    call = ToolCall(f"c{n}", "read_file", json.dumps({"path": f"f{n}.py"}))
    return [Message("assistant", f"reading {n}", [call]), Message.tool_result(call, text)]


async def test_a_note_added_after_the_fitter_saw_the_result_is_counted() -> None:
    manager = CheckedManager(Window(200_000))
    provider = SummarizingProvider([])
    messages = [Message.user("go"), *tool_turn(1, "x = 1\n" * 50)]
    manager.loop_messages = messages
    await manager.fit(ModelRequest("system", list(messages), []), provider)
    before = manager.view.total
    messages[-1].text += "\n\n[joiner] You have repeated the same step several times."
    messages += tool_turn(2, "y = 2\n")
    await manager.fit(ModelRequest("system", list(messages), []), provider)
    assert manager.view.total > before + estimate_messages(messages[-2:])


async def test_a_list_that_does_not_go_on_from_the_last_is_read_whole() -> None:
    manager = CheckedManager(Window(200_000))
    provider = SummarizingProvider([])
    first = [Message.user("one"), *tool_turn(1, "a\n" * 30), *tool_turn(2, "b\n" * 30)]
    await manager.fit(ModelRequest("system", list(first), []), provider)
    other = [Message.user("two"), *tool_turn(3, "c\n" * 300)]  # shorter, other objects
    fitted = await manager.fit(ModelRequest("system", list(other), []), provider)
    assert _same(fitted.messages, other)
    longer = [*first[:2], Message.user("three"), *tool_turn(4, "d\n")]  # same head
    fitted = await manager.fit(ModelRequest("system", list(longer), []), provider)
    assert _same(fitted.messages, longer)


async def test_manual_compaction_after_a_run_keeps_the_view_right(tmp_path: Path) -> None:
    names = [f"m{i}.py" for i in range(6)]
    write_numbered_files(tmp_path, names, lines=200)
    manager = CheckedManager(Window(16_000, source="config"))
    steps = [{"tool_calls": [{"name": "read_file", "arguments": {"path": n}}]} for n in names]
    result, _, provider = await agent_run(tmp_path, manager, [*steps, {"text": "ok"}],
                                          16_000, "read them", [])
    checks = manager.checks
    data = await manager.compact(result.messages, provider, "You read files.")
    assert data is not None and manager.checks > checks
    assert manager.offset == len(result.messages) - 1 and manager.view.entries[0] is \
        manager.summary


async def test_a_turn_estimates_only_its_new_messages(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside the turns that make room, the fitter estimates each message once: what the
    whole-list fitter did for every message of the conversation every turn."""
    calls = 0
    original = estimate.estimate_message

    def counted(message: Message) -> int:
        nonlocal calls
        calls += 1
        return original(message)

    monkeypatch.setattr(estimate, "estimate_message", counted)
    monkeypatch.setattr(view_module, "estimate_message", counted)
    names = [f"t{i}.py" for i in range(10)]
    write_numbered_files(tmp_path, names, lines=40)

    class Counting(ContextManager):
        def __init__(self, window: Window) -> None:
            super().__init__(window)
            self.per_turn: list[tuple[int, int, bool]] = []  # estimates, new, made room
            self.seen = 0

        async def fit(self, request: ModelRequest, provider: Provider) -> ModelRequest:
            nonlocal calls
            calls, compactions, short = 0, self.compactions, len(self.short)
            fitted = await super().fit(request, provider)
            made_room = self.compactions != compactions or len(self.short) != short
            self.per_turn.append((calls, len(request.messages) - self.seen, made_room))
            self.seen = len(request.messages)
            return fitted

    manager = Counting(Window(16_000, source="config"))
    steps = [{"tool_calls": [{"name": "read_file", "arguments": {
        "path": names[i % 10], "offset": 1 + i % 30, "limit": 8}}]} for i in range(300)]
    result, recorder, _ = await agent_run(tmp_path, manager, [*steps, {"text": "ok"}], 16_000,
                                          "read", [])
    assert result.num_turns == 301 and recorder.of(COMPACTION)
    quiet = [(n, new) for n, new, made_room in manager.per_turn if not made_room]
    assert len(quiet) > 250
    assert all(n <= new + 1 for n, new in quiet)  # + the latest answer when checking its size
    assert sum(n for n, _ in quiet) <= sum(new for _, new in quiet) + 10


async def test_a_compaction_transcript_is_not_kept_by_the_estimate_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    transcripts: list[str] = []
    original = compaction.transcript

    def recorded(messages: Sequence[Message], budget: int) -> str:
        transcripts.append(original(messages, budget))
        return transcripts[-1]

    monkeypatch.setattr(compaction, "transcript", recorded)
    names = [f"s{i}.py" for i in range(12)]
    write_numbered_files(tmp_path, names, lines=120)
    steps = [{"tool_calls": [{"name": "read_file", "arguments": {"path": n}}]} for n in names]
    manager = ContextManager(Window(6000, source="config"))
    _, recorder, _ = await agent_run(tmp_path, manager, [*steps, {"text": "ok"}], 6000,
                                     "read", [])
    assert recorder.of(COMPACTION) and transcripts
    assert all(text not in estimate._cache for text in transcripts)
