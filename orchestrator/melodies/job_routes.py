from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect

from orchestrator.core.errors import DependencyUnavailableError, NotFoundError, UnauthorizedError
from orchestrator.deps import CurrentUserDep, JobsDep, MelodiesDep
from orchestrator.http.responses import AUTHENTICATED, error_responses, link, links
from orchestrator.melodies.progress import SUBSCRIBED, TERMINAL_STAGES
from orchestrator.melodies.schemas import GenerationJobOut, GenerationJobPage

router = APIRouter(prefix="/v1", tags=["jobs"])
_JOB_ID = {"job_id": "$response.body#/id"}
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=200)]
# WebSocket close codes (4000–4999 are the application's): the HTTP status they stand for + 4000.
CLOSE_UNAUTHORIZED, CLOSE_NOT_FOUND, CLOSE_UNAVAILABLE = 4401, 4404, 4503
SNAPSHOT_INTERVAL_S = 5.0  # re-read the job this often while waiting, in case an event was lost


@router.get("/jobs", response_model=GenerationJobPage, responses=error_responses(*AUTHENTICATED, 422),
            summary="The caller's generation jobs")
async def list_jobs(user: CurrentUserDep, jobs: JobsDep, melodies: MelodiesDep, limit: Limit = 20,
                    cursor: Cursor = None) -> GenerationJobPage:
    items, next_cursor = await jobs.page(str(user["_id"]), limit, cursor)
    described = [GenerationJobOut.model_validate(await melodies.describe(d)) for d in items]
    return GenerationJobPage(items=described, next_cursor=next_cursor)


@router.get("/jobs/{job_id}", response_model=GenerationJobOut, operation_id="get_job", responses={
    **error_responses(*AUTHENTICATED, 404, 422), 200: links(RetryJob=link("retry_job", _JOB_ID))})
async def get_job(job_id: str, user: CurrentUserDep, jobs: JobsDep, melodies: MelodiesDep) -> GenerationJobOut:
    return GenerationJobOut.model_validate(await melodies.describe(await jobs.get(str(user["_id"]), job_id)))


@router.post("/jobs/{job_id}/retry", response_model=GenerationJobOut, status_code=202, operation_id="retry_job",
             responses={**error_responses(*AUTHENTICATED, 404, 409, 422, descriptions={
                 409: "Only a failed job can be retried"}), 202: links(GetJob=link("get_job", _JOB_ID))},
             summary="Queue a failed job again (same parameters and seed)")
async def retry_job(job_id: str, user: CurrentUserDep, melodies: MelodiesDep) -> GenerationJobOut:
    return GenerationJobOut.model_validate(await melodies.describe(await melodies.retry(str(user["_id"]), job_id)))


def _event(job: dict[str, Any]) -> dict[str, Any]:
    return {"job_id": job["id"], "stage": job.get("stage", "queued"), "state": job["state"],
            "progress": job.get("progress", 0.0), "error": job.get("error"),
            **({"job": GenerationJobOut.model_validate(job).model_dump(mode="json")}
               if job.get("stage") in TERMINAL_STAGES else {})}


@router.websocket("/jobs/{job_id}/events")
async def job_events(websocket: WebSocket, job_id: str, access_token: str | None = None) -> None:
    """Progress of one job: a snapshot, then every stage change until done or failed. Browsers cannot
    set headers on a WebSocket, so the token may come as `?access_token=`; Authorization also works."""
    state = websocket.app.state
    # Accept first: a close before the handshake reaches the client as a bare HTTP 403, while a close
    # code after it says why (4401 unauthorized, 4404 no such job of yours, 4503 a dependency is down).
    await websocket.accept()
    header = websocket.headers.get("authorization", "")
    token = access_token or (header[7:] if header.lower().startswith("bearer ") else None)
    try:
        if not token:
            raise UnauthorizedError("not authenticated")
        user = await state.accounts.authenticate(token)
        owner = str(user["_id"])
        await state.jobs.get(owner, job_id)
    except UnauthorizedError as error:
        await websocket.close(code=CLOSE_UNAUTHORIZED, reason=error.reason)
        return
    except NotFoundError as error:
        await websocket.close(code=CLOSE_NOT_FOUND, reason=str(error))
        return
    except DependencyUnavailableError as error:
        await websocket.close(code=CLOSE_UNAVAILABLE, reason=f"{error.dependency} unavailable")
        return
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    subscribed = asyncio.Event()

    async def pump() -> None:
        async for event in state.progress.subscribe(job_id):
            if event is SUBSCRIBED:
                subscribed.set()
            else:
                await events.put(event)

    async def watch_disconnect() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()

    pumping = asyncio.create_task(pump())
    listening = asyncio.create_task(watch_disconnect())
    try:
        await asyncio.wait({pumping, asyncio.create_task(subscribed.wait())}, return_when=asyncio.FIRST_COMPLETED)
        last: tuple[Any, ...] = ()
        while not listening.done():
            job = await state.melodies.describe(await state.jobs.get(owner, job_id))
            current = (job.get("stage"), job.get("progress"), job["state"])
            if current != last:
                await websocket.send_json(_event(job))
                last = current
            if job.get("stage") in TERMINAL_STAGES:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(events.get(), SNAPSHOT_INTERVAL_S)  # wake on the next event
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
