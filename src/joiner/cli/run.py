"""A run from the root command: headless with ``-p`` or piped stdin, else the TUI."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from joiner.cli.errors import UserError


def _read_prompt(options: dict[str, Any]) -> str | None:
    prompt = options.get("prompt")
    if prompt == "-" or (prompt is None and not sys.stdin.isatty()):
        prompt = sys.stdin.read()
    if prompt is not None and not prompt.strip():
        raise UserError("the prompt is empty; give one with -p PROMPT or on stdin")
    return prompt


def _setup_debug_log() -> None:
    import logging

    from joiner.config import data_dir

    path = data_dir() / "debug.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        logging.basicConfig(filename=path, level=logging.DEBUG,
                            format="%(asctime)s %(name)s %(levelname)s %(message)s")
    except OSError as err:
        raise UserError(f"cannot write the debug log {path}: {err.strerror}; set JOINER_HOME "
                        "to a writable directory", 1) from None
    print(f"joiner: debug log at {path}", file=sys.stderr)


def run_command(options: dict[str, Any]) -> None:
    from joiner.runtime import RunOptions, Session, SetupError

    if options.get("debug"):
        _setup_debug_log()
    if options.get("resume") and options.get("continue_"):
        raise UserError("use either --resume ID or --continue, not both")
    prompt = _read_prompt(options)
    run_options = RunOptions(
        model=options.get("model"),
        permission_mode=options.get("permission_mode"),
        resume=options.get("resume"),
        continue_=bool(options.get("continue_")),
        max_budget_usd=options.get("max_budget_usd"),
        max_turns=options.get("max_turns"),
        cwd=Path.cwd(),
    )
    if prompt is None:
        from joiner.ui import run_tui

        run_tui(run_options)
        return
    from joiner.headless import run_headless

    try:
        session = Session(run_options, warn=lambda line: print(f"joiner: {line}", file=sys.stderr))
        code = run_headless(session, prompt, options.get("output_format") or "text")
    except SetupError as err:  # also a session store that fails mid-run
        raise UserError(str(err), err.code) from None
    raise SystemExit(code)
