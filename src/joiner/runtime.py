"""Builds a ready-to-run session from options and config: the one place that wires the rooms.

Used by every face: the headless CLI, the TUI and batch runs.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joiner.config import ConfigError, default_model, load_config, provider_settings
from joiner.core import Approval, ApprovalRequest, EventSink, FanOut
from joiner.core.loop import Agent, RunResult
from joiner.core.retry import RetryPolicy

AskCallback = Callable[[ApprovalRequest], Awaitable[Approval]]


class SetupError(Exception):
    """A run cannot start (or go on: the session store failed mid-run); ``code`` 2 for bad
    usage/config, 1 for an environment failure."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class RunOptions:
    model: str | None = None
    permission_mode: str | None = None
    resume: str | None = None
    continue_: bool = False
    max_budget_usd: float | None = None
    max_turns: int | None = None
    cwd: Path = field(default_factory=Path.cwd)


def parse_budget(value: Any) -> float | None:
    """The cost room's reading of a budget, with 0 refused too: it would allow no request."""
    from joiner.cost.errors import BudgetError
    from joiner.cost.meter import parse_budget as read_budget

    try:
        budget = read_budget(value)
    except BudgetError:
        budget = 0.0
    if budget == 0:
        raise SetupError(f"--max-budget-usd must be a positive number of US dollars (e.g. "
                         f"0.50), not {value!r}")
    return budget


RETRY_KEYS = {"attempts": int, "base_delay": float, "max_delay": float, "max_total_wait": float}


def retry_policy(section: Any) -> RetryPolicy:
    """The ``[retry]`` table as a policy; a wrong value is a ``SetupError`` (exit 2) naming it.
    (``idle_timeout``, also in ``[retry]``, goes to the HTTP providers.)"""
    if not isinstance(section, dict):
        raise SetupError("[retry] in config must be a table (e.g. attempts = 4)")
    policy = RetryPolicy()
    for key, kind in RETRY_KEYS.items():
        value = section.get(key)
        if value is None:
            continue
        number = isinstance(value, int | float) and not isinstance(value, bool) \
            and math.isfinite(value)
        if kind is int and not (number and value == int(value) and value >= 1):
            raise SetupError(f"[retry] {key} in config must be a whole number >= 1, "
                             f"not {value!r}")
        if kind is float and not (number and value >= 0):
            raise SetupError(f"[retry] {key} in config must be a number of seconds >= 0, "
                             f"not {value!r}")
        setattr(policy, key, kind(value))
    return policy


