"""Real runs for the undo tests: the core loop, the built-in tools wrapped by a Checkpointer with
a shadow repository in a temporary directory, and the SQLite store.

Also a script (``python undo_kit.py DB SESSION undo|redo``) so a test can kill -9 a real
process in the middle of an undo.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

from joiner.core import Approval, ApprovalRequest
from joiner.core.loop import Agent, RunResult
from joiner.core.messages import Usage
from joiner.providers.scripted import ScriptedProvider
from joiner.sessions import StoreSink, open_store, rebuild_messages
from joiner.tools import builtin_tools
from joiner.workspace.checkpoints import Checkpointer
from joiner.workspace.guard import Workspace
from joiner.workspace.shadow import ShadowRepo


class AllowAll:
    def __init__(self) -> None:
        self.requests: list[ApprovalRequest] = []

    async def approve(self, request: ApprovalRequest) -> Approval:
        self.requests.append(request)
        return Approval(True)


class Meter:
    def record(self, usage: Usage, model: str) -> dict[str, Any]:
        return {"model": model, **usage.to_dict(), "cost_usd": 0.0}

    def total(self) -> dict[str, Any]:
        return {"cost_usd": 0.0}

    def budget_exceeded(self) -> str | None:
        return None


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def steps(*calls: dict[str, Any]) -> list[dict[str, Any]]:
    """One model answer per call, then a final text answer."""
    return [*({"text": "", "tool_calls": [c]} for c in calls), {"text": "Done."}]


class Bench:
    """A workspace, a store and a session in it; ``run`` answers a prompt with scripted calls."""

    def __init__(self, root: Path, data: Path, watch: bool = True) -> None:
        self.root = root
        self.store = open_store(data / "sessions.db")
        self.session = self.store.create_session(str(root), "scripted/test", "auto")
        self.checkpointer = Checkpointer(root, ShadowRepo(root, data / "shadow", watch))
        self.approver = AllowAll()

    def run(self, prompt: str, script: list[dict[str, Any]]) -> RunResult:
        tools = self.checkpointer.wrap(builtin_tools(Workspace(self.root)))
        history = rebuild_messages(self.store.events(self.session))
        agent = Agent(ScriptedProvider(script), tools, self.approver,
                      StoreSink(self.store, self.session), Meter())
        return asyncio.run(agent.run(prompt, history))

    def close(self) -> None:
        self.checkpointer.close()
        self.store.close()


def tree_state(root: Path) -> dict[str, tuple[str, int]]:
    """Every file and link under ``root`` except ``.git``: sha256 of its bytes and its mode."""
    state: dict[str, tuple[str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in [*filenames, *(d for d in dirnames if os.path.islink(Path(dirpath, d)))]:
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            info = os.lstat(path)
            data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            state[rel] = (hashlib.sha256(data).hexdigest(), info.st_mode)
    return state


def dir_fingerprint(path: Path) -> dict[str, str]:
    """sha256 of every file under ``path`` (a .git directory), to show it was not touched."""
    out = {}
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            file = Path(dirpath, name)
            out[file.relative_to(path).as_posix()] = hashlib.sha256(file.read_bytes()).hexdigest()
    return out


def _main() -> None:
    from joiner.workspace.undo import apply_redo, apply_undo

    db, session, kind = sys.argv[1:4]
    with open_store(Path(db)) as store:
        (apply_undo if kind == "undo" else apply_redo)(store, session)
    print("finished", flush=True)


if __name__ == "__main__":
    _main()
