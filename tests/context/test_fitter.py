"""The fitter in real agent runs: requests stay inside the window, room is made in order,
compactions are events a resumed session rebuilds from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kit import Recorder, SummarizingProvider, read_steps, write_numbered_files

from joiner.context import ContextManager, Window, estimate_request, manager_for
from joiner.context.compaction import SUMMARY_HEAD, is_summary
from joiner.core import FanOut
from joiner.core.events import COMPACTION, USAGE
from joiner.core.loop import Agent, RunResult
from joiner.core.messages import Message
from joiner.cost.meter import CostMeter
from joiner.cost.pricing import Prices
from joiner.prompt import system_prompt
from joiner.sessions import rebuild_messages
from joiner.tools import builtin_tools
from joiner.workspace.guard import Workspace

FIRST = "Read every file one by one and remember what each defines. Keep this instruction."


async def run(root: Path, provider: SummarizingProvider, window: int, prompt: str = FIRST,
              history: list[Message] | None = None, recorder: Recorder | None = None,
              manager: ContextManager | None = None) -> tuple[RunResult, Recorder,
                                                              ContextManager]:
    recorder = recorder or Recorder()
    manager = manager or ContextManager(Window(window, source="config"))
    sink = FanOut(recorder, manager)
    meter = CostMeter(Prices(), None, window)
    manager.sink, manager.meter = sink, meter

    class Allow:
        async def approve(self, request: Any) -> Any:
            raise AssertionError("only read tools here")

    agent = Agent(provider, builtin_tools(Workspace(root)), Allow(), sink, meter,
                  system=system_prompt(root), context=manager)
    return await agent.run(prompt, history or []), recorder, manager


def budget_of(manager: ContextManager, request: Any) -> int:
    return manager.window.tokens - request.max_tokens


async def test_three_big_reads_fit_a_6000_token_window(tmp_path: Path) -> None:
    names = ["a.py", "b.py", "c.py"]
    write_numbered_files(tmp_path, names)
    provider = SummarizingProvider(read_steps(names, "They define functions."))
    result, _recorder, _manager = await run(tmp_path, provider, 6000)
    assert result.stop_reason == "end_turn"
    for request in provider.requests:
        assert estimate_request(request) + request.max_tokens <= 6000
    last = provider.requests[-1]
    # the latest result was cut before it was sent, with a way to read the cut lines
    assert "bigger than the model's context window allows" in last.messages[-1].text
    assert 'read_file(path="c.py", offset=' in last.messages[-1].text
    # the older ones were shortened, saying so; the first instruction is there verbatim
    assert "old tool result shortened" in last.messages[2].text
    assert last.messages[0].text == FIRST
    # the loop's own messages are untouched: the store keeps the full results
    assert len(result.messages[2].text) > 50_000


async def test_two_hundred_turns_compact_and_keep_the_first_instruction(tmp_path: Path) -> None:
    names = [f"f{i:03}.py" for i in range(12)]
    write_numbered_files(tmp_path, names, lines=120)
    steps = read_steps([names[i % len(names)] for i in range(199)], "All read.")
    provider = SummarizingProvider(steps)
    result, recorder, _manager = await run(tmp_path, provider, 6000)
    assert result.stop_reason == "end_turn" and result.num_turns == 200
    assert all(estimate_request(r) + r.max_tokens <= 6000 for r in provider.requests)
    assert all(estimate_request(r) + r.max_tokens <= 6000 for r in provider.summaries)
    compactions = recorder.of(COMPACTION)
    assert compactions and len(compactions) == len(provider.summaries)
    assert all(c.data["prompts"] == [FIRST] for c in compactions)
    last = provider.requests[-1]
    assert is_summary(last.messages[0]) and FIRST in last.messages[0].text
    assert last.messages[-1].role == "tool"  # the latest exchange, whole
    # each compaction's usage is counted, marked as such
    assert len([e for e in recorder.of(USAGE) if e.data.get("purpose") == "compaction"]) \
        == len(compactions)
    # far fewer compactions than turns: after one there is room for many turns
    assert len(compactions) < 40


async def test_a_resumed_session_sends_the_compacted_form(tmp_path: Path) -> None:
    names = [f"g{i}.py" for i in range(30)]
    write_numbered_files(tmp_path, names, lines=100)
    provider = SummarizingProvider(read_steps(names, "Read them all."))
    result, recorder, manager = await run(tmp_path, provider, 6000)
    events = recorder.events
    for seq, event in enumerate(events, 1):
        event.seq = seq
    assert recorder.of(COMPACTION)
    history = rebuild_messages(events)
    # what the model last saw: the summary, then the loop's messages from the offset on
    assert history[0].to_dict() == manager.summary.to_dict()  # type: ignore[union-attr]
    assert [m.to_dict() for m in history[1:]] == [
        m.to_dict() for m in result.messages[manager.offset:]]
    # the full history stays: every read is still in the log, and rebuild can show it whole
    full = rebuild_messages(events, full=True)
    assert len([m for m in full if m.role == "tool"]) == len(names)

    # go on: a new run with the rebuilt history and a manager carrying the old record
    second = SummarizingProvider(read_steps(names[:25], "Read again."))
    resumed = manager_for(events, Window(6000, source="config"))
    result2, recorder2, _ = await run(tmp_path, second, 6000, "Now read them again.",
                                      history, manager=resumed)
    assert result2.stop_reason == "end_turn"
    first = second.requests[0].messages
    assert first[0].to_dict() == history[0].to_dict()
    assert first[-1].text == "Now read them again."
    # a later compaction still lists both prompts, the first one from the earlier record
    later = recorder2.of(COMPACTION)
    assert later and later[-1].data["prompts"] == [FIRST, "Now read them again."]
    assert FIRST in second.requests[-1].messages[0].text
    assert "Now read them again." in second.requests[-1].messages[0].text


async def test_a_failed_summary_request_falls_back_to_a_list_of_steps(tmp_path: Path) -> None:
    names = [f"h{i}.py" for i in range(20)]
    write_numbered_files(tmp_path, names, lines=100)
    provider = SummarizingProvider(read_steps(names), fail_summary=True)
    result, recorder, _ = await run(tmp_path, provider, 6000)
    assert result.stop_reason == "end_turn"
    compaction = recorder.of(COMPACTION)[0].data
    assert compaction["summarized_by"] == "plain"
    assert "called read_file" in compaction["summary"]
    assert compaction["message"]["text"].startswith(SUMMARY_HEAD)


async def test_reported_tokens_above_the_estimate_make_room_sooner(tmp_path: Path) -> None:
    names = [f"k{i}.py" for i in range(30)]
    write_numbered_files(tmp_path, names, lines=60)

    async def first_cut(reported: Any) -> int:
        """The number of the first request in which something was shortened or compacted."""
        provider = SummarizingProvider(read_steps(names), reported=reported)
        await run(tmp_path, provider, 8000)
        return next(i for i, request in enumerate(provider.requests)
                    if any("[joiner: " in m.text for m in request.messages))

    honest = await first_cut(None)
    doubled = await first_cut(lambda request: 2 * estimate_request(request))
    assert doubled < honest  # a provider counting twice our estimate: room is made sooner


async def test_manual_compaction_keeps_only_the_latest_exchange(tmp_path: Path) -> None:
    names = ["m1.py", "m2.py", "m3.py"]
    write_numbered_files(tmp_path, names, lines=20)
    provider = SummarizingProvider(read_steps(names, "Read three."))
    result, recorder, _ = await run(tmp_path, provider, 200_000)
    assert not recorder.of(COMPACTION)  # nothing needed it
    manager = ContextManager(Window(200_000))
    manager.sink = recorder
    data = await manager.compact(result.messages, provider, "system")
    assert data is not None and data["reason"] == "manual"
    assert data["replaced"] == len(result.messages) - 1
    assert data["message"]["text"].startswith(SUMMARY_HEAD)
    nothing = await ContextManager(Window(200_000)).compact([Message.user("hi")], provider)
    assert nothing is None


async def test_a_prompt_bigger_than_the_window_is_sent_whole_with_a_warning(
        tmp_path: Path) -> None:
    provider = SummarizingProvider([{"text": "That is long."}])
    huge = "Please review this log:\n" + "error at line 12: value out of range\n" * 2000
    result, recorder, _ = await run(tmp_path, provider, 6000, huge)
    assert result.stop_reason == "end_turn"
    assert provider.requests[0].messages[0].text == huge  # a user prompt is never cut
    warnings = [e.data["message"] for e in recorder.of("warning")]
    assert len(warnings) == 1 and "more than the 6,000-token window" in warnings[0]
