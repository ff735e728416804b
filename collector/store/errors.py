"""Failures a store reports. Callers decide what they mean; the store never retries a conflict itself."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every store failure."""


class VersionConflict(StoreError):
    """The document changed since it was read (or was created meanwhile): re-read and decide again."""


class AlreadyExists(StoreError):
    """A create-only write found a document with that id: for replays this means "already done"."""


class StoreUnavailable(StoreError):
    """The backing service did not answer or refused the write for a reason that is not ours."""


class QueryRejected(StoreError):
    """The backing service refused a read or write as malformed (a caller's input it could not take)."""
