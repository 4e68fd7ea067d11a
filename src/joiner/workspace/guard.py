"""Path confinement: every path a tool touches is resolved and must stay inside the root.

``..``, absolute paths and symlinks are all resolved before the check, including for paths whose
tail does not exist yet (a new file under a symlinked directory resolves through the link), so a
link pointing outside the workspace cannot be read or written through.

A symlink swapped between the check and the use (a race with another process) is out of scope: the
guard protects against the model's paths, not against a hostile local user.
"""

from __future__ import annotations

import os
from pathlib import Path

from joiner.core import ToolError


class Workspace:
    """The workspace root and the one way tools turn a model's path into a real one."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(os.path.realpath(root))

    def resolve(self, path: str) -> Path:
        """``path`` (relative to the root, or absolute) as a real path inside the root.

        Raises ``ToolError`` if it lands outside the root or is not a usable path.
        """
        if not isinstance(path, str):
            raise ToolError(f"the path must be a string, not {type(path).__name__}")
        if "\x00" in path:
            raise ToolError(f"the path {path!r} contains a NUL character")
        candidate = os.path.expanduser(path) if path.startswith("~") else path
        try:
            real = Path(os.path.realpath(os.path.join(self.root, candidate)))
        except (OSError, ValueError) as err:
            raise ToolError(f"the path {path!r} cannot be resolved: {err}") from None
        if not real.is_relative_to(self.root):
            raise ToolError(
                f"the path {path!r} is outside the workspace {self.root} (it resolves to {real}); "
                "only files inside the workspace can be used: give a path relative to its root"
            )
        return real

    def relative(self, path: Path | str) -> str:
        """``path`` as a posix path relative to the root ("." for the root itself), for reports.

        Accepts what ``resolve`` accepts (and its results); raises ``ToolError`` outside the root.
        """
        return self.resolve(os.fspath(path)).relative_to(self.root).as_posix()

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"
