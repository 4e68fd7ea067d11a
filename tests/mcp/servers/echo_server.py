"""A small MCP server for Joiner's tests, written with the SDK's MCPServer (FastMCP in mcp 1.x).

Run as ``python echo_server.py [--garbage] [--bad-schema] [--hang] [--exit]``:

- ``--garbage``: print a line that is not JSON-RPC on stdout before serving;
- ``--bad-schema``: also offer a tool whose input schema is invalid;
- ``--hang``: never answer (a server that does not start in time);
- ``--exit``: write an error on stderr and exit 1 at once;
- ``--http PORT``: serve streamable HTTP on 127.0.0.1:PORT/mcp instead of stdio.
"""

from __future__ import annotations

import base64
import os
import sys
import time

from mcp.server.mcpserver import Context, Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import EmbeddedResource, TextResourceContents, ToolAnnotations

server = MCPServer("echo")

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def env_value(key: str) -> str:
    """The value of an environment variable of the server, or '(unset)'."""
    return os.environ.get(key, "(unset)")


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def http_header(name: str, ctx: Context) -> str:
    """The value of a header of the HTTP request (streamable HTTP only), or '(none)'."""
    request = ctx.request_context.request
    headers = getattr(request, "headers", None) or {}
    return headers.get(name, "(none)")


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def picture() -> list:
    """A caption, a 1x1 PNG image and an embedded text resource."""
    resource = EmbeddedResource(
        resource=TextResourceContents(uri="file:///notes.txt", mime_type="text/plain",
                                      text="resource body"))
    return ["a caption", Image(data=PNG, format="png"), resource]


@server.tool()
def fail(reason: str) -> str:
    """Always fails with the reason."""
    raise ToolError(reason)


@server.tool()
def crash() -> str:
    """Exit the server process at once (a crash mid-run)."""
    os._exit(3)


@server.tool()
def nap(seconds: float) -> str:
    """Sleep, then answer."""
    time.sleep(seconds)
    return "awake"


def _add_bad_schema_tool() -> None:
    @server.tool()
    def broken(x: int) -> int:
        """A tool whose schema is made invalid below."""
        return x

    tool = server._tool_manager.get_tool("broken")
    assert tool is not None
    tool.parameters = {"type": "object", "properties": {"x": {"type": "no-such-type"}}}


if __name__ == "__main__":
    if "--exit" in sys.argv:
        token = os.environ.get("ECHO_TOKEN", "")
        print(f"echo_server: cannot start: missing ECHO_TOKEN (got {token!r})", file=sys.stderr)
        sys.exit(1)
    if "--hang" in sys.argv:
        time.sleep(3600)
    if "--bad-schema" in sys.argv:
        _add_bad_schema_tool()
    if "--garbage" in sys.argv:
        print("Welcome to echo server v1! (this line is not MCP)", flush=True)
    if "--http" in sys.argv:
        port = int(sys.argv[sys.argv.index("--http") + 1])
        server.run("streamable-http", host="127.0.0.1", port=port)
    else:
        server.run()
