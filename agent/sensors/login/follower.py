"""Following one log file through rotation and truncation, a complete line at a time."""

from __future__ import annotations

import io
import os
from pathlib import Path

from agent.sensors.login.positions import Position


class LogFollower:
    """Reads the lines appended to ``path`` since the last call.

    Rotation by rename (logrotate's default): the old file, still open, is read to its end before the
    new one is opened at its start. Truncation in place (``copytruncate``): reading restarts at 0. A
    saved position is used only if the file at ``path`` still has its inode and is at least that long;
    with another inode the file is read from the start (the rotated one's unread tail is lost; it is not
    searched for). Without a saved position it starts at the end if ``start_at_end`` and the file
    existed at the first attempt (a log created later is read from its start). A line without its
    newline yet is left for the next call. Blocking; one thread at a time.
    """

    def __init__(self, path: Path, saved: Position | None, start_at_end: bool) -> None:
        self.path = path
        self._saved = saved
        self._start_at_end = start_at_end
        self._first_attempt = True
        self._stream: io.BufferedReader | None = None
        self._inode = 0
        self._offset = 0

    @property
    def position(self) -> Position | None:
        return Position(self._inode, self._offset) if self._stream is not None else self._saved

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def open(self) -> bool:
        """Open the file at its starting position if it exists and is not open yet; whether it is open."""
        return self._stream is not None or self._open()

    def read_lines(self, max_bytes: int) -> list[str]:
        lines: list[str] = []
        if not self.open():
            return lines
        assert self._stream is not None
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            current = None
        if os.fstat(self._stream.fileno()).st_size < self._offset:  # truncated in place
            self._offset = 0
        lines = self._read(max_bytes)
        if current is not None and current.st_ino != self._inode and len(lines) == 0:
            # Rotated and the old file is drained: move on to the new one from its start.
            self.close()
            self._saved = Position(current.st_ino, 0)
            if self._open():
                lines = self._read(max_bytes)
        return lines

    def _open(self) -> bool:
        # Only a file present at the first attempt holds history to skip; one created later is all new.
        skip_history = self._start_at_end and self._first_attempt
        self._first_attempt = False
        try:
            stream = open(self.path, "rb")  # noqa: SIM115 -- kept open between calls
        except FileNotFoundError:
            return False
        st = os.fstat(stream.fileno())
        saved = self._saved
        if saved is not None and saved.inode == st.st_ino and saved.offset <= st.st_size:
            offset = saved.offset
        elif saved is not None:
            offset = 0
        else:
            offset = st.st_size if skip_history else 0
        self._stream, self._inode, self._offset = stream, st.st_ino, offset
        return True

    def _read(self, max_bytes: int) -> list[str]:
        assert self._stream is not None
        self._stream.seek(self._offset)
        chunk = self._stream.read(max_bytes)
        end = chunk.rfind(b"\n")
        if end < 0:
            if len(chunk) >= max_bytes:  # one line longer than max_bytes: take it as it is
                end = len(chunk) - 1
            else:
                return []
        complete = chunk[: end + 1]
        self._offset += len(complete)
        text = complete.decode("utf-8", errors="replace")
        return [line.rstrip("\r") for line in text.split("\n")[:-1] if line.strip("\r")]
