"""Helpers for the TUI tests: scripts and pilot waits."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

EDIT_STEPS: list[Any] = [
    {"text": "Let me look at `calc.py`.\n\n",
     "tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}]},
    {"text": "", "tool_calls": [{"name": "edit_file", "arguments": {
        "path": "calc.py", "old_string": "a - b", "new_string": "a + b"}}]},
    {"text": "Fixed **add**: it subtracted.\n\n```python\ndef add(a, b):\n    return a + b\n```\n",
     "usage": {"input_tokens": 1200, "output_tokens": 80}},
]


async def wait_for(pilot: Any, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds (fails the test after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.02)


async def started(pilot: Any) -> None:
    await wait_for(pilot, lambda: pilot.app.session is not None)


async def send(pilot: Any, text: str) -> None:
    """Type ``text`` in the prompt and press Enter, as a user would."""
    await started(pilot)
    pilot.app.prompt.focus()
    await pilot.press(*text)
    await pilot.press("enter")


async def finish_turn(pilot: Any) -> None:
    await wait_for(pilot, lambda: not pilot.app.busy)
    await pilot.pause(0.1)  # the last batched flush
