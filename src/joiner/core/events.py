"""Events: everything that happens in a run, in order.

Durable events are appended to the session store; the TUI, the JSON output,
replay and undo all read them. ``text_delta`` is the one ephemeral type: it is
shown live but not stored (the whole answer is stored as ``assistant_message``;
a cut stream is stored as ``assistant_partial``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

# Event types. Payload keys are documented next to each.
SESSION_START = "session_start"  # {workspace, model, permission_mode}
USER_PROMPT = "user_prompt"  # {message}
REQUEST_START = "request_start"  # {turn, model}
TEXT_DELTA = "text_delta"  # {text}                    (ephemeral)
TOOL_CALL_DELTA = "tool_call_delta"  # {index, id, name, arguments}  (ephemeral)
ASSISTANT_MESSAGE = "assistant_message"  # {message, stop_reason, model}
ASSISTANT_PARTIAL = "assistant_partial"  # {text, error}  a stream cut mid-answer
USAGE = "usage"  # {turn, model, input_tokens, ..., estimated, cost_usd, totals...}
TOOL_CALL = "tool_call"  # {id, name, arguments}
APPROVAL = "approval"  # {id, name, decision, reason, diff?}
TOOL_RESULT = "tool_result"  # {message, duration_ms, diff?, stat?, changes?, files_read?, ...}
LOOP_NOTE = "loop_note"  # {tool_call_id, note}  added to that tool result before it is sent
RETRY = "retry"  # {attempt, wait_s, error}
WARNING = "warning"  # {message}
ERROR = "error"  # {message}
RESULT = "result"  # the headless result object
INTERRUPTED = "interrupted"  # {reason}
UNDO = "undo"  # {phase: begin|done, change_set, prompt, force, files}  (joiner undo)
REDO = "redo"  # the same, for joiner redo
# The older conversation replaced by one summary message (joiner.context): {message, replaced
# (leading messages of the conversation as it stood), summary, prompts, files_changed, reason,
# tokens_before, tokens_after, window, summarized_by}
COMPACTION = "compaction"

EPHEMERAL = frozenset({TEXT_DELTA, TOOL_CALL_DELTA})


@dataclass(slots=True)
class Event:
    type: str
    data: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)
    seq: int | None = None  # set by the store when appended

    @property
    def durable(self) -> bool:
        return self.type not in EPHEMERAL
