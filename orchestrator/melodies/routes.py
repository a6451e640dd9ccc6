from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect, status

from orchestrator.accounts.deps import CurrentUser, WebSocketToken
from orchestrator.core.errors import DependencyUnavailableError, NotFoundError, UnauthorizedError
from orchestrator.http.responses import AUTHENTICATED, error_responses, link, links
from orchestrator.melodies.jobs import TERMINAL_STAGES, GenerationJob
from orchestrator.melodies.progress import SUBSCRIBED, JobProgress
from orchestrator.melodies.schemas import GenerationJobOut, GenerationJobPage, MelodyRequest
from orchestrator.melodies.service import MelodyService
from orchestrator.wiring import ServicesDep

router = APIRouter(prefix="/v1")
_JOB_ID = {"job_id": "$response.body#/id"}
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=200)]
# WebSocket close codes (4000–4999 are the application's): the HTTP status they stand for + 4000.
CLOSE_UNAUTHORIZED, CLOSE_NOT_FOUND, CLOSE_UNAVAILABLE = 4401, 4404, 4503
SNAPSHOT_INTERVAL_S = 5.0  # re-read the job this often while waiting, in case an event was lost


async def job_out(job: GenerationJob, melodies: MelodyService) -> GenerationJobOut:
    return GenerationJobOut.model_validate({**asdict(job), "files": await melodies.download_links(job)})


@router.post(
    "/melodies",
    response_model=GenerationJobOut,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["melodies"],
    responses={**error_responses(*AUTHENTICATED, 404, 422, 429, descriptions={
        404: "mood_event_id names no mood event of yours",
        422: "Invalid parameters, an unknown mood label or instrument, or a mood event without a mood",
        429: "You have MUSEAIKA_MAX_ACTIVE_JOBS_PER_USER melodies queued or being made (or a rate limit)"}),
        202: links(GetJob=link("get_job", _JOB_ID), RetryJob=link("retry_job", _JOB_ID))},
    operation_id="create_melody",
    summary="Queue an original melody (MIDI, WAV, OGG) for a mood",
    description="Answers at once with the job; follow it on `WS /v1/jobs/{id}/events` or `GET /v1/jobs/{id}`.",
)
async def create_melody(body: MelodyRequest, user: CurrentUser, services: ServicesDep) -> GenerationJobOut:
    return await job_out(await services.melodies.create(user.id, body), services.melodies)


@router.get("/jobs", response_model=GenerationJobPage, responses=error_responses(*AUTHENTICATED, 422),
            tags=["jobs"], summary="The caller's generation jobs")
async def list_jobs(user: CurrentUser, services: ServicesDep, limit: Limit = 20,
                    cursor: Cursor = None) -> GenerationJobPage:
    items, next_cursor = await services.melodies.page(user.id, limit, cursor)
    return GenerationJobPage(items=[await job_out(job, services.melodies) for job in items], next_cursor=next_cursor)


@router.get("/jobs/{job_id}", response_model=GenerationJobOut, operation_id="get_job", tags=["jobs"], responses={
    **error_responses(*AUTHENTICATED, 404, 422), 200: links(RetryJob=link("retry_job", _JOB_ID))})
async def get_job(job_id: str, user: CurrentUser, services: ServicesDep) -> GenerationJobOut:
    return await job_out(await services.melodies.get(user.id, job_id), services.melodies)


@router.post("/jobs/{job_id}/retry", response_model=GenerationJobOut, status_code=202, operation_id="retry_job",
             tags=["jobs"], responses={**error_responses(*AUTHENTICATED, 404, 409, 422, descriptions={
                 409: "Only a failed job can be retried"}), 202: links(GetJob=link("get_job", _JOB_ID))},
             summary="Queue a failed job again (same parameters and seed)")
async def retry_job(job_id: str, user: CurrentUser, services: ServicesDep) -> GenerationJobOut:
    return await job_out(await services.melodies.retry(user.id, job_id), services.melodies)


async def _progress_message(progress: JobProgress, owner_id: str, melodies: MelodyService) -> dict[str, object]:
    """The event as published; the last one also carries the finished job, with its download links."""
    if progress.stage not in TERMINAL_STAGES:
        return progress.as_dict()
    job = await job_out(await melodies.get(owner_id, progress.job_id), melodies)
    return {**progress.as_dict(), "job": job.model_dump(mode="json")}


@router.websocket("/jobs/{job_id}/events")
async def job_events(websocket: WebSocket, job_id: str, services: ServicesDep, token: WebSocketToken) -> None:
    """Progress of one job: a snapshot, then every stage change until done or failed."""
    # Accept first: a close before the handshake reaches the client as a bare HTTP 403, while a close
    # code after it says why (4401 unauthorized, 4404 no such job of yours, 4503 a dependency is down).
    await websocket.accept()
    melodies = services.melodies
    try:
        if not token:
            raise UnauthorizedError("not authenticated")
        owner = (await services.accounts.authenticate(token)).id
        await melodies.get(owner, job_id)
    except UnauthorizedError as error:
        await websocket.close(code=CLOSE_UNAUTHORIZED, reason=error.reason)
        return
    except NotFoundError as error:
        await websocket.close(code=CLOSE_NOT_FOUND, reason=str(error))
        return
    except DependencyUnavailableError as error:
        await websocket.close(code=CLOSE_UNAVAILABLE, reason=f"{error.dependency} unavailable")
        return
    published: asyncio.Queue[JobProgress] = asyncio.Queue()
    subscribed = asyncio.Event()

    async def pump() -> None:
        async for event in services.progress.subscribe(job_id):
            if event is SUBSCRIBED:
                subscribed.set()
            elif isinstance(event, JobProgress):
                await published.put(event)

    async def watch_disconnect() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()

    pumping = asyncio.create_task(pump())
    listening = asyncio.create_task(watch_disconnect())
    try:
        # Subscribed before the snapshot is read: nothing published in between is missed.
        await asyncio.wait({pumping, asyncio.create_task(subscribed.wait())}, return_when=asyncio.FIRST_COMPLETED)
        progress = JobProgress.of(await melodies.get(owner, job_id))
        last: JobProgress | None = None
        while not listening.done():
            if last is None or progress.order > last.order:  # an older event arriving late is not news
                await websocket.send_json(await _progress_message(progress, owner, melodies))
                last = progress
            if last.stage in TERMINAL_STAGES:
                break
            try:
                progress = await asyncio.wait_for(published.get(), SNAPSHOT_INTERVAL_S)
            except TimeoutError:  # no event for a while: one may have been lost, the document has it
                progress = JobProgress.of(await melodies.get(owner, job_id))
        await websocket.close()
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client went away
    except DependencyUnavailableError as error:
        with contextlib.suppress(RuntimeError):
            await websocket.close(code=CLOSE_UNAVAILABLE, reason=f"{error.dependency} unavailable")
    finally:
        pumping.cancel()
        listening.cancel()
        await asyncio.gather(pumping, listening, return_exceptions=True)
