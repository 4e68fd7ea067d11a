"""An MCP ``CallToolResult`` as the text of a tool result.

Text blocks are kept as they are; images and audio become a one-line note (the model gets no
pixels through a text tool result); embedded text resources are inlined; binary resources and
resource links become notes. A result larger than ``MAX_CHARS`` is cut with a note.
"""

from __future__ import annotations

import json
from typing import Any

from joiner.core import ToolOutput

MAX_CHARS = 100_000


def _decoded_size(data: str) -> int:
    """Bytes of a base64 string without decoding it."""
    data = data.strip()
    return max(0, len(data) * 3 // 4 - data[-2:].count("="))


def _resource(resource: Any) -> str:
    mime = getattr(resource, "mime_type", None) or "unknown type"
    text = getattr(resource, "text", None)
    if isinstance(text, str):
        return f"[resource: {resource.uri}]\n{text}"
    return f"[resource: {resource.uri}, {mime}, {_decoded_size(resource.blob)} bytes]"


def block_text(block: Any) -> str:
    """One content block as text."""
    kind = getattr(block, "type", None)
    if kind == "text":
        return str(block.text)
    if kind in ("image", "audio"):
        return f"[{kind}: {block.mime_type}, {_decoded_size(block.data)} bytes]"
    if kind == "resource":
        return _resource(block.resource)
    if kind == "resource_link":
        name = f" ({block.name})" if getattr(block, "name", None) else ""
        return f"[resource link: {block.uri}{name}]"
    return f"[{kind or type(block).__name__} content]"


def result_output(result: Any, max_chars: int = MAX_CHARS) -> ToolOutput:
    """A ``CallToolResult`` as a ``ToolOutput``; ``isError`` marks it an error."""
    parts = [block_text(block) for block in result.content]
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    text = "\n".join(parts)
    if len(text) > max_chars:
        text = (text[:max_chars] + f"\n[joiner: the result was cut: {len(text) - max_chars} more "
                "characters not shown]")
    if result.is_error and not text:
        text = "the tool reported an error without a message"
    return ToolOutput(text, is_error=bool(result.is_error))
