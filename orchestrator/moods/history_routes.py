from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BeforeValidator

from orchestrator.accounts.deps import CurrentUser
from orchestrator.http.responses import AUTHENTICATED, error_responses
from orchestrator.moods.history import summarize
from orchestrator.moods.routes import event_out
from orchestrator.moods.schemas import MoodHistoryOut, MoodSummaryOut
from orchestrator.wiring import ServicesDep

router = APIRouter(prefix="/v1/moods", tags=["history"])
ERRORS = error_responses(*AUTHENTICATED, 422)
# RFC 3339, as the schema's `format: date-time` says (pydantic alone would also take "0.5" as a Unix time and
# a date-time without an offset).
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339(value: Any) -> Any:
    if isinstance(value, str) and not RFC3339.fullmatch(value):
        raise ValueError("use an RFC 3339 date-time with an offset, e.g. 2025-01-31T18:00:00Z")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]


@router.get("/history", response_model=MoodHistoryOut, responses=ERRORS,
            summary="The caller's mood events, newest first")
async def history(
    user: CurrentUser,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    source: Literal["face", "text", "fused"] | None = None,
    since: Timestamp | None = None,
    until: Timestamp | None = None,
) -> MoodHistoryOut:
    items, next_cursor = await services.mood_events.history(user.id, limit, cursor, source, since, until)
    return MoodHistoryOut(items=[event_out(e) for e in items], next_cursor=next_cursor)


@router.get("/summary", response_model=MoodSummaryOut, responses=ERRORS,
            summary="Counts per mood and mean valence/arousal per day, for charts")
async def summary(
    user: CurrentUser,
    services: ServicesDep,
    period: Annotated[str, Query(pattern=r"^([1-9]|[1-9][0-9]|[1-2][0-9][0-9]|3[0-5][0-9]|36[0-6])d$",
                                 description="1d … 366d")] = "7d",
) -> MoodSummaryOut:
    result = await summarize(services.mood_events, user.id, int(period[:-1]))
    return MoodSummaryOut.model_validate(result, from_attributes=True)
