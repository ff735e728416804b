"""Reading files for the baseline: digests and markings across read sizes, access times, FIFOs."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from agent.sensors.file_integrity import content as content_module
from agent.sensors.file_integrity.content import Content, ContentPolicy, read_content, read_contents

_POLICY = ContentPolicy(8 << 20, marking_enabled=True, marking_extensions=(".txt",), marking_scan_bytes=4096)


def test_digests_and_markings_are_right_whatever_the_size_against_the_buffer(tmp_path: Path) -> None:
    chunk = content_module._CHUNK_BYTES
    sizes = [0, 1, 4095, 4096, 4097, chunk - 1, chunk, chunk + 1, 5 * chunk // 2]
    files: list[tuple[str, int]] = []
    expected: list[Content] = []
    for index, size in enumerate(sizes):
        marked = "TUYỆT MẬT\n".encode() if index % 2 else b""
        data = (marked + os.urandom(size))[:size]
        path = tmp_path / f"f{index}.txt"
        path.write_bytes(data)
        files.append((str(path), size))
        marking = "TUYỆT MẬT" if marked and size >= len(marked) else None
        expected.append(Content(hashlib.sha256(data).hexdigest(), None, marking))
    # Small files first: the batch buffer is sized by the largest, so each size meets the same buffer.
    assert read_contents(files, _POLICY) == expected
    assert [read_content(path, size, _POLICY) for path, size in files] == expected


def test_a_file_above_the_cap_is_not_hashed_but_its_marking_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes("TỐI MẬT\n".encode() + b"x" * 5000)
    policy = ContentPolicy(1000, marking_enabled=True, marking_extensions=(".txt",), marking_scan_bytes=16)
    assert read_content(str(path), 5010, policy) == Content(
        None, "size 5010 exceeds max_hash_bytes 1000", "TỐI MẬT"
    )


def test_an_unreadable_path_says_why(tmp_path: Path) -> None:
    (tmp_path / "dir.txt").mkdir()
    assert read_contents([(str(tmp_path / "gone.txt"), 3), (str(tmp_path / "dir.txt"), 0)], _POLICY) == [
        Content(None, "unreadable: No such file or directory", None),
        Content(None, "unreadable: Is a directory", None),
    ]


def test_reading_leaves_the_access_time_alone(tmp_path: Path) -> None:
    # atime before mtime: with relatime (the usual mount option) a plain read would move it.
    path = tmp_path / "f.bin"
    path.write_bytes(b"content")
    os.utime(path, ns=(1_000_000_000, 2_000_000_000))
    assert read_content(str(path), 7, _POLICY).sha256 == hashlib.sha256(b"content").hexdigest()
    assert os.stat(path).st_atime_ns == 1_000_000_000


def test_a_fifo_in_place_of_a_file_does_not_hang_the_reader(tmp_path: Path) -> None:
    fifo = tmp_path / "swapped.txt"
    os.mkfifo(fifo)
    found: list[Content] = []
    reader = threading.Thread(target=lambda: found.append(read_content(str(fifo), 10, _POLICY)), daemon=True)
    reader.start()
    reader.join(timeout=5)
    assert found == [Content(hashlib.sha256(b"").hexdigest(), None, None)]
