"""Which paths are watched: configured roots, recursion, include and exclude globs."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
from fnmatch import translate
from pathlib import Path

# A compiled set of globs: ``match(text)`` is not None when any of them matches the whole text.
_Matcher = Callable[[str], "re.Match[str] | None"]


def _never(text: str) -> None:
    return None


def _compile(patterns: list[str]) -> _Matcher:
    """One regex for all the globs, as ``fnmatchcase`` reads each (``translate``, anchored at both
    ends): a walk tests every path against every pattern, and one match call per text is several
    times cheaper than one ``fnmatchcase`` per pattern."""
    if not patterns:
        return _never
    return re.compile("|".join(f"(?:{translate(pattern)})" for pattern in patterns)).match


class PathSelection:
    """Decides whether a path is in scope and walks the roots.

    A pattern matches a path when it matches the full path or the final name. Excluded directories are
    pruned; ``include`` applies to non-directories only, so ``include: ["*.php"]`` still descends.
    """

    def __init__(self, roots: list[Path], include: list[str], exclude: list[str], recursive: bool) -> None:
        # Resolved, so /bin on a merged-/usr system is watched (and reported) as /usr/bin.
        self.roots = [os.path.realpath(root) for root in roots]
        self._root_set = frozenset(self.roots)
        # "*" matches every path: no pattern test per path for it (the default include) during walks.
        self._include_all = "*" in include
        self._include = _compile(include)
        self._exclude = _compile(exclude)
        self.recursive = recursive

    @staticmethod
    def _matches(match: _Matcher, path: str, name: str) -> bool:
        return match(path) is not None or match(name) is not None

    def under_root(self, path: str) -> bool:
        for root in self.roots:
            if path == root:
                return True
            if path.startswith(root.rstrip("/") + "/"):
                return self.recursive or os.path.dirname(path) == root
        return False

    def wants(self, path: str, is_dir: bool) -> bool:
        return self.under_root(path) and self._wanted_in_scope(path, os.path.basename(path), is_dir)

    def _wanted_in_scope(self, path: str, name: str, is_dir: bool) -> bool:
        """``wants`` for a path already known to be under a root."""
        if self._matches(self._exclude, path, name):
            return False
        return is_dir or self._include_all or self._matches(self._include, path, name)

    def _children_under_root(self, directory: str) -> bool:
        """``under_root`` for any child of ``directory`` that is not itself a root: the answer does not
        depend on the child's name then, so a walk asks once per directory ("\\0" is in no name)."""
        return self.under_root(os.path.join(directory, "\0"))

    def _inside_excluded_directory(self, path: str) -> bool:
        parent = os.path.dirname(path)
        while self.under_root(parent) and parent != path:
            if self._matches(self._exclude, parent, os.path.basename(parent)):
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
        # Without exclude patterns and with include "*" every path in scope is wanted: no call per path.
        filtered = self._exclude is not _never or not self._include_all
        recursive = self.recursive
        stack = [top]
        while stack:
            directory = stack.pop()
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            children_under_root = self._children_under_root(directory)
            for entry in entries:
                path = entry.path
                try:
                    entry_is_dir = entry.is_dir(follow_symlinks=False)
                    in_scope = self.under_root(path) if path in self._root_set else children_under_root
                    if not in_scope or (
                        filtered and not self._wanted_in_scope(path, entry.name, entry_is_dir)
                    ):
                        continue
                    yield path, entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if entry_is_dir and recursive:
                    stack.append(path)
