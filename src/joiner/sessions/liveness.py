"""Is the process that runs a session still alive? (pid + host + start time)

The start time guards against a recycled pid: on Linux it is the process's
start tick from ``/proc``; elsewhere it is unknown (None) and the pid alone counts.
"""

from __future__ import annotations

import os
import socket
from functools import cache


@cache
def this_host() -> str:
    return socket.gethostname()


def process_start(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its last ')'
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])  # field 22 of the whole line: starttime
    except (IndexError, ValueError):
        return None


def is_alive(pid: int | None, host: str, start: int | None) -> bool:
    """False only when we know the process is gone; another host's process counts as alive."""
    if pid is None:
        return False
    if host and host != this_host():
        return True
    if os.name == "nt":  # os.kill would terminate the process there
        return _windows_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return False
    if start is not None:
        current = process_start(pid)
        if current is not None and current != start:
            return False  # the pid was recycled by another process
    return True


def _windows_alive(pid: int) -> bool:
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return kernel32.GetLastError() == 5  # access denied: it exists
    try:
        code = ctypes.c_ulong()
        return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == 259
    finally:
        kernel32.CloseHandle(handle)  # 259: STILL_ACTIVE
