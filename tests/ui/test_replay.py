"""The timeline replay screen on the sessions' replay engine: step, back, play, speed."""

from __future__ import annotations

from ui_support import EDIT_STEPS, finish_turn, send, wait_for

from joiner.ui.replay import ReplayApp
from joiner.ui.screens.replay import ReplayScreen, load_timeline
from joiner.ui.widgets.conversation import AssistantMessage, UserMessage
from joiner.ui.widgets.tool_block import ToolBlock


async def _recorded(make_app) -> tuple[object, str]:
    app = make_app(EDIT_STEPS, permission_mode="auto")
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "fix add")
        await finish_turn(pilot)
    return app.session.store, app.session.session_id


async def test_step_forward_and_back_rebuild_the_views(make_app) -> None:
    store, session_id = await _recorded(make_app)
    timeline = load_timeline(store, session_id[:6])
    types = [e.type for e in timeline.events]
    replay = ReplayApp(timeline)
    async with replay.run_test(size=(100, 40)) as pilot:
        screen = replay.screen
        assert isinstance(screen, ReplayScreen) and screen.position == 0
        first_prompt = types.index("user_prompt") + 1
        for _ in range(first_prompt):
            await pilot.press("right")
        assert [w.text for w in screen.conversation.query(UserMessage)] == ["fix add"]
        await pilot.press("end")
        assert screen.position == len(types)
        assert len(screen.conversation.query(ToolBlock)) == 2
        answers = [a.text for a in screen.conversation.query(AssistantMessage)]
        assert answers[-1] == EDIT_STEPS[2]["text"]
        states = [s.state for s in screen.workflow.model.steps if s.kind == "tool"]
        assert states == ["done", "done"]
        assert "M calc.py" in str(screen.files.content)
        await pilot.press("left")
        assert screen.position == len(types) - 1
        await pilot.press("home")
        assert screen.position == 0 and not screen.conversation.children
        assert "R calc.py" not in str(screen.files.content)


async def test_play_runs_to_the_end_and_speed_changes(make_app) -> None:
    store, session_id = await _recorded(make_app)
    replay = ReplayApp(load_timeline(store, session_id), speed=16.0)
    async with replay.run_test(size=(100, 40)) as pilot:
        screen = replay.screen
        await pilot.press("minus")
        assert screen.speed == 8.0
        await pilot.press("plus", "plus")
        assert screen.speed == 16.0
        await pilot.press("space")
        assert screen.playing or screen.position > 0, (screen.position, screen.focused)
        await wait_for(pilot, lambda: screen.engine.at_end, timeout=15)
        await pilot.pause(0.1)
        assert not screen.playing and "paused" in str(screen.bar.content)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not replay.is_running)


async def test_slash_replay_opens_the_screen_over_the_app(make_app) -> None:
    app = make_app(EDIT_STEPS, permission_mode="auto")
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "fix add")
        await finish_turn(pilot)
        await send(pilot, "/replay")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.press("end")
        assert app.screen.engine.at_end
        await pilot.press("q")
        await wait_for(pilot, lambda: not isinstance(app.screen, ReplayScreen))
        assert app.is_running
