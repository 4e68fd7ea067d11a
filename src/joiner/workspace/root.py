"""Finding the workspace root: the git root above the current directory, else the directory."""

from __future__ import annotations

from pathlib import Path


def find_workspace(cwd: Path) -> Path:
    """The nearest directory at or above ``cwd`` holding ``.git``, else ``cwd``; resolved.

    ``.git`` may be a directory or a file (worktrees and submodules). No git process is started:
    this runs at every start-up.
    """
    start = Path(cwd).resolve()
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return start
