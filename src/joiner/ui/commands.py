"""The TUI's commands: one function each, run by slash commands and the Ctrl+P palette alike.

A command whose backend has not landed in this build says so in one line rather than
pretend. Commands that change the session wait for the running turn to end.
"""

from __future__ import annotations

import importlib
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from joiner.config import PERMISSION_MODES

if TYPE_CHECKING:
    from joiner.ui.app import JoinerApp

CommandFn = Callable[["JoinerApp", str], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    run: CommandFn
    usage: str = ""  # the argument it takes, e.g. "NAME"
    changes_session: bool = False


def _optional(module: str) -> Any | None:
    """A backend module of another room, or None while it has not landed."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name and module.startswith(err.name):
            return None
        raise


# -- the command functions ------------------------------------------------------------------------
async def cmd_help(app: JoinerApp, arg: str) -> None:
    lines = [f"/{c.name}{' ' + c.usage if c.usage else ''} — {c.summary}"
             for c in COMMANDS.values()]
    keys = ("Keys: Enter send · Ctrl+J newline · ↑/↓ history · Esc interrupt · Ctrl+P palette · "
            "Ctrl+O workflow · Ctrl+T theme · Ctrl+Q quit")
    app.notice("\n".join([*lines, keys]))


async def cmd_quit(app: JoinerApp, arg: str) -> None:
    await app.action_quit()


async def cmd_clear(app: JoinerApp, arg: str) -> None:
    if app.switch_session(resume=None, continue_=False, fresh=True):
        app.notice("New session. The previous one is kept: /resume ID to go back to it.")


async def cmd_model(app: JoinerApp, arg: str) -> None:
    if not arg:
        app.notice(f"Model: {app.session.model if app.session else '?'}. Usage: /model "
                   "PROVIDER/NAME, e.g. /model openai/gpt-5")
        return
    if app.switch_session(model=arg):
        app.notice(f"Model switched to {arg}; the conversation goes on.")


async def cmd_mode(app: JoinerApp, arg: str) -> None:
    if arg not in PERMISSION_MODES:
        app.notice(f"Usage: /mode MODE, one of: {', '.join(PERMISSION_MODES)}", "warning")
        return
    if app.set_mode(arg):
        app.notice(f"Permission mode: {arg}.")


async def cmd_budget(app: JoinerApp, arg: str) -> None:
    if not arg:
        app.notice("Usage: /budget X (US dollars for this session, e.g. /budget 0.50)", "warning")
        return
    if app.switch_session(max_budget_usd=arg):
        app.notice(f"Budget set to ${float(arg):g} for this session.")


async def cmd_resume(app: JoinerApp, arg: str) -> None:
    if not arg:
        app.notice("Usage: /resume ID (a unique prefix is enough; joiner sessions list shows ids)",
                   "warning")
        return
    if app.switch_session(resume=arg, continue_=False):
        app.load_history()


async def cmd_fork(app: JoinerApp, arg: str) -> None:
    session = app.require_recorded_session()
    if session is None:
        return
    fork = getattr(session.store, "fork", None)
    if fork is None:
        app.notice("Fork is not available in this build yet (the session store has no fork).",
                   "warning")
        return
    new_id = fork(session.session_id)
    if app.switch_session(resume=new_id, continue_=False):
        app.notice(f"Forked into session {new_id[:8]}; the original {session.session_id[:8]} "
                   "is unchanged.")


async def cmd_export(app: JoinerApp, arg: str) -> None:
    session = app.require_recorded_session()
    if session is None:
        return
    export = _optional("joiner.sessions.export")
    render = getattr(export, "export_markdown", None) if export else None
    if render is None:
        app.notice("Export is not available in this build yet (joiner.sessions.export has not "
                   "landed); joiner sessions export ID will do it.", "warning")
        return
    path = session.workspace / (arg or f"joiner-session-{session.session_id[:8]}.md")
    path.write_text(render(session.store, session.session_id), encoding="utf-8")
    app.notice(f"Exported the session to {path}.")


async def cmd_replay(app: JoinerApp, arg: str) -> None:
    session_id = arg or (app.session.session_id if app.session else None)
    if not session_id:
        app.notice("Nothing to replay yet: send a prompt first, or /replay ID.", "warning")
        return
    await app.open_replay(session_id)


async def _undo_or_redo(app: JoinerApp, which: str, arg: str) -> None:
    """Preview the change set's diff in a modal, then apply it (``force`` overrides
    conflicts with files changed by someone else since)."""
    session = app.require_recorded_session()
    if session is None:
        return
    engine = _optional("joiner.workspace.undo")
    if engine is None:
        app.notice(f"{which.capitalize()} is not available in this build yet.", "warning")
        return
    force = arg.strip() == "force"
    plan_fn = engine.plan_undo if which == "undo" else engine.plan_redo
    apply_fn = engine.apply_undo if which == "undo" else engine.apply_redo
    try:
        plan = plan_fn(session.store, session.session_id, force)
    except engine.UndoError as err:  # nothing to undo, a moved workspace…: its one line
        app.notice(str(err), "warning")
        return
    if plan.conflicts and not force:
        app.notice(f"{which.capitalize()} would overwrite changes made since: "
                   f"{', '.join(plan.conflicts)}. /{which} force overrides.", "warning")
        return
    stat = plan.stat
    prompt = " ".join(plan.change_set.prompt.split())[:60]
    question = (f"{which.capitalize()} the changes of {prompt!r}: {stat.get('files', 0)} file(s),"
                f" +{stat.get('added', 0)} -{stat.get('removed', 0)}?")
    if not await app.confirm(f"{which.capitalize()} — preview", question, plan.diff):
        app.notice(f"{which.capitalize()} cancelled; nothing changed.")
        return
    try:
        done = apply_fn(session.store, session.session_id, force)
    except engine.UndoError as err:
        app.notice(str(err), "error")
        return
    files = ", ".join(f"{f.action} {f.path}" for f in done.files)
    app.notice(f"{'Undid' if which == 'undo' else 'Redid'} the changes of {prompt!r}: {files}.")


async def cmd_undo(app: JoinerApp, arg: str) -> None:
    await _undo_or_redo(app, "undo", arg)


async def cmd_redo(app: JoinerApp, arg: str) -> None:
    await _undo_or_redo(app, "redo", arg)


async def cmd_compact(app: JoinerApp, arg: str) -> None:
    session = app.require_recorded_session()
    compact = getattr(session, "compact", None) if session else None
    if session is None or compact is None:
        if session is not None:
            app.notice("Compact is not available in this build yet.", "warning")
        return
    app.status.set_activity("compacting…")
    try:
        data = await compact([app.sink])
    except Exception as err:  # the model request failed: say it, change nothing
        app.notice(f"Compact failed: {err}", "error")
        return
    finally:
        app.status.set_activity("")
    if not data:
        app.notice("Nothing to compact yet.")
        return
    app.notice(f"Compacted {data.get('replaced', '?')} messages into a summary: context "
               f"{data.get('tokens_before', '?')} → {data.get('tokens_after', '?')} tokens.")


async def cmd_workflow(app: JoinerApp, arg: str) -> None:
    app.action_toggle_workflow()


async def cmd_theme(app: JoinerApp, arg: str) -> None:
    app.action_toggle_theme()


COMMANDS: dict[str, Command] = {c.name: c for c in [
    Command("help", "commands and keys", cmd_help),
    Command("undo", "revert the agent's last change set, after a preview", cmd_undo,
            "[force]", True),
    Command("redo", "re-apply the last undone change set, after a preview", cmd_redo,
            "[force]", True),
    Command("model", "switch model, keeping the conversation", cmd_model, "NAME", True),
    Command("mode", "permission mode: " + "|".join(PERMISSION_MODES), cmd_mode, "MODE"),
    Command("budget", "cap this session's cost in USD", cmd_budget, "X", True),
    Command("resume", "go on in another session", cmd_resume, "ID", True),
    Command("fork", "a new session with a copy of this one's history", cmd_fork, "", True),
    Command("export", "write this session as Markdown to a file", cmd_export, "[FILE]"),
    Command("replay", "the session's timeline, step by step", cmd_replay, "[ID]"),
    Command("compact", "summarize the conversation to free context", cmd_compact, "", True),
    Command("clear", "start a new session (this one is kept)", cmd_clear, "", True),
    Command("workflow", "show or hide the workflow panel", cmd_workflow),
    Command("theme", "switch between light and dark", cmd_theme),
    Command("quit", "leave Joiner", cmd_quit),
]}


def parse_slash(line: str) -> tuple[Command | None, str, str]:
    """``/model openai/x`` → (the command, its argument, the name typed)."""
    name, _, arg = line[1:].strip().partition(" ")
    arg = arg.strip()
    if len(arg) > 1 and arg[0] in "'\"":
        try:
            arg = " ".join(shlex.split(arg))
        except ValueError:
            pass
    return COMMANDS.get(name.lower()), arg, name


# -- the palette ----------------------------------------------------------------------------------
def palette_entries() -> list[tuple[str, str, str]]:
    """(title, help, slash line) for every palette entry; argument commands prefill the input."""
    entries: list[tuple[str, str, str]] = []
    for command in COMMANDS.values():
        if command.name == "mode":
            entries += [(f"Permission mode: {m}", f"switch to {m}", f"/mode {m}")
                        for m in PERMISSION_MODES]
        elif command.usage and not command.usage.startswith("["):
            entries.append((f"{command.name.capitalize()}…", command.summary,
                            f"/{command.name} "))
        else:
            entries.append((command.name.capitalize(), command.summary, f"/{command.name}"))
    return entries


class JoinerCommands(Provider):
    """Ctrl+P: every Joiner command, running the same function as its slash command."""

    def _run(self, line: str) -> None:
        app: Any = self.app
        if line.endswith(" "):
            app.prefill(line)  # needs an argument: type it in the prompt
        else:
            app.run_command_line(line)

    async def discover(self) -> Hits:
        for title, help_text, line in palette_entries():
            yield DiscoveryHit(title, partial(self._run, line), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, line in palette_entries():
            score = max(matcher.match(title), matcher.match(line))
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, line),
                          text=title, help=help_text)
