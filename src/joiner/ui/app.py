"""The Joiner TUI: a conversation, the token tracker, the workflow panel and the prompt.

The session is built right after the first paint (so the window appears at once); a
configuration error then closes the app with its one line and exit code. A local model
starts loading then, shown on a line of its own until it is ready (``widgets.model_load``).
Each prompt runs ``Session.run`` in a worker; Esc cancels that worker (the agent records the
interruption and closes dangling tool calls) and the text in the input is never touched.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Footer
from textual.worker import Worker

from joiner.core import Approval, ApprovalRequest
from joiner.runtime import RunOptions, Session, SetupError
from joiner.ui.commands import JoinerCommands, parse_slash
from joiner.ui.gc_policy import freeze_survivors, refreeze_when_idle, thaw, tune_garbage_collector
from joiner.ui.markdown_render import warm_up
from joiner.ui.screens.approval import ApprovalScreen
from joiner.ui.screens.confirm import ConfirmScreen
from joiner.ui.sink import ViewSink
from joiner.ui.timers import call_after
from joiner.ui.widgets.conversation import Conversation
from joiner.ui.widgets.model_load import ModelLoadLine
from joiner.ui.widgets.prompt_input import PromptInput
from joiner.ui.widgets.status import StatusBar
from joiner.ui.widgets.tracker import TokenTracker
from joiner.ui.widgets.workflow import WorkflowView

SessionFactory = Callable[..., Session]
DARK, LIGHT = "textual-dark", "textual-light"
IDLE_S = 2.0  # after a turn or a clear: when a full garbage pass would disturb nobody


class JoinerApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Joiner"
    COMMANDS = App.COMMANDS | {JoinerCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "interrupt", "Interrupt"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+o,f2", "toggle_workflow", "Workflow"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
    ]

    def __init__(self, options: RunOptions, session_factory: SessionFactory = Session) -> None:
        super().__init__()
        self.options = options
        self.session_factory = session_factory
        self.session: Session | None = None
        self.setup_error: SetupError | None = None
        self.turn: Worker[Any] | None = None
        # tools the user allowed "for this session"; kept here because the runtime builds a
        # new permission gate for every prompt, and the user means the whole session
        self.allowed_tools: set[str] = set()
        self._entered: Session | None = None  # the session whose MCP servers we keep up
        self.conversation = Conversation(id="conversation")
        self.workflow = WorkflowView(id="workflow")
        self.tracker = TokenTracker(id="tracker")
        self.status = StatusBar(id="status")
        self.prompt = PromptInput(id="prompt")
        self.model_load = ModelLoadLine(lambda line: self.notice(line, "error"), id="model-load")
        self.sink = ViewSink(self.conversation, self.tracker, self.workflow,
                             on_activity=self.status.set_activity, on_session=self.refresh_status)

    # -- layout and start ---------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield self.status
        with Horizontal(id="main"):
            yield self.conversation
            yield self.workflow
        yield self.model_load
        yield self.tracker
        yield self.prompt
        yield Footer()

    def on_unmount(self) -> None:
        thaw()  # the app's widgets are garbage now (tests run many apps in one process)

    def on_mount(self) -> None:
        self.workflow.display = False
        self.prompt.focus()
        self.call_after_refresh(self.start_session)

    def start_session(self) -> None:
        try:
            self.session = self._build(self.options)
        except SetupError as err:
            self.setup_error = err
            self.exit(return_code=err.code)
            return
        self.status.set_activity("")
        self.refresh_status()
        self.model_load.start(getattr(self.session, "provider", None))
        if self.session.session_id is not None:
            self.load_history()
        tune_garbage_collector()
        self.call_after_refresh(warm_up, self.console, self.current_theme.dark)

    def _build(self, options: RunOptions) -> Session:
        return self.session_factory(options, ask=self.ask, warn=self.warn)

    def refresh_status(self) -> None:
        session = self.session
        if session is not None:
            self.status.set_session(session.model, session.permission_mode, session.workspace,
                                    session.session_id)
            self.tracker.budget = session.budget

    # -- talking to the user ------------------------------------------------------------------
    def notice(self, text: str, level: str = "info") -> None:
        self.conversation.add_notice(text, level)

    def warn(self, line: str) -> None:
        self.notice(line, "warning")

    async def ask(self, request: ApprovalRequest) -> Approval:
        """The permission gate's question, as a modal; cancelled with the turn (Esc)."""
        if request.tool in self.allowed_tools:
            return Approval(True, "session")
        future: asyncio.Future[Approval] = asyncio.get_running_loop().create_future()
        self.workflow.mark(request.call_id, "approval")
        block = self.conversation.tool(request.call_id)
        if block is not None:
            block.set_state("approval")
        self.status.set_activity("waiting for your approval")
        screen = ApprovalScreen(request)
        answered = False

        def decided(approval: Approval | None) -> None:
            nonlocal answered
            answered = True
            if not future.done():
                future.set_result(approval or Approval(False, "no answer"))

        self.push_screen(screen, decided)
        try:
            approval = await future
            if approval.allowed and approval.reason == "session":
                self.allowed_tools.add(request.tool)
            return approval
        finally:
            if not answered and self.screen is screen:  # the turn was interrupted meanwhile
                self.pop_screen()
            self.status.set_activity("")

    async def confirm(self, title: str, question: str, diff: str) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.push_screen(ConfirmScreen(title, question, diff),
                         lambda ok: future.done() or future.set_result(bool(ok)))
        return await future

    # -- prompts and commands -----------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.turn is not None and not self.turn.is_finished

    def on_prompt_input_submitted(self, message: PromptInput.Submitted) -> None:
        text = message.text
        if text.startswith("/"):
            message.input.clear()
            self.run_command_line(text)
        elif self.send(text):
            message.input.clear()

    def send(self, text: str) -> bool:
        if self.session is None:
            self.notice("Still starting; your prompt is kept in the input.", "warning")
            return False
        if self.busy:
            self.notice("A turn is running: Esc interrupts it. Your prompt is kept in the input.",
                        "warning")
            return False
        self.conversation.add_user(text)
        self.turn = self.run_worker(self._run_turn(self.session, text), group="turn",
                                    exit_on_error=False)
        return True

    async def _run_turn(self, session: Session, text: str) -> Any:
        self.status.set_activity("thinking…")
        try:
            if self._entered is not session and hasattr(session, "__aenter__"):
                await session.__aenter__()  # MCP servers stay up across this session's turns
                self._entered = session
            return await session.run(text, [self.sink])
        except Exception as err:  # a failure outside the loop (store, setup): say it calmly
            self.conversation.end_answer()
            self.notice(f"The run failed: {type(err).__name__}: {err}", "error")
            return None
        finally:
            self.status.set_activity("")
            self.refresh_status()
            call_after(self, IDLE_S, self._when_idle)

    def _when_idle(self) -> None:
        """A while after a turn (or a clear), with nothing running: what the turn left alive
        joins the frozen heap (``gc_policy``), out of the way of the answer's last frames."""
        if not self.busy:
            refreeze_when_idle()
            freeze_survivors()
            self.conversation.fold_soon()

    def run_command_line(self, line: str) -> None:
        command, arg, name = parse_slash(line)
        if command is None:
            self.notice(f"Unknown command /{name}; /help lists them.", "warning")
            return
        if command.changes_session and self.busy:
            self.notice(f"/{command.name} waits for the running turn: press Esc to stop it first.",
                        "warning")
            return
        self.run_worker(command.run(self, arg), group="command", exit_on_error=False)

    def prefill(self, text: str) -> None:
        self.prompt.load_text(text)
        self.prompt.move_cursor(self.prompt.document.end)
        self.prompt.focus()

    def switch_session(self, fresh: bool = False, **changes: Any) -> bool:
        """Rebuild the session with changed options, going on in the current one unless
        ``fresh`` or another ``resume`` is given. Says what went wrong on failure."""
        if self.busy:
            self.notice("Wait for the running turn to end (or press Esc).", "warning")
            return False
        options = dataclasses.replace(self.options, **changes)
        current = self.session.session_id if self.session else None
        if not fresh and "resume" not in changes and current:
            options = dataclasses.replace(options, resume=current, continue_=False)
        try:
            session = self._build(options)
        except SetupError as err:
            self.notice(str(err), "error")
            return False
        self.options, self.session = options, session
        self._leave()
        if fresh or "resume" in changes:
            self.allowed_tools.clear()
            thaw()  # the old conversation's widgets can be collected again
            self.conversation.clear_all()
            call_after(self, IDLE_S, self._when_idle)
            self.workflow.reset()
            self.tracker.show_totals(None)
        self.refresh_status()
        self.model_load.start(getattr(session, "provider", None))
        return True

    def _leave(self) -> None:
        """Close the session we entered, if it is no longer the current one."""
        old = self._entered
        if old is not None and old is not self.session:
            self._entered = None
            self.run_worker(old.aclose(), group="close", exit_on_error=False)

    def set_mode(self, mode: str) -> bool:
        """A new permission mode for the running session (its allowances are kept)."""
        if self.session is None:
            return False
        change = getattr(self.session, "set_permission_mode", None)
        if change is None:
            return self.switch_session(permission_mode=mode)
        change(mode)
        self.options = dataclasses.replace(self.options, permission_mode=mode)
        self.refresh_status()
        return True

    def require_recorded_session(self) -> Session | None:
        if self.session is None or self.session.session_id is None:
            self.notice("This session has nothing recorded yet: send a prompt first.", "warning")
            return None
        return self.session

    def load_history(self) -> None:
        """Show a resumed session as it was: its events through a non-live sink."""
        session = self.session
        if session is None or session.session_id is None:
            return
        replayed = ViewSink(self.conversation, self.tracker, self.workflow, live=False)
        with self.conversation.batch():
            for event in session.store.events(session.session_id):
                replayed.emit(event)
                if event.type == "user_prompt":
                    self.prompt.prompts.add(str(event.data.get("message", {}).get("text", "")))
        self.tracker.show_totals(session.spent())

    async def open_replay(self, session_id: str) -> None:
        from joiner.ui.screens.replay import ReplayScreen, load_timeline

        if self.session is None:
            return
        try:
            timeline = load_timeline(self.session.store, session_id)
        except Exception as err:
            self.notice(str(err), "error")
            return
        await self.push_screen(ReplayScreen(timeline))

    # -- actions ------------------------------------------------------------------------------
    def action_interrupt(self) -> None:
        if self.busy and self.turn is not None:
            self.turn.cancel()
            self.status.set_activity("interrupting…")

    def action_toggle_workflow(self) -> None:
        self.workflow.display = not self.workflow.display
        self.workflow.redraw()

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.theme == DARK else DARK

    async def action_quit(self) -> None:
        """Quit cleanly: a running turn is interrupted first, so the store records it."""
        if self.busy and self.turn is not None:
            self.turn.cancel()
            try:
                await asyncio.wait_for(self.turn.wait(), 5)
            except Exception:
                pass
        if self._entered is not None:
            try:
                await asyncio.wait_for(self._entered.aclose(), 5)
            except Exception:
                pass
        self.exit()
