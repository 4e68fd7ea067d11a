"""The terminal UI (Textual). Nothing here is imported by the core or the runtime.

``run_tui(options)`` is what ``joiner`` with no ``-p`` calls; Textual is imported only then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from joiner.runtime import RunOptions


def run_tui(options: RunOptions) -> None:
    """Open the TUI in the options' workspace; returns when the user quits.

    A configuration problem found while starting closes the app and raises
    ``joiner.cli.errors.UserError`` with its one line and exit code.
    """
    from joiner.ui.app import JoinerApp

    app = JoinerApp(options)
    app.run()
    if app.setup_error is not None:
        from joiner.cli.errors import UserError

        raise UserError(str(app.setup_error), app.setup_error.code)
