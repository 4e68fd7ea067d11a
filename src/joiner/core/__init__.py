"""The core: the agent loop, the message model and events.

The core imports nothing of the UI, the CLI or a concrete provider. It talks to
them through the small Protocols declared here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from joiner.core.events import Event
from joiner.core.messages import ModelRequest, StreamItem, ToolSpec, Usage

ToolKind = Literal["read", "edit", "execute"]


class ProviderError(Exception):
    """A model request failed. ``retryable`` errors may be tried again.

    ``partial`` holds the text streamed before the failure, if any, so it is
    never lost; ``retry_after`` is the server's hint in seconds.
    """

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        partial: str = "",
    ) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.partial = partial


@runtime_checkable
class Provider(Protocol):
    """A model. ``stream`` yields deltas for display, then one ``ModelResponse``."""

    name: str  # "PROVIDER/MODEL"

    def stream(self, request: ModelRequest) -> AsyncIterator[StreamItem]: ...


class ToolError(Exception):
    """A tool failed in a way the model should be told about (bad path, failed edit...)."""


@dataclass(slots=True)
class ToolOutput:
    """What a tool returns. ``meta`` may hold ``diff``, ``files_read``, ``files_modified``."""

    text: str
    is_error: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Tool(Protocol):
    spec: ToolSpec
    kind: ToolKind  # read: never needs approval; edit/execute: per permission mode

    async def run(self, arguments: dict[str, Any]) -> ToolOutput: ...

    async def preview(self, arguments: dict[str, Any]) -> str | None:
        """The diff the call would make (shown when asking for approval), or None."""
        ...


@dataclass(slots=True)
class ApprovalRequest:
    call_id: str
    tool: str
    kind: ToolKind
    arguments: dict[str, Any]
    diff: str | None = None


@dataclass(slots=True)
class Approval:
    allowed: bool
    reason: str = ""


class Approver(Protocol):
    """Decides whether a tool call may run. The face supplies it (TUI modal, headless mode)."""

    async def approve(self, request: ApprovalRequest) -> Approval: ...


class EventSink(Protocol):
    def emit(self, event: Event) -> None: ...


class Meter(Protocol):
    """Counts usage and cost; tells the loop when the budget is spent."""

    def record(self, usage: Usage, model: str) -> dict[str, Any]:
        """Account one request; returns the payload of its ``usage`` event."""
        ...

    def total(self) -> dict[str, Any]:
        """The run's usage so far: the four token kinds and ``cost_usd``."""
        ...

    def budget_exceeded(self) -> str | None:
        """A message if no further request may be made, else None."""
        ...


class ContextFitter(Protocol):
    """Keeps a request inside the model's context window (may summarize)."""

    async def fit(self, request: ModelRequest, provider: Provider) -> ModelRequest: ...


class FanOut:
    """An EventSink that passes each event to several sinks, in order."""

    def __init__(self, *sinks: EventSink) -> None:
        self.sinks = list(sinks)

    def emit(self, event: Event) -> None:
        for sink in self.sinks:
            sink.emit(event)


__all__ = [
    "Approval",
    "ApprovalRequest",
    "Approver",
    "ContextFitter",
    "Event",
    "EventSink",
    "FanOut",
    "Meter",
    "Provider",
    "ProviderError",
    "Tool",
    "ToolError",
    "ToolKind",
    "ToolOutput",
    "ToolSpec",
]
