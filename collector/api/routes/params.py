"""Query parameters shared by list endpoints, validated before any store sees them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import HTTPException, Path, Query

Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, le=9_500, description="items to skip")]
Since = Annotated[datetime | None, Query(alias="from", description="inclusive lower time bound")]
Until = Annotated[datetime | None, Query(alias="to", description="exclusive upper time bound")]
Term = Annotated[str | None, Query(min_length=1, max_length=256)]
FreeText = Annotated[str | None, Query(alias="q", min_length=1, max_length=500, description="free text")]
ObjectId = Annotated[str, Path(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9._:-]+$")]


def utc(value: datetime | None) -> datetime | None:
    """Aware UTC; a time without a zone is taken as UTC."""
    if value is None:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def time_range(since: datetime | None, until: datetime | None) -> tuple[datetime | None, datetime | None]:
    start, end = utc(since), utc(until)
    if start is not None and end is not None and start >= end:
        raise HTTPException(422, "'from' must be earlier than 'to'")
    return start, end
