"""Context management: keeping long sessions inside the model's context window.

Public API (the runtime wires it; other rooms use only these names):

- ``resolve_window(spec, config, provider) -> Window | None``: the model's context window
  (``[models."SPEC"] context_window`` in config, the provider's own, the built-in table);
  ``WindowConfigError`` for a bad config value.
- ``ContextManager(window, sink=, meter=, retry=, files_changed=, previous=)``: the core's
  ``ContextFitter`` (``fit``) and an ``EventSink`` (put it in the run's fan-out);
  ``await manager.compact(messages, provider, system, tools)`` compacts by hand.
- ``manager_for(events, window, ...)``: a manager that carries on a session's earlier
  compactions and files changed, from its stored events.
- ``repo_overview(root) -> str``: the repository overview for the system prompt (cached);
  ``prefetch_overview(root)`` starts it in a thread.
- ``estimate_request(request)`` / ``estimate_text(text)``: token estimates.
- ``COMPACTION``: the event type; ``is_summary(message)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from joiner.context.compaction import CompactionRecord, files_changed, is_summary, latest_record
from joiner.context.estimate import estimate_request, estimate_text
from joiner.context.fitter import ContextManager
from joiner.context.overview import prefetch_overview, repo_overview
from joiner.context.windows import (
    DEFAULT_WINDOW,
    Window,
    WindowConfigError,
    builtin_window,
    resolve_window,
)
from joiner.core.events import COMPACTION, Event


def manager_for(events: Sequence[Event], window: Window | None, **options: Any
                ) -> ContextManager:
    """A ``ContextManager`` for a session whose stored events are ``events``."""
    return ContextManager(window, files_changed=files_changed(events),
                          previous=latest_record(events), **options)


__all__ = [
    "COMPACTION",
    "DEFAULT_WINDOW",
    "CompactionRecord",
    "ContextManager",
    "Window",
    "WindowConfigError",
    "builtin_window",
    "estimate_request",
    "estimate_text",
    "is_summary",
    "manager_for",
    "prefetch_overview",
    "repo_overview",
    "resolve_window",
]
