"""One MCP server for one run: started, listed, called, stopped.

The SDK's client is a stack of anyio context managers (transport, task groups, session); an
anyio cancel scope must be entered and left by the same task. So each server is owned by one
dedicated asyncio task (``_own``) that enters the client, lists its tools, waits for the stop
signal and leaves the client again. Tool calls come from the run's own tasks and only send
requests through the open session, which the SDK allows from any task.

Every failure (a command that does not exist, a server that exits or never answers, garbage on
its stdout) becomes one warning line and a ``ToolError`` for each later call; nothing here
raises into the run. The server's stderr goes to ``LOG_DIR/mcp-NAME.log``, never to the
terminal; its last line is quoted when the server fails.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from joiner import __version__
from joiner.core import ToolError, ToolOutput
from joiner.mcp.config import ServerConfig, Warn
from joiner.mcp.results import result_output

# The SDK logs parse failures with tracebacks; with no handler configured Python would print
# them on stderr. A NullHandler keeps them out of the terminal (a debug log still gets them).
logging.getLogger("mcp").addHandler(logging.NullHandler())

MAX_TOOL_PAGES = 100
STOP_GRACE = 10.0  # seconds a server's owner task gets to shut it down before it is cancelled


def _leaf(err: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups."""
    while isinstance(err, BaseExceptionGroup) and err.exceptions:
        err = err.exceptions[0]
    return err


def describe_error(err: BaseException) -> str:
    err = _leaf(err)
    if isinstance(err, FileNotFoundError) and err.filename:
        return f"command not found: {err.filename}"
    if isinstance(err, PermissionError) and err.filename:
        return f"command not executable: {err.filename}"
    text = getattr(err, "message", None) or str(err) or type(err).__name__
    if text == "Connection closed":
        return "the server closed the connection (it exited or is not an MCP server)"
    return " ".join(str(text).split())[:300]


