from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from orchestrator.api.deps import CurrentUserDep, MoodEventsDep
from orchestrator.api.routes.moods import event_out
from orchestrator.schemas import ErrorOut, MoodHistoryOut, MoodSummaryOut
from orchestrator.services.mood_history import summarize

router = APIRouter(prefix="/v1/moods", tags=["history"])
ERRORS: dict[int | str, dict[str, object]] = {401: {"model": ErrorOut}, 422: {"model": ErrorOut}}


@router.get("/history", response_model=MoodHistoryOut, responses=ERRORS,
            summary="The caller's mood events, newest first")
async def history(
    user: CurrentUserDep,
    events: MoodEventsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    source: Literal["face", "text", "fused"] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> MoodHistoryOut:
    items, next_cursor = await events.history(str(user["_id"]), limit, cursor, source, since, until)
    return MoodHistoryOut(items=[event_out(e) for e in items], next_cursor=next_cursor)


@router.get("/summary", response_model=MoodSummaryOut, responses=ERRORS,
            summary="Counts per mood and mean valence/arousal per day, for charts")
async def summary(
    user: CurrentUserDep,
    events: MoodEventsDep,
    period: Annotated[str, Query(pattern=r"^([1-9]|[1-9][0-9]|[1-2][0-9][0-9]|3[0-5][0-9]|36[0-6])d$",
                                 description="1d … 366d")] = "7d",
) -> MoodSummaryOut:
    result = await summarize(events, str(user["_id"]), int(period[:-1]))
    return MoodSummaryOut.model_validate(result, from_attributes=True)
