"""Reading files for the baseline: digests and markings across read sizes, access times, FIFOs."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from agent.sensors.file_integrity import content as content_module
from agent.sensors.file_integrity.content import ContentPolicy, buffer_for, read_state, read_states
from agent.sensors.file_integrity.state import FileState, state_from_stat

_POLICY = ContentPolicy(8 << 20, marking_enabled=True, marking_extensions=(".txt",), marking_scan_bytes=4096)


def _content(state: FileState) -> tuple[str | None, str | None, str | None]:
    return state.sha256, state.hash_skipped_reason, state.marking


def _read_one(path: Path, st: os.stat_result, policy: ContentPolicy = _POLICY) -> FileState:
    return read_state(str(path), st, policy, buffer_for([st.st_size], policy))


def test_digests_and_markings_are_right_whatever_the_size_against_the_buffer(tmp_path: Path) -> None:
    chunk = content_module._CHUNK_BYTES
    sizes = [0, 1, 4095, 4096, 4097, chunk - 1, chunk, chunk + 1, 5 * chunk // 2]
    files: list[tuple[str, os.stat_result]] = []
    expected: list[FileState] = []
    for index, size in enumerate(sizes):
        marked = "TUYỆT MẬT\n".encode() if index % 2 else b""
        data = (marked + os.urandom(size))[:size]
        path = tmp_path / f"f{index}.TXT"  # the extension's case does not matter
        path.write_bytes(data)
        st = os.lstat(path)
        files.append((str(path), st))
        marking = "TUYỆT MẬT" if marked and size >= len(marked) else None
        expected.append(state_from_stat(str(path), st, hashlib.sha256(data).hexdigest(), None, marking))
    # Small files first: the batch buffer is sized by the largest, so each size meets the same buffer.
    assert read_states(files, _POLICY) == expected
    assert [_read_one(Path(path), st) for path, st in files] == expected


def test_a_marking_cut_across_reads_is_still_found(tmp_path: Path) -> None:
    # A buffer smaller than the marking's scan: the head is gathered from several reads.
    path = tmp_path / "note.txt"
    data = b"- " * 5 + "TỐI MẬT".encode() + b"\n" * 100
    path.write_bytes(data)
    state = read_state(str(path), os.lstat(path), _POLICY, memoryview(bytearray(7)))
    assert _content(state) == (hashlib.sha256(data).hexdigest(), None, "TỐI MẬT")


def test_a_file_above_the_cap_is_not_hashed_but_its_marking_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes("TỐI MẬT\n".encode() + b"x" * 5000)
    policy = ContentPolicy(1000, marking_enabled=True, marking_extensions=(".txt",), marking_scan_bytes=16)
    assert _content(_read_one(path, os.lstat(path), policy)) == (
        None,
        "size 5012 exceeds max_hash_bytes 1000",
        "TỐI MẬT",
    )


def test_an_unreadable_path_says_why_and_keeps_what_lstat_found(tmp_path: Path) -> None:
    gone, directory = tmp_path / "gone.txt", tmp_path / "dir.txt"
    gone.write_bytes(b"abc")
    gone_st = os.lstat(gone)
    gone.unlink()
    directory.write_bytes(b"")
    file_st = os.lstat(directory)
    directory.unlink()
    directory.mkdir()  # replaced by a directory since it was stat'ed
    states = read_states([(str(gone), gone_st), (str(directory), file_st)], _POLICY)
    assert states == [
        state_from_stat(str(gone), gone_st, None, "unreadable: No such file or directory"),
        state_from_stat(str(directory), file_st, None, "unreadable: Is a directory"),
    ]


def test_the_check_runs_before_each_file(tmp_path: Path) -> None:
    files = []
    for index in range(3):
        path = tmp_path / f"f{index}"
        path.write_bytes(b"x")
        files.append((str(path), os.lstat(path)))
    calls: list[int] = []
    read_states(files, _POLICY, lambda: calls.append(1))
    assert len(calls) == 3


def test_reading_leaves_the_access_time_alone(tmp_path: Path) -> None:
    # atime before mtime: with relatime (the usual mount option) a plain read would move it.
    path = tmp_path / "f.bin"
    path.write_bytes(b"content")
    os.utime(path, ns=(1_000_000_000, 2_000_000_000))
    assert _read_one(path, os.lstat(path)).sha256 == hashlib.sha256(b"content").hexdigest()
    assert os.stat(path).st_atime_ns == 1_000_000_000


def test_a_fifo_in_place_of_a_file_does_not_hang_the_reader(tmp_path: Path) -> None:
    fifo = tmp_path / "swapped.txt"
    fifo.write_bytes(b"was a file")
    st = os.lstat(fifo)
    fifo.unlink()
    os.mkfifo(fifo)
    found: list[FileState] = []
    reader = threading.Thread(target=lambda: found.append(_read_one(fifo, st)), daemon=True)
    reader.start()
    reader.join(timeout=5)
    assert [_content(state) for state in found] == [(hashlib.sha256(b"").hexdigest(), None, None)]


def test_a_file_that_changed_size_since_its_lstat_is_read_to_its_end(tmp_path: Path) -> None:
    grown, shrunk = tmp_path / "grown", tmp_path / "shrunk"
    grown.write_bytes(b"a" * 100)
    shrunk.write_bytes(b"b" * 100)
    files = [(str(grown), os.lstat(grown)), (str(shrunk), os.lstat(shrunk))]
    grown.write_bytes(b"a" * 5000)  # beyond the buffer sized from the lstat sizes
    shrunk.write_bytes(b"b" * 10)
    assert [state.sha256 for state in read_states(files, _POLICY)] == [
        hashlib.sha256(b"a" * 5000).hexdigest(),
        hashlib.sha256(b"b" * 10).hexdigest(),
    ]
