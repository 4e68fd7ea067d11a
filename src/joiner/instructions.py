"""``AGENTS.md``: the user's and the project's standing instructions for the model.

Read, in this order (the nearest last, so it has the final word):

1. the user's own ``AGENTS.md`` in the config dir (``$JOINER_HOME`` or ``~/.config/joiner``);
2. ``AGENTS.md`` in each directory from the git root down to the current directory (the
   workspace root included; without git, just the workspace root and down to the current
   directory).

A file larger than ``MAX_BYTES`` is cut (at a line end) and the prompt says so; an unreadable
or empty file is skipped. The TUI shows the list (``load_instructions``); the runtime adds
``instruction_sections`` to the system prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FILENAME = "AGENTS.md"
MAX_BYTES = 32 * 1024


@dataclass(frozen=True, slots=True)
class Instruction:
    path: Path
    text: str  # the file's text, cut to MAX_BYTES when ``truncated``
    truncated: bool = False
    size: int = 0  # the whole file's size in bytes


def git_root(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def _directories(workspace: Path, cwd: Path) -> list[Path]:
    """The directories whose AGENTS.md count, outermost first."""
    workspace = workspace.resolve()
    top = git_root(workspace) or workspace
    nearest = cwd.resolve()
    if not nearest.is_relative_to(workspace):
        nearest = workspace
    chain = [nearest, *(p for p in nearest.parents if p.is_relative_to(top))]
    return list(reversed(chain))


def read_instruction(path: Path, max_bytes: int = MAX_BYTES) -> Instruction | None:
    """One file, cut to ``max_bytes``; None if it is missing, unreadable or empty."""
    try:
        if not path.is_file():
            return None
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
            size = max(len(data), path.stat().st_size)
    except OSError:
        return None
    truncated = len(data) > max_bytes
    if truncated:
        data = data[:max_bytes]
        cut = data.rfind(b"\n")
        if cut > max_bytes // 2:
            data = data[: cut + 1]
    text = data.decode("utf-8", errors="replace").strip()
    if not text:
        return None
    return Instruction(path, text, truncated, size)


def load_instructions(workspace: Path, cwd: Path, *, max_bytes: int = MAX_BYTES,
                      user_dir: Path | None = None) -> list[Instruction]:
    """The AGENTS.md files for a run in ``workspace`` started from ``cwd``, nearest last."""
    if user_dir is None:
        from joiner.config import config_dir

        user_dir = config_dir()
    paths = [user_dir / FILENAME, *(d / FILENAME for d in _directories(workspace, cwd))]
    seen: set[Path] = set()
    found = []
    for path in paths:
        try:
            key = path.resolve()
        except OSError:
            continue
        if key in seen:
            continue
        seen.add(key)
        if (instruction := read_instruction(path, max_bytes)) is not None:
            found.append(instruction)
    return found


def instruction_sections(instructions: list[Instruction]) -> list[str]:
    """System-prompt sections: each file with its path; a cut file says so."""
    sections = []
    for i, item in enumerate(instructions):
        head = ("Instructions from AGENTS.md files follow (the user's, then the project's from "
                "the repository root down; a later file takes precedence).\n\n" if i == 0 else "")
        note = (f"\n\n[joiner: {item.path} is {item.size} bytes; only its first "
                f"{len(item.text.encode())} bytes are shown here. Read the file for the rest.]"
                if item.truncated else "")
        sections.append(f"{head}# {FILENAME}: {item.path}\n\n{item.text}{note}")
    return sections