class ServerConnection:
    """One configured server: ``start()``, ``tools``, ``call()``, ``stop()``."""

    def __init__(self, config: ServerConfig, workspace: Path, warn: Warn,
                 log_dir: Path | None = None) -> None:
        self.config = config
        self.workspace = workspace
        self._warn = warn
        self.log_path = (log_dir / f"mcp-{config.name}.log") if log_dir else None
        self._log_start = 0
        self.state = "new"  # new | starting | ready | failed | stopped
        self.error: str | None = None
        self.tools: list[Any] = []  # mcp_types.Tool, as the server listed them
        self._client: Any = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._garbage_warned = False

    @property
    def name(self) -> str:
        return self.config.name

    def warn(self, message: str) -> None:
        self._warn(self.config.redact(f"mcp server '{self.name}' {message}"))

    # -- lifetime -------------------------------------------------------------------------------
    async def start(self) -> bool:
        """Start the server and list its tools within ``startup_timeout``.

        Returns whether it is ready; on failure one warning has been given.
        """
        self.state = "starting"
        self._task = asyncio.create_task(self._own(), name=f"mcp-server-{self.name}")
        try:
            await asyncio.wait_for(self._ready.wait(), self.config.startup_timeout)
        except TimeoutError:
            self._task.cancel()
            self._fail(f"did not start within {self.config.startup_timeout:g}s "
                       "(raise startup_timeout in its config if it is slow)")
        except asyncio.CancelledError:
            self._task.cancel()
            raise
        return self.state == "ready"

    async def stop(self) -> None:
        """Shut the server down and wait for it (bounded); safe to call in any state."""
        self._stop.set()
        task = self._task
        if task is None or task.done():
            return
        done, _ = await asyncio.wait({task}, timeout=STOP_GRACE)
        if not done:
            task.cancel()
            await asyncio.wait({task}, timeout=STOP_GRACE)

    async def _own(self) -> None:
        try:
            async with AsyncExitStack() as stack:
                client = await self._connect(stack)
                self.tools = await self._list_tools(client)
                self._client = client
                self.state = "ready"
                self._ready.set()
                await self._stop.wait()
        except asyncio.CancelledError:
            pass  # timed out while starting, or stopped hard; the SDK has killed the process
        except Exception as err:  # any failure of a server is a warning, never a crash
            if self.state in ("new", "starting"):
                self._fail(describe_error(err))
            else:
                self._lost(describe_error(err))
        finally:
            self._client = None
            if self.state == "ready":
                self.state = "stopped"
            self._ready.set()

    async def _connect(self, stack: AsyncExitStack) -> Any:
        from mcp import Client
        from mcp_types import Implementation

        transport = await self._transport(stack)
        client = Client(transport, client_info=Implementation(name="joiner", version=__version__),
                        message_handler=self._on_message)
        return await stack.enter_async_context(client)

    async def _transport(self, stack: AsyncExitStack) -> Any:
        if self.config.url:
            import httpx2
            from mcp.client.streamable_http import streamable_http_client

            http = httpx2.AsyncClient(headers=self.config.headers,
                                      timeout=httpx2.Timeout(30.0, read=300.0))
            await stack.enter_async_context(http)
            return streamable_http_client(self.config.url, http_client=http)
        from mcp.client.stdio import StdioServerParameters, stdio_client

        cwd = self.workspace / self.config.cwd if self.config.cwd else self.workspace
        params = StdioServerParameters(command=self.config.command or "", args=self.config.args,
                                       env=self.config.env or None, cwd=cwd)
        return stdio_client(params, errlog=self._errlog(stack))

    def _errlog(self, stack: AsyncExitStack) -> Any:
        import os

        if self.log_path is None:
            return stack.enter_context(open(os.devnull, "w"))
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = stack.enter_context(self.log_path.open("a", encoding="utf-8", errors="replace"))
        log.write(f"--- joiner {__version__}: starting {self.config.describe()}\n")
        log.flush()
        self._log_start = log.tell()
        return log

    async def _list_tools(self, client: Any) -> list[Any]:
        tools: list[Any] = []
        cursor = None
        for _ in range(MAX_TOOL_PAGES):
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, Exception) and not self._garbage_warned:
            self._garbage_warned = True
            self.warn("wrote something that is not MCP on its stdout (ignored; a server must "
                      "log to stderr)")

    # -- failures -------------------------------------------------------------------------------
    def _stderr_tail(self) -> str:
        if self.log_path is None:
            return ""
        try:
            with self.log_path.open("rb") as f:
                f.seek(self._log_start)
                lines = f.read()[-4000:].decode("utf-8", "replace").strip().splitlines()
        except OSError:
            return ""
        return f"; its stderr ended with: {lines[-1].strip()[:200]}" if lines else ""

    def _fail(self, reason: str) -> None:
        if self.state == "failed":
            return
        self.state, self.error = "failed", self.config.redact(reason)
        self.warn(f"did not start: {reason}{self._stderr_tail()}; its tools are not available")

    def _lost(self, reason: str) -> None:
        if self.state == "failed" or self._stop.is_set():
            return  # a call cut by the end of the run is not a crash
        self.state, self.error = "failed", self.config.redact(f"stopped during the run: {reason}")
        self.warn(f"stopped during the run: {reason}{self._stderr_tail()}; its tools now fail")

    # -- calls ----------------------------------------------------------------------------------
    async def call(self, tool: str, arguments: dict[str, Any]) -> ToolOutput:
        """Call ``tool`` on this server. Raises ``ToolError`` for anything but a result."""
        from mcp.shared.exceptions import MCPError
        from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT
        from pydantic import ValidationError

        client = self._client
        if self.state != "ready" or client is None:
            why = self.error or self.state
            raise ToolError(f"MCP server '{self.name}' is not running ({why}); "
                            "its tools cannot be used in this run")
        server = f"MCP server '{self.name}'"
        try:
            result = await client.call_tool(tool, arguments,
                                            read_timeout_seconds=self.config.tool_timeout)
        except MCPError as err:
            if err.code == CONNECTION_CLOSED:
                self._lost(describe_error(err))
                raise ToolError(f"MCP server '{self.name}' stopped; {tool} cannot run") from None
            if err.code == REQUEST_TIMEOUT:
                raise ToolError(f"MCP server '{self.name}' did not answer {tool} within "
                                f"{self.config.tool_timeout:g}s") from None
            raise ToolError(self.config.redact(f"{server}: {err.message}")) from None
        except ValidationError:
            raise ToolError(f"{server} sent an answer that is not valid MCP") from None
        except (OSError, EOFError, RuntimeError) as err:
            self._lost(describe_error(err))
            raise ToolError(f"MCP server '{self.name}' stopped; {tool} cannot run") from None
        return result_output(result)
