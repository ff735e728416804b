"""User and group names for ids, cached (the account databases change rarely, lookups are not free)."""

from __future__ import annotations

import grp
import pwd
from functools import lru_cache


@lru_cache(maxsize=1024)
def user_name(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


@lru_cache(maxsize=1024)
def group_name(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return None
