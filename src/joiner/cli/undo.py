"""``joiner undo`` / ``joiner redo``: revert or re-apply the agent's last change set of a session.

Only click and the standard library at the top; the store and the engine
(``joiner.workspace.undo``) are imported inside the commands.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from joiner.cli.errors import EXIT_FAILED, EXIT_USAGE, UserError

if TYPE_CHECKING:
    from joiner.workspace.undo import ChangePlan


def _run(kind: str, session: str, preview: bool, force: bool) -> None:
    from joiner.cli.sessions import open_cli_store, resolve_id
    from joiner.sessions import StoreError
    from joiner.workspace import undo as engine

    store = open_cli_store()
    try:
        sid = resolve_id(store, session)
        try:
            if preview:
                plan = (engine.plan_undo if kind == "undo" else engine.plan_redo)(
                    store, sid, force)
            else:
                plan = (engine.apply_undo if kind == "undo" else engine.apply_redo)(
                    store, sid, force)
        except engine.NothingToDo as err:
            raise UserError(str(err), EXIT_FAILED) from None
        except engine.UndoError as err:
            raise UserError(str(err), EXIT_FAILED) from None
        except StoreError as err:
            raise UserError(str(err), EXIT_FAILED) from None
    finally:
        store.close()
    _show(plan, preview)


def _show(plan: ChangePlan, preview: bool) -> None:
    stat = plan.stat
    numbers = f"{stat.get('files', 0)} file(s), +{stat.get('added', 0)} -{stat.get('removed', 0)}"
    prompt = " ".join(plan.change_set.prompt.split())
    prompt = prompt if len(prompt) <= 60 else prompt[:59] + "…"
    if preview:
        click.echo(plan.diff, nl=False)
        verb = "would undo" if plan.kind == "undo" else "would redo"
        if plan.resuming:
            verb += " (finishing an interrupted run)"
        click.echo(f"joiner: {verb} the changes of prompt {prompt!r}: {numbers}; nothing was "
                   "changed", err=True)
        if plan.conflicts:
            shown = ", ".join(f"{f.path} ({f.conflict})" for f in plan.files if f.conflict)
            click.echo(f"joiner: conflicts (need --force): {shown}", err=True)
        return
    done = "Undid" if plan.kind == "undo" else "Redid"
    if plan.resuming:
        done += " (finished an interrupted run)"
    lines = [f"{done} the changes of prompt {prompt!r}: {numbers}"]
    for planned in plan.files:
        note = f"  {planned.action:8} {planned.path}"
        if planned.conflict:
            note += f"  (forced: {planned.conflict})"
        lines.append(note)
    click.echo("\n".join(lines), err=True)
    sys.stderr.flush()


_SESSION = click.option("--session", "session", metavar="ID", required=True,
                        help="The session (a unique prefix of its id is enough).")
_PREVIEW = click.option("--preview", is_flag=True,
                        help="Print the diff that would be applied; change nothing.")
_FORCE = click.option("--force", is_flag=True,
                      help="Overwrite files changed by someone else since.")


@click.command("undo")
@_SESSION
@_PREVIEW
@_FORCE
def undo(session: str, preview: bool, force: bool) -> None:
    """Revert the agent's most recent change set (one prompt's changes) in a session.

    Repeated, it walks further back; files get back their exact bytes and modes.
    """
    if not session.strip():
        raise UserError("--session needs a session id", EXIT_USAGE)
    _run("undo", session, preview, force)


@click.command("redo")
@_SESSION
@_PREVIEW
@_FORCE
def redo(session: str, preview: bool, force: bool) -> None:
    """Re-apply the change set the last undo reverted."""
    if not session.strip():
        raise UserError("--session needs a session id", EXIT_USAGE)
    _run("redo", session, preview, force)