class Session:
    """One session of one workspace: its store log, its model, its tools; runs prompts."""

    def __init__(self, options: RunOptions, ask: AskCallback | None = None,
                 warn: Callable[[str], None] | None = None) -> None:
        from joiner.workspace.root import find_workspace

        self.options = options
        self.workspace = find_workspace(options.cwd)
        self.warn = warn or (lambda line: None)
        try:
            self.config = load_config(self.workspace)
        except ConfigError as err:
            raise SetupError(str(err)) from None
        self.permission_mode = (options.permission_mode or self.config.get("permission_mode")
                                or "default")
        self.max_turns = options.max_turns or self.config.get("max_turns")
        self.budget = parse_budget(options.max_budget_usd if options.max_budget_usd is not None
                                   else self.config.get("max_budget_usd"))
        self.retry = retry_policy(self.config.get("retry", {}))
        self.ask = ask
        self._open_store()
        self.model = self._choose_model()
        self.provider = self._make_provider(self.model)
        self.builtin_tools = self._builtin_tools()
        from joiner.workspace.permissions import PermissionGate

        self.gate = PermissionGate(self.permission_mode, ask)
        self._servers: Any = None  # the MCP servers, kept while the session is entered
        self.prices = self._prices()  # a malformed [pricing] table fails here: exit 2
        self.window = self._window()  # a malformed [models."…"] context_window: exit 2
        from joiner.context import prefetch_overview

        prefetch_overview(self.workspace)  # for the system prompt, while the run sets up

    # -- set-up -------------------------------------------------------------------------------
    def _open_store(self) -> None:
        from joiner.sessions import StoreError, open_store

        try:
            self.store = open_store()
        except StoreError as err:
            raise SetupError(str(err), 1) from None
        self.session_id: str | None = None
        if self.options.resume:
            try:
                self.session_id = self.store.resolve(self.options.resume)
            except StoreError as err:
                raise SetupError(str(err)) from None
        elif self.options.continue_:
            latest = self.store.latest(str(self.workspace))
            if latest is None:
                raise SetupError("no earlier session in this workspace to continue; "
                                    "start one with joiner -p PROMPT")
            self.session_id = latest

    def _choose_model(self) -> str:
        if self.options.model:
            return self.options.model
        if self.session_id is not None:
            recorded = self.store.get(self.session_id).get("model")
            if recorded and not str(recorded).startswith("replay/"):
                return str(recorded)
        return default_model(self.config)

    def _make_provider(self, spec: str) -> Any:
        from joiner.providers import ProviderConfigError, create_provider

        try:
            return create_provider(spec, provider_settings(self.config, spec))
        except ProviderConfigError as err:
            raise SetupError(str(err)) from None
        except ConfigError as err:
            raise SetupError(str(err)) from None

    def _prices(self) -> Any:
        from joiner.cost.pricing import PricingError, price_for

        try:
            return price_for(self.model, self.config)
        except PricingError as err:
            raise SetupError(str(err)) from None

    def _window(self) -> Any:
        from joiner.context import WindowConfigError, resolve_window

        try:
            return resolve_window(self.model, self.config, self.provider)
        except WindowConfigError as err:
            raise SetupError(str(err)) from None

    def _meter(self, previous: dict[str, Any] | None) -> Any:
        from joiner.cost.meter import CostMeter

        window = self.window.tokens if self.window is not None else None
        return CostMeter(self.prices, self.budget, window, self.warn, spent=previous,
                         session_id=self.session_id)

    def _context(self, events: list[Any], sink: FanOut, meter: Any) -> Any:
        """The run's context fitter, carrying on the session's earlier compactions. It also
        reads the run's events (usage, files changed), so it joins the fan-out."""
        from joiner.context import manager_for

        manager = manager_for(events, self.window, sink=sink, meter=meter, retry=self.retry)
        sink.sinks.insert(1, manager)  # after the store, before the faces
        return manager

    def _builtin_tools(self) -> list[Any]:
        from joiner.tools import builtin_tools
        from joiner.workspace.guard import Workspace

        try:
            return builtin_tools(Workspace(self.workspace), self.config.get("limits"))
        except ValueError as err:
            raise SetupError(f"[limits] in config: {err}") from None

    def _tools(self, extra: list[Any] | None = None) -> list[Any]:
        """The built-in tools plus ``extra`` (the MCP servers' tools), as the mode allows."""
        from joiner.workspace.permissions import tools_for_mode

        tools = tools_for_mode([*self.builtin_tools, *(extra or [])], self.permission_mode)
        return self._checkpointer().wrap(tools)

    def _checkpointer(self) -> Any:
        """Records what the tools change, for undo (one per session: it keeps the snapshot
        state of the workspace's shadow repository between runs)."""
        checkpointer = getattr(self, "_checkpoints", None)
        if checkpointer is None:
            from joiner.config import data_dir
            from joiner.workspace.checkpoints import Checkpointer
            from joiner.workspace.shadow import ShadowRepo, shadow_dir

            shadow = ShadowRepo(self.workspace, shadow_dir(data_dir(), self.workspace))
            checkpointer = self._checkpoints = Checkpointer(self.workspace, shadow, self.warn)
        return checkpointer

    def set_permission_mode(self, mode: str) -> None:
        """Switch mode mid-session (TUI); 'allow for this session' answers are kept."""
        from joiner.workspace.permissions import check_mode

        check_mode(mode)
        self.permission_mode = mode
        self.gate.mode = mode

    def _system_prompt(self) -> str:
        """The system prompt with the repository overview and the user's and the project's
        AGENTS.md."""
        from joiner.context import repo_overview
        from joiner.instructions import instruction_sections, load_instructions
        from joiner.prompt import system_prompt

        instructions = load_instructions(self.workspace, self.options.cwd)
        overview = [text] if (text := repo_overview(self.workspace)) else []
        return system_prompt(self.workspace, [*overview, *instruction_sections(instructions)])

    # -- running ------------------------------------------------------------------------------
    def ensure_session(self) -> str:
        if self.session_id is None:
            self.session_id = self.store.create_session(
                str(self.workspace), self.model, permission_mode=self.permission_mode)
        return self.session_id

    def events(self) -> list[Any]:
        return [] if self.session_id is None else list(self.store.events(self.session_id))

    def history(self, events: list[Any] | None = None) -> list[Any]:
        """The conversation to go on with (compactions applied)."""
        from joiner.sessions import rebuild_messages

        return rebuild_messages(self.events() if events is None else events)

    async def compact(self, sinks: list[EventSink] | None = None) -> dict[str, Any] | None:
        """``/compact``: summarize the session's conversation but its latest exchange now.

        The ``compaction`` event goes to the store and ``sinks``; returns its data (``replaced``,
        ``tokens_before``, ``tokens_after``, ...) or None when there is nothing to compact yet.
        """
        from joiner.sessions import StoreSink
        from joiner.workspace.permissions import tools_for_mode

        events = self.events()
        if self.session_id is None or not events:
            return None
        sink = FanOut(StoreSink(self.store, self.session_id), *(sinks or []))
        manager = self._context(events, sink, self._meter(self.spent()))
        mcp_tools = self._servers.tools if self._servers is not None else []
        offered = tools_for_mode([*self.builtin_tools, *mcp_tools], self.permission_mode)
        specs = [tool.spec for tool in offered]  # what the next request will carry
        return await manager.compact(self.history(events), self.provider, self._system_prompt(),
                                     specs)

    def spent(self) -> dict[str, Any] | None:
        if self.session_id is None:
            return None
        from joiner.sessions import usage_totals

        return usage_totals(self.store, self.session_id)

    async def __aenter__(self) -> Session:
        """Inside ``async with session:`` the MCP servers stay up across runs (the TUI)."""
        await self._start_servers()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _start_servers(self) -> Any:
        if self._servers is None:
            from joiner.mcp import start_servers

            servers = start_servers(self.config, self.workspace, self.warn)
            await servers.start()
            self._servers = servers
        return self._servers

    async def _stop_servers(self) -> None:
        servers, self._servers = self._servers, None
        if servers is not None:
            await servers.close()

    async def aclose(self) -> None:
        """Stop the MCP servers, the checkpointer's helpers and the provider's connections."""
        await self._stop_servers()
        checkpointer = getattr(self, "_checkpoints", None)
        if checkpointer is not None:
            self._checkpoints = None
            checkpointer.close()
        close = getattr(self.provider, "aclose", None)
        if close is not None:
            await close()
        self.store.close()

    async def run(self, prompt: str, sinks: list[EventSink]) -> RunResult:
        """Answer one prompt in this session; every event goes to the store, then ``sinks``.

        Outside ``async with session:`` the MCP servers start with the run and stop after it.
        """
        from joiner.sessions import StoreError

        entered = self._servers is not None
        servers = await self._start_servers()
        try:
            return await self._run(prompt, sinks, servers.tools)
        except StoreError as err:  # the data dir is full, read-only or locked: stop here
            raise SetupError(str(err), 1) from None
        finally:
            if not entered:
                await self._stop_servers()

    async def _run(self, prompt: str, sinks: list[EventSink], mcp_tools: list[Any]) -> RunResult:
        from joiner.sessions import StoreError, StoreSink

        events = self.events()
        history = self.history(events)
        previous = self.spent()
        session_id = self.ensure_session()
        sink = FanOut(StoreSink(self.store, session_id), *sinks)
        meter = self._meter(previous)
        agent = Agent(
            self.provider,
            self._tools(mcp_tools),
            self.gate,
            sink,
            meter,
            system=self._system_prompt(),
            max_turns=self.max_turns,
            retry=self.retry,
            context=(None if self.model.startswith("replay/")  # recorded answers only
                     else self._context(events, sink, meter)),
        )
        self.store.set_status(session_id, "running", pid=os.getpid())
        result: RunResult | None = None
        try:
            result = await agent.run(prompt, history)
            return result
        finally:
            status = "interrupted" if result is None else {
                "end_turn": "done", "interrupted": "interrupted"}.get(result.stop_reason, "error")
            with contextlib.suppress(StoreError):  # never hide the run's own outcome or error
                self.store.set_status(session_id, status)
