"""Reading a file's content: streaming SHA-256 under a size cap, and the state-secret marking check.

Functions here run in worker processes during scans, so they take and return only picklable values.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

# Longest first, so "TUYỆT MẬT" is not reported as plain "MẬT". Uppercase only: the markings are stamped
# in capitals, and the lowercase words are everyday Vietnamese ("mật" also means honey).
_MARKING = re.compile(r"(?<!\w)(TUYỆT MẬT|TỐI MẬT|MẬT)(?!\w)")


@dataclass(frozen=True, slots=True)
class ContentPolicy:
    max_hash_bytes: int
    marking_enabled: bool
    marking_extensions: tuple[str, ...]
    marking_scan_bytes: int


@dataclass(frozen=True, slots=True)
class Content:
    sha256: str | None
    hash_skipped_reason: str | None
    marking: str | None


def sha256_of(path: str, size: int, max_bytes: int) -> tuple[str | None, str | None]:
    """The hex digest, or why there is none (too large, unreadable)."""
    if size > max_bytes:
        return None, f"size {size} exceeds max_hash_bytes {max_bytes}"
    try:
        with open(path, "rb") as stream:
            return hashlib.file_digest(stream, "sha256").hexdigest(), None
    except OSError as error:
        return None, f"unreadable: {error.strerror or error}"


def marking_in(head: bytes) -> str | None:
    """The strongest marking in the first bytes of a text file (UTF-8, possibly cut mid-character)."""
    text = unicodedata.normalize("NFC", head.decode("utf-8", errors="ignore"))
    found = {match.group(1) for match in _MARKING.finditer(text)}
    for marking in ("TUYỆT MẬT", "TỐI MẬT", "MẬT"):
        if marking in found:
            return marking
    return None


def marking_of(path: str, policy: ContentPolicy) -> str | None:
    if not policy.marking_enabled or not path.lower().endswith(policy.marking_extensions):
        return None
    try:
        with open(path, "rb") as stream:
            return marking_in(stream.read(policy.marking_scan_bytes))
    except OSError:
        return None


def read_content(path: str, size: int, policy: ContentPolicy) -> Content:
    sha256, reason = sha256_of(path, size, policy.max_hash_bytes)
    return Content(sha256, reason, marking_of(path, policy))


def read_contents(files: list[tuple[str, int]], policy: ContentPolicy) -> list[Content]:
    """A batch for one worker-process task: fewer, larger tasks keep pickling overhead small."""
    return [read_content(path, size, policy) for path, size in files]
