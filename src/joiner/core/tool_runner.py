"""Running one turn's tool calls: lookup, argument parsing, approval, execution.

Every failure becomes an error result for the model; nothing here raises to the
loop except cancellation.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Mapping, Sequence

from joiner.core import Approval, ApprovalRequest, Approver, EventSink, Tool, ToolError, ToolOutput
from joiner.core.events import APPROVAL, TOOL_CALL, TOOL_RESULT, Event
from joiner.core.messages import Message, ToolCall


class ToolRunner:
    def __init__(
        self, tools: Sequence[Tool], approver: Approver, sink: EventSink, timeout: float = 600.0
    ) -> None:
        self.tools: Mapping[str, Tool] = {t.spec.name: t for t in tools}
        self.approver = approver
        self.sink = sink
        self.timeout = timeout
        self._approval_lock = asyncio.Lock()  # one question to the user at a time

    async def run_all(self, calls: Sequence[ToolCall]) -> list[Message]:
        """Run the calls concurrently; results come back in call order."""
        for call in calls:
            self.sink.emit(Event(TOOL_CALL, {"id": call.id, "name": call.name,
                                             "arguments": call.arguments}))
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self.run_one(call)) for call in calls]
        except BaseExceptionGroup as failed:
            # run_one turns every tool failure into a result; what gets here is the sink's
            # own failure (the session store cannot write): raise it as itself, not as a group
            raise failed.exceptions[0] from None
        return [task.result() for task in tasks]

    async def run_one(self, call: ToolCall) -> Message:
        started = time.monotonic()
        output = await self._execute(call)
        message = Message.tool_result(call, output.text, output.is_error)
        self.sink.emit(Event(TOOL_RESULT, {
            "message": message.to_dict(),
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            **output.meta,
        }))
        return message

    async def _execute(self, call: ToolCall) -> ToolOutput:
        tool = self.tools.get(call.name)
        if tool is None:
            names = ", ".join(sorted(self.tools)) or "none"
            return ToolOutput(f"Error: unknown tool {call.name!r}. Available tools: {names}.", True)
        try:
            arguments = call.parsed_arguments()
        except (ValueError, json.JSONDecodeError) as err:
            return ToolOutput(f"Error: the arguments of {call.name} are not valid JSON ({err}). "
                              "Send a JSON object matching the tool's schema.", True)
        try:
            if tool.kind != "read":
                approval = await self._approve(call, tool, arguments)
                if not approval.allowed:
                    return ToolOutput(f"Refused: {approval.reason or 'the user did not allow it'}.",
                                      True, {"refused": True})
            return await asyncio.wait_for(tool.run(arguments), self.timeout)
        except ToolError as err:
            return ToolOutput(f"Error: {err}", True)
        except TimeoutError:
            return ToolOutput(f"Error: {call.name} did not finish within {self.timeout:g}s.", True)
        except Exception as err:  # a tool's bug must not end the run
            if (brief := _invalid_arguments(err)) is not None:
                return ToolOutput(f"Error: invalid arguments for {call.name}: {brief}", True)
            return ToolOutput(f"Error: {call.name} failed: {type(err).__name__}: {err}", True)

    async def _approve(self, call: ToolCall, tool: Tool, arguments: dict) -> Approval:
        try:
            diff = await tool.preview(arguments)
        except Exception:
            diff = None  # the run itself will report the problem
        request = ApprovalRequest(call.id, call.name, tool.kind, arguments, diff)
        async with self._approval_lock:
            approval = await self.approver.approve(request)
        self.sink.emit(Event(APPROVAL, {"id": call.id, "name": call.name,
                                        "decision": "allow" if approval.allowed else "deny",
                                        "reason": approval.reason, "diff": diff}))
        return approval


def _invalid_arguments(err: Exception) -> str | None:
    """A pydantic ``ValidationError`` (the arguments did not fit the tool's model), told in
    brief. Pydantic is looked up only if it is loaded: a tool that raised one has loaded it,
    and a run that never calls a tool does not pay its import."""
    pydantic = sys.modules.get("pydantic")
    if pydantic is None or not isinstance(err, pydantic.ValidationError):
        return None
    parts = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "arguments"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)
