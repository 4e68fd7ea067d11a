"""Rich text for ``joiner sessions list`` and ``show`` (imported only by those commands)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from joiner.sessions import SessionInfo

STATUS_STYLE = {"running": "cyan", "done": "green", "error": "red", "interrupted": "yellow"}


def local_time(epoch_or_iso: float | str, short: bool = False) -> str:
    if isinstance(epoch_or_iso, str):
        moment = dt.datetime.fromisoformat(epoch_or_iso.replace("Z", "+00:00"))
    else:
        moment = dt.datetime.fromtimestamp(epoch_or_iso, dt.UTC)
    return moment.astimezone().strftime("%m-%d %H:%M" if short else "%Y-%m-%d %H:%M")


def print_list(found: list[SessionInfo], show_workspace: bool) -> None:
    console = Console()
    if not found:
        console.print("No sessions here yet" + ("." if show_workspace else
                      " (joiner sessions list --all shows every workspace)."))
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("ID", no_wrap=True)
    table.add_column("LAST ACTIVE", no_wrap=True)
    table.add_column("STATUS", no_wrap=True)
    table.add_column("TITLE", ratio=3, overflow="fold")
    table.add_column("MODEL", no_wrap=True, overflow="ellipsis", max_width=20)
    if show_workspace:
        table.add_column("WORKSPACE", ratio=2, overflow="fold")
    for s in found:
        row = [Text(s.id[:12], style="bold"), local_time(s.updated_at, short=True),
               Text(s.status, style=STATUS_STYLE.get(s.status, "")),
               Text(s.title or "(no prompt)"), Text(s.model)]
        if show_workspace:
            row.append(Text(s.workspace + (f" @{s.host}" if s.host else "")))
        table.add_row(*row)
    console.print(table)


def _usage(usage: dict[str, Any]) -> str:
    text = (f"{usage['input_tokens']:,} in · {usage['output_tokens']:,} out · "
            f"{usage['cache_read_tokens']:,} cache read · {usage['cache_write_tokens']:,} "
            "cache write")
    if usage.get("cost_usd") is not None:
        text += f" · ${usage['cost_usd']:.4f}"
    return text


def _first_line(text: str, limit: int = 100) -> str:
    line = text.strip().split("\n", 1)[0]
    more = len(line) > limit or "\n" in text.strip()
    return line[:limit] + (" …" if more else "")


def print_session(d: dict[str, Any]) -> None:
    console = Console(highlight=False)
    header = Text()
    header.append(d["title"] or "(untitled session)", style="bold")
    header.append(f"  {d['id']}", style="dim")
    console.print(header)
    status = Text(d["status"], style=STATUS_STYLE.get(d["status"], ""))
    console.print(Text.assemble(
        ("workspace ", "dim"), d["workspace"], ("  model ", "dim"), d["model"],
        ("  status ", "dim"), status))
    console.print(Text.assemble(("started ", "dim"), local_time(d["created_at"]),
                                ("  last activity ", "dim"), local_time(d["updated_at"]),
                                *((("  fork of ", "dim"), d["parent_id"][:12])
                                  if d.get("parent_id") else ())))
    results = iter(d["tool_calls"])
    for message in d["messages"]:
        if message["role"] == "user":
            console.print()
            console.print(Text.assemble(("You ", "bold cyan"), message["text"]))
        elif message["role"] == "assistant":
            if message["text"]:
                console.print(Text.assemble(("Joiner ", "bold green"), message["text"]))
            for _call in message.get("tool_calls", []):
                entry = next(results, None)
                if entry is None:
                    break
                args = entry["arguments"]
                shown = (", ".join(f"{k}={v!r}" for k, v in args.items())
                         if isinstance(args, dict) else str(args))
                mark, style = ("✗", "red") if entry["is_error"] else ("→", "dim")
                console.print(Text.assemble(("  ⚙ ", "yellow"), (entry["name"], "bold"),
                                            f"({_first_line(shown, 120)})"))
                console.print(Text(f"    {mark} {_first_line(entry['result'])}", style=style))
    console.print()
    for key, label in (("files_read", "Files read"), ("files_modified", "Files modified")):
        if d[key]:
            console.print(Text.assemble((f"{label}: ", "bold"), ", ".join(d[key])))
    console.print(Text.assemble(("Usage: ", "bold"), _usage(d["usage"])))
