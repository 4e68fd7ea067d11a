"""The neutral, provider-independent conversation model.

Providers convert these to and from their wire formats; the store keeps them as
plain dicts (``to_dict`` / ``from_dict``) inside events, so a session recorded
with one provider can be resumed with another.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Role = Literal["user", "assistant", "tool"]


@dataclass(slots=True)
class ToolCall:
    """A tool call as the model made it; ``arguments`` is the raw JSON text."""

    id: str
    name: str
    arguments: str = "{}"

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; raises ``ValueError`` if they are not a JSON object."""
        value = json.loads(self.arguments or "{}")
        if not isinstance(value, dict):
            raise ValueError("tool arguments must be a JSON object")
        return value


@dataclass(slots=True)
class Usage:
    """Tokens of one or more model requests, exactly as the provider reported them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    estimated: bool = False

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.estimated or other.estimated,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Usage:
        return cls(**{k: d.get(k, 0 if k != "estimated" else False) for k in cls.__slots__})


@dataclass(slots=True)
class Message:
    """One message of the conversation.

    - ``user``: ``text`` is the prompt.
    - ``assistant``: ``text`` plus any ``tool_calls``.
    - ``tool``: the result of the call ``tool_call_id`` in ``text``; ``is_error`` marks failures.
    """

    role: Role
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    is_error: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"role": self.role, "text": self.text}
        if self.tool_calls:
            d["tool_calls"] = [asdict(c) for c in self.tool_calls]
        if self.tool_call_id is not None:
            d["tool_call_id"] = self.tool_call_id
            d["name"] = self.name
            d["is_error"] = self.is_error
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Message:
        return cls(
            role=d["role"],
            text=d.get("text", ""),
            tool_calls=[ToolCall(**c) for c in d.get("tool_calls", [])],
            tool_call_id=d.get("tool_call_id"),
            name=d.get("name"),
            is_error=d.get("is_error", False),
        )

    @classmethod
    def user(cls, text: str) -> Message:
        return cls("user", text)

    @classmethod
    def tool_result(cls, call: ToolCall, text: str, is_error: bool = False) -> Message:
        return cls("tool", text, tool_call_id=call.id, name=call.name, is_error=is_error)


@dataclass(slots=True)
class ToolSpec:
    """What the model is told about a tool."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(slots=True)
class ModelRequest:
    system: str
    messages: list[Message]
    tools: list[ToolSpec]
    max_tokens: int = 8192


StopReason = Literal["end_turn", "tool_use", "max_tokens", "error"]


@dataclass(slots=True)
class ModelResponse:
    """The whole answer of one model request, built by the provider from its stream."""

    message: Message
    usage: Usage
    stop_reason: str = "end_turn"
    model: str = ""


# Items a provider's stream yields: deltas for display, then exactly one ModelResponse.
@dataclass(slots=True)
class TextDelta:
    text: str


@dataclass(slots=True)
class ToolCallDelta:
    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


StreamItem = TextDelta | ToolCallDelta | ModelResponse
