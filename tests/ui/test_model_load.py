"""A local model's load in the TUI: a calm line with its phase and progress while it loads
(the app stays usable), gone once the model is ready; a failure said once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from ui_support import finish_turn, send, started, wait_for

from joiner.core import ProviderError
from joiner.providers.local import LoadProgress
from joiner.runtime import RunOptions, Session
from joiner.ui.app import JoinerApp
from joiner.ui.widgets.conversation import AssistantMessage, Notice


class LoadingProvider:
    """The local provider's hooks (``load``, ``on_load_progress``, ``loaded``, ``loading``)
    on a scripted model: the load reports its phases from a thread through the loop, as
    ``providers.local`` does, and moves on when the test opens each gate."""

    def __init__(self, inner: Any, fail: bool | str = False) -> None:
        self.inner = inner
        self.name, self.model = "local/tiny-270m", "tiny-270m"
        self.context_window = getattr(inner, "context_window", 8192)
        self.on_load_progress: Any = None
        self.loaded = self.loading = False
        self.fail = fail
        self.gates = [threading.Event(), threading.Event()]
        self.loads = 0
        self.thread_ids: set[int] = set()

    def _report(self, phase: str, fraction: float, started: float) -> None:
        self.thread_ids.add(threading.get_ident())
        if self.on_load_progress is not None:
            self.on_load_progress(LoadProgress(phase, fraction, phase, time.monotonic() - started))

    async def load(self) -> None:
        if self.loaded:
            return
        self.loads += 1
        self.loading = True
        loop, started = asyncio.get_running_loop(), time.monotonic()

        def blocking() -> None:  # as ``_prepare_and_load``: in a worker thread
            loop.call_soon_threadsafe(self._report, "preparing", 0.05, started)
            self.gates[0].wait(20)
            loop.call_soon_threadsafe(self._report, "loading", 0.4, started)
            self.gates[1].wait(20)
            if self.fail == "crash":  # not one of the provider's own errors
                raise RuntimeError("llama.cpp aborted")
            if self.fail:
                raise OSError("not enough memory for the model (needs 1.2 GB)")

        try:
            await asyncio.to_thread(blocking)
        except OSError as err:
            self._report("failed", 1.0, started)
            raise ProviderError(self.name, str(err)) from None
        finally:
            self.loading = False
        self.loaded = True
        self._report("ready", 1.0, started)

    async def stream(self, request: Any) -> AsyncIterator[Any]:
        await self.load()
        async for item in self.inner.stream(request):
            yield item


def loading_app(make_app, fail: bool | str = False) -> tuple[JoinerApp, list[LoadingProvider]]:
    made: list[LoadingProvider] = []

    def factory(options: RunOptions, **kwargs: Any) -> Session:
        session = Session(options, **kwargs)
        session.provider = LoadingProvider(session.provider, fail)
        made.append(session.provider)
        return session

    plain = make_app([{"text": "Hello from the **local** model."}])
    return JoinerApp(plain.options, session_factory=factory), made


def line_text(app: JoinerApp) -> str:
    return str(app.model_load.render()) if app.model_load.display else ""


async def test_the_load_shows_its_progress_keeps_the_app_usable_and_goes_away(make_app) -> None:
    app, made = loading_app(make_app)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        provider = made[0]
        await wait_for(pilot, lambda: "Preparing local model tiny-270m" in line_text(app))
        assert "5%" in line_text(app)
        await pilot.press(*"still typing")  # the loop is free: keys land in the prompt
        assert app.prompt.text == "still typing"
        provider.gates[0].set()
        await wait_for(pilot, lambda: "Loading local model tiny-270m… 40%" in line_text(app))
        assert " s" in line_text(app)  # how long it has taken so far
        provider.gates[1].set()
        await wait_for(pilot, lambda: not app.model_load.display)
        assert provider.loaded and provider.loads == 1
        assert provider.thread_ids == {threading.get_ident()}  # reported on the loop's thread
        assert app.model_load._ticker is None
        assert not list(app.conversation.query(Notice))


async def test_a_prompt_sent_while_loading_is_answered_once_the_model_is_ready(make_app) -> None:
    app, made = loading_app(make_app)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        provider = made[0]
        await wait_for(pilot, lambda: app.model_load.display)
        await send(pilot, "hi")
        await pilot.pause(0.2)
        assert app.busy and not list(app.conversation.query(AssistantMessage))
        assert app.model_load.display  # still loading: the line says so
        provider.gates[0].set()
        provider.gates[1].set()
        await finish_turn(pilot)
        answer = app.conversation.query_one(AssistantMessage)
        assert answer.text == "Hello from the **local** model."
        assert not app.model_load.display


async def test_a_failed_load_is_said_once_and_the_line_goes(make_app) -> None:
    app, made = loading_app(make_app, fail=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        await wait_for(pilot, lambda: app.model_load.display)
        made[0].gates[0].set()
        made[0].gates[1].set()
        await wait_for(pilot, lambda: bool(list(app.conversation.query(Notice))))
        notices = [n for n in app.conversation.query(Notice)]
        assert [(n.level, n.text) for n in notices] == [
            ("error", "The local model did not load: not enough memory for the model "
                      "(needs 1.2 GB)")]
        assert not app.model_load.display


async def test_an_unexpected_load_error_is_one_line_and_the_line_goes(make_app) -> None:
    app, made = loading_app(make_app, fail="crash")
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        await wait_for(pilot, lambda: app.model_load.display)
        made[0].gates[0].set()
        made[0].gates[1].set()
        await wait_for(pilot, lambda: bool(list(app.conversation.query(Notice))))
        notices = [(n.level, n.text) for n in app.conversation.query(Notice)]
        assert notices == [("error", "The local model did not load: llama.cpp aborted")]
        await wait_for(pilot, lambda: not app.model_load.display)
        assert app.model_load._ticker is None


async def test_a_remote_model_shows_no_load_line(make_app) -> None:
    app = make_app([{"text": "hi"}])
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "hello")
        await finish_turn(pilot)
        assert not app.model_load.display and app.model_load.provider is None
