"""The command line: wiring only.

``joiner --version`` is answered before click is imported. Subcommands live in
their own modules and are imported only when used (or listed by ``--help``);
those modules import nothing heavy at the top.
"""

from __future__ import annotations

import sys

from joiner import __version__

# command name -> (module, attribute)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "tools": ("joiner.cli.tools", "tools"),
    "sessions": ("joiner.cli.sessions", "sessions"),
    "replay": ("joiner.cli.replay", "replay"),
    "undo": ("joiner.cli.undo", "undo"),
    "redo": ("joiner.cli.undo", "redo"),
    "usage": ("joiner.cli.usage", "usage"),
    "mcp": ("joiner.cli.mcp", "mcp"),
    "batch": ("joiner.cli.batch", "batch"),
}


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        print(f"joiner {__version__}")
        return
    from joiner.startup import hold_collector, release_collector

    hold_collector()  # until the command's set-up is done (see joiner.startup)
    try:
        from joiner.cli.root import run_cli

        run_cli()
    finally:
        release_collector()
