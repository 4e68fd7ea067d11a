"""The system prompt: who the agent is, where it works, and the project's own instructions."""

from __future__ import annotations

import platform
from pathlib import Path

BASE = """You are Joiner, an AI pair programmer working in the user's repository through tools.
- Read before you edit: use list_files, grep and read_file to find and understand the code.
- Make focused changes with edit_file (old_string must match the file exactly once) or write_file.
- Use run_shell for tests and commands; it runs in the workspace root.
- Paths are relative to the workspace root. Keep answers short and say what you changed."""


def system_prompt(workspace: Path, extra: list[str] | None = None) -> str:
    parts = [BASE, f"Workspace root: {workspace}\nPlatform: {platform.system()}"]
    parts.extend(extra or [])
    return "\n\n".join(parts)
