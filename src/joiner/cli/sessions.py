"""``joiner sessions list|show|export|fork|delete``: the recorded sessions.

Only click and the standard library are imported here at the top; the store and
Rich are imported inside the commands so ``joiner --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from joiner.cli.errors import EXIT_FAILED, EXIT_USAGE, UserError

if TYPE_CHECKING:
    from joiner.sessions import SessionInfo, Store


def open_cli_store() -> Store:
    """The user's store, or one clear line (exit 1) if it cannot be used."""
    from joiner.sessions import StoreError, open_store

    try:
        return open_store()
    except StoreError as err:
        raise UserError(str(err), EXIT_FAILED) from None


def resolve_id(store: Store, prefix: str) -> str:
    from joiner.sessions import StoreError

    try:
        return store.resolve(prefix)
    except StoreError as err:
        raise UserError(str(err), EXIT_USAGE) from None


def current_workspace() -> str:
    from joiner.workspace.root import find_workspace

    return str(find_workspace(Path.cwd()))


def list_sessions(store: Store, all_workspaces: bool, limit: int | None) -> list[SessionInfo]:
    """What ``sessions list`` shows: this workspace's sessions (or all), newest first."""
    return store.list(None if all_workspaces else current_workspace(), limit=limit or None)


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


@click.group("sessions")
def sessions() -> None:
    """The recorded sessions: list, show, export, fork, delete (ids by unique prefix)."""


@sessions.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--all", "all_", is_flag=True, help="Sessions of every workspace.")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="At most N sessions (0: no limit).")
def list_command(as_json: bool, all_: bool, limit: int) -> None:
    """This workspace's sessions, newest first."""
    store = open_cli_store()
    try:
        found = list_sessions(store, all_, limit)
    finally:
        store.close()
    if as_json:
        _print_json([s.to_dict() for s in found])
        return
    from joiner.cli.sessions_view import print_list

    print_list(found, show_workspace=all_)


@sessions.command("show")
@click.argument("session_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show_command(session_id: str, as_json: bool) -> None:
    """One session: prompts, answers, tool calls, files read and modified, usage."""
    from joiner.sessions.details import session_details

    store = open_cli_store()
    try:
        sid = resolve_id(store, session_id)
        details = session_details(store.get(sid), store.events(sid))
    finally:
        store.close()
    if as_json:
        _print_json(details)
        return
    from joiner.cli.sessions_view import print_session

    print_session(details)


@sessions.command("export")
@click.argument("session_id", metavar="ID")
@click.option("--format", "fmt", type=click.Choice(["json", "markdown"]), default="json",
              show_default=True, help="json: everything, events included; markdown: a transcript.")
def export_command(session_id: str, fmt: str) -> None:
    """The whole session to stdout."""
    from joiner.sessions.details import event_dict, session_details

    store = open_cli_store()
    try:
        sid = resolve_id(store, session_id)
        events = store.events(sid)
        details = session_details(store.get(sid), events, result_limit=None)
    finally:
        store.close()
    if fmt == "markdown":
        from joiner.sessions.export import to_markdown

        click.echo(to_markdown(details), nl=False)
    else:
        _print_json({**details, "events": [event_dict(e) for e in events]})


@sessions.command("fork")
@click.argument("session_id", metavar="ID")
def fork_command(session_id: str) -> None:
    """A new session with a copy of ID's history; prints the new id."""
    store = open_cli_store()
    try:
        new_id = store.fork(resolve_id(store, session_id))
    finally:
        store.close()
    click.echo(new_id)


@sessions.command("delete")
@click.argument("session_id", metavar="ID")
@click.option("--force", is_flag=True, help="Delete it even while a process is running it.")
def delete_command(session_id: str, force: bool) -> None:
    """Remove the session and everything recorded for it."""
    from joiner.sessions import StoreError

    store = open_cli_store()
    try:
        sid = resolve_id(store, session_id)
        info = store.get(sid)
        if info.status == "running" and not force:
            raise UserError(f"session {sid[:12]} is running (pid {info.pid} on {info.host}); "
                            "stop it first, or use --force", EXIT_FAILED)
        try:
            store.delete(sid)
        except StoreError as err:
            raise UserError(str(err), EXIT_FAILED) from None
    finally:
        store.close()
    click.echo(f"Deleted session {sid}.", err=True)
