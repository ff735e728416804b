"""Which paths are watched: configured roots, recursion, include and exclude globs."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path


class PathSelection:
    """Decides whether a path is in scope and walks the roots.

    A pattern matches a path when it matches the full path or the final name. Excluded directories are
    pruned; ``include`` applies to non-directories only, so ``include: ["*.php"]`` still descends.
    """

    def __init__(self, roots: list[Path], include: list[str], exclude: list[str], recursive: bool) -> None:
        # Resolved, so /bin on a merged-/usr system is watched (and reported) as /usr/bin.
        self.roots = [os.path.realpath(root) for root in roots]
        self._include = include
        # "*" matches every path: no fnmatch per path for it (the default include) during walks.
        self._include_all = "*" in include
        self._exclude = exclude
        self.recursive = recursive

    @staticmethod
    def _matches(path: str, patterns: list[str]) -> bool:
        name = os.path.basename(path)
        return any(fnmatchcase(path, pattern) or fnmatchcase(name, pattern) for pattern in patterns)

    def under_root(self, path: str) -> bool:
        for root in self.roots:
            if path == root:
                return True
            if path.startswith(root.rstrip("/") + "/"):
                return self.recursive or os.path.dirname(path) == root
        return False

    def wants(self, path: str, is_dir: bool) -> bool:
        if not self.under_root(path) or self._matches(path, self._exclude):
            return False
        return is_dir or self._include_all or self._matches(path, self._include)

    def _inside_excluded_directory(self, path: str) -> bool:
        parent = os.path.dirname(path)
        while self.under_root(parent) and parent != path:
            if self._matches(parent, self._exclude):
                return True
            path, parent = parent, os.path.dirname(parent)
        return False

    def walk(self, top: str) -> Iterator[tuple[str, os.stat_result]]:
        """Every wanted path under ``top`` (itself included) with its ``lstat``; vanished paths skipped.

        ``top`` itself may be any path an inotify event named, so it is also checked against excluded
        directories above it (below it, excluded directories are simply not entered)."""
        try:
            st = os.lstat(top)
        except OSError:
            return
        is_dir = stat.S_ISDIR(st.st_mode)
        if not self.wants(top, is_dir) or self._inside_excluded_directory(top):
            return
        yield top, st
        if not is_dir:
            return
        stack = [top]
        while stack:
            directory = stack.pop()
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                try:
                    entry_is_dir = entry.is_dir(follow_symlinks=False)
                    if not self.wants(entry.path, entry_is_dir):
                        continue
                    yield entry.path, entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if entry_is_dir and self.recursive:
                    stack.append(entry.path)
