"""Real-time change notification through inotify (watchdog's Observer)."""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable

from watchdog.events import (
    DirModifiedEvent,
    FileClosedNoWriteEvent,
    FileOpenedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
    FileSystemMovedEvent,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

# watchdog rebuilds its watches after an inotify queue overflow but tells handlers nothing; its warning
# on this logger is the only sign that events were lost, so the sensor listens for it to rescan.
_WATCHDOG_INOTIFY_LOGGER = "watchdog.observers.inotify_c"


class WatchLimitReached(Exception):
    """The kernel refused another inotify watch (``fs.inotify.max_user_watches`` or instances)."""


class _Forwarder(FileSystemEventHandler):
    def __init__(self, on_path: Callable[[str], object]) -> None:
        self._on_path = on_path

    def on_any_event(self, event: FileSystemEvent) -> None:
        # A directory's own mtime moves with every child change, and opens/reads change nothing.
        if isinstance(event, DirModifiedEvent | FileOpenedEvent | FileClosedNoWriteEvent):
            return
        self._on_path(os.fsdecode(event.src_path))
        if isinstance(event, FileSystemMovedEvent) and event.dest_path:
            self._on_path(os.fsdecode(event.dest_path))


class _OverflowListener(logging.Handler):
    def __init__(self, on_overflow: Callable[[], object]) -> None:
        super().__init__(level=logging.WARNING)
        self._on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self._on_overflow()


class ChangeWatcher:
    """Calls ``on_path`` (from watchdog's thread) with every path that may have changed and
    ``on_overflow`` when the kernel dropped events.

    ``start`` raises :class:`WatchLimitReached` (after undoing its partial work) when the watch limit is
    hit; ``stop`` is idempotent. Roots that do not exist are skipped and listed in ``missing_roots``.
    """

    def __init__(
        self,
        roots: list[str],
        recursive: bool,
        on_path: Callable[[str], object],
        on_overflow: Callable[[], object],
    ) -> None:
        self._roots = roots
        self._recursive = recursive
        self._handler = _Forwarder(on_path)
        self._overflow_listener = _OverflowListener(on_overflow)
        self._observer: BaseObserver | None = None
        self.missing_roots: list[str] = []

    def start(self) -> None:
        observer = Observer()
        self.missing_roots = []
        try:
            for root in self._roots:
                if os.path.isdir(root):
                    observer.schedule(self._handler, root, recursive=self._recursive)
                elif os.path.lexists(root):
                    observer.schedule(self._handler, os.path.dirname(root) or "/", recursive=False)
                else:
                    self.missing_roots.append(root)
            observer.start()
        except OSError as error:
            observer.stop()
            if error.errno in (errno.ENOSPC, errno.EMFILE):
                raise WatchLimitReached(str(error)) from error
            raise
        logging.getLogger(_WATCHDOG_INOTIFY_LOGGER).addHandler(self._overflow_listener)
        self._observer = observer

    def roots_appeared(self) -> bool:
        """Whether a root missing at ``start`` exists now (a restart would watch it)."""
        return any(os.path.isdir(root) for root in self.missing_roots)

    def stop(self) -> None:
        logging.getLogger(_WATCHDOG_INOTIFY_LOGGER).removeHandler(self._overflow_listener)
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None
