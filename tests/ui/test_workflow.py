"""The workflow panel: requests and tool calls with their states, live, toggled by Ctrl+O."""

from __future__ import annotations

from ui_support import EDIT_STEPS, finish_turn, send, started, wait_for

from joiner.core.events import Event
from joiner.ui.screens.approval import ApprovalScreen
from joiner.ui.widgets.workflow import render_steps
from joiner.ui.workflow_model import WorkflowModel


async def test_toggle_and_live_states(make_app) -> None:
    app = make_app(EDIT_STEPS)  # default mode: the edit waits for approval
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        assert not app.workflow.display
        await pilot.press("ctrl+o")
        assert app.workflow.display
        await send(pilot, "fix add")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        states = {s.label.split()[0]: s.state for s in app.workflow.model.steps}
        assert states["read_file"] == "done" and states["edit_file"] == "approval"
        assert "? edit_file calc.py  approval" in str(app.workflow.body.content)
        await wait_for(pilot, lambda: app.screen.armed)
        await pilot.press("y")
        await finish_turn(pilot)
        steps = app.workflow.model.steps
        assert [(s.kind, s.state) for s in steps] == [
            ("prompt", "done"), ("request", "done"), ("tool", "done"), ("request", "done"),
            ("tool", "done"), ("request", "done")]
        assert steps[-1].tokens == (1200, 80)
        await pilot.pause(0.3)  # the panel's clock tick
        shown = str(app.workflow.body.content)
        assert "› fix add" in shown and "1.2k→80 tok" in shown
        await pilot.press("f2")
        assert not app.workflow.display


def _event(kind: str, t: float, **data) -> Event:
    return Event(kind, data, time=t)


def test_model_states_from_events() -> None:
    model = WorkflowModel()
    model.apply(_event("user_prompt", 0.0, message={"text": "go"}))
    model.apply(_event("request_start", 0.0, turn=1))
    model.apply(_event("retry", 0.5, attempt=1, wait_s=1, error="429"))
    assert model.steps[1].state == "retrying"
    model.apply(_event("assistant_message", 2.0, message={"text": ""}))
    model.apply(_event("usage", 2.0, input_tokens=10, cache_read_tokens=5, output_tokens=3))
    model.apply(_event("tool_call", 2.0, id="a", name="run_shell", arguments='{"command":"ls"}'))
    model.apply(_event("tool_call", 2.0, id="b", name="edit_file", arguments='{"path":"x.py"}'))
    model.apply(_event("tool_call", 2.0, id="c", name="read_file", arguments='{"path":"y"}'))
    model.mark_running("c")
    model.apply(_event("approval", 2.5, id="a", name="run_shell", decision="deny"))
    model.apply(_event("tool_result", 3.0, message={"tool_call_id": "c", "is_error": True},
                       duration_ms=12.0))
    model.apply(_event("interrupted", 4.0, reason="user"))
    states = {s.key: s.state for s in model.steps}
    assert states == {"prompt:1": "done", "request:1:1": "done", "a": "refused",
                      "b": "interrupted", "c": "failed"}
    assert model.steps[1].tokens == (15, 3) and model.steps[1].elapsed_ms(99) == 2000
    assert model.steps[2].label == "run_shell $ ls"
    text = render_steps(model.steps, now=5.0).plain
    assert "⊘ run_shell $ ls  refused  0.5s" in text and "✗ read_file y  failed  0.0s" in text
