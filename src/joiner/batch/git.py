"""Running git for batch copies: plain output whatever the user's git config says."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_TIMEOUT_S = 600.0
# Settings that keep patches plain and applicable whatever the user's git config says.
_GIT_CONFIG = ("-c", "core.quotepath=false", "-c", "diff.noprefix=false",
               "-c", "diff.mnemonicPrefix=false", "-c", "core.hooksPath=/dev/null",
               "-c", "commit.gpgSign=false", "-c", "user.name=joiner batch",
               "-c", "user.email=batch@joiner.invalid", "-c", "advice.detachedHead=false")


class WorkdirError(Exception):
    """A task's copy cannot be made; the message is one line for the user."""


def git(args: list[str], cwd: Path, check: bool = True,
        stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
                 "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CEILING_DIRECTORIES"):
        env.pop(name, None)
    try:
        done = subprocess.run(["git", *_GIT_CONFIG, *args], cwd=cwd, env=env, input=stdin,
                              capture_output=True, timeout=GIT_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise WorkdirError("git is not installed; batch runs need it to copy repositories "
                           "and compute patches") from None
    except subprocess.TimeoutExpired:
        raise WorkdirError(f"git {args[0]} took over {GIT_TIMEOUT_S:.0f}s in {cwd}") from None
    if check and done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise WorkdirError(f"git {args[0]} failed in {cwd}: "
                           f"{reason[-1] if reason else f'exit {done.returncode}'}")
    return done
