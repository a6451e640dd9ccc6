"""The generation worker: `python -m orchestrator.melodies.worker` (the launcher starts it).

It runs saq over the same Redis as the API, with its own inference backend for the melody model
(embedded by default: the melody archive loaded in this process; or TorchServe over HTTP), MongoDB for
job documents and S3 for results. Once connected it creates MUSEAIKA_WORKER_READY_FILE, if set, so the
launcher knows it is consuming.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from saq import Worker
from saq.job import Job
from saq.types import PartialTimersDict

from orchestrator.core.errors import DependencyUnavailableError, InvalidInputError, NotFoundError
from orchestrator.core.logs import configure_logging
from orchestrator.core.settings import Settings, get_settings
from orchestrator.melodies.pipeline import Heartbeat, MelodyPipeline, failure_reason
from orchestrator.melodies.queue import MELODY_TASK, create_queue
from orchestrator.storage.redis import RedisTimeouts
from orchestrator.wiring import WorkerServices, start_worker_services

logger = logging.getLogger(__name__)
Context = dict[str, Any]


async def generate_melody(ctx: Context, *, generation_job_id: str) -> None:
    job: Job = ctx["job"]
    await run_job(ctx["pipeline"], generation_job_id, job.attempts, job.retryable, job.update)


async def run_job(pipeline: MelodyPipeline, job_id: str, attempt: int, retryable: bool,
                  heartbeat: Heartbeat | None = None) -> None:
    """One attempt at a job. A failure raises, so saq retries the job while `retryable`; the last attempt
    first records the job as failed, with its reason."""
    try:
        try:
            job = await pipeline.jobs.by_id(job_id)
        except NotFoundError:
            # No document: the API refused the request after all (an enqueue that timed out reached a slow
            # Redis later; the API removed the document and answered 503) or the account was deleted. Only
            # this lookup may drop a job: a NotFoundError further on (a missing object, say) is a failure
            # like any other, or the job would stay queued/running for ever, counting against the quota.
            logger.warning("job %s has no document; dropped", job_id)
            return
        await pipeline.run(job, attempt, heartbeat=heartbeat)
    except InvalidInputError as error:  # retrying cannot help
        await pipeline.fail(job_id, failure_reason(error), attempt)
    except Exception as error:
        if retryable:
            logger.warning("job %s attempt %d failed (%s); saq retries it", job_id, attempt, error)
            raise
        logger.exception("job %s failed after %d attempts", job_id, attempt)
        try:
            await pipeline.fail(job_id, failure_reason(error), attempt)
        except DependencyUnavailableError:
            logger.error("could not record the failure of job %s", job_id)
        raise


def build_worker(settings: Settings) -> Worker:
    redis_timeouts = RedisTimeouts.from_settings(settings)
    queue = create_queue(settings.redis_url, redis_timeouts)

    async def startup(ctx: Context) -> None:
        services = await start_worker_services(settings)
        ctx.update(services=services, pipeline=services.pipeline)
        await queue.redis.ping()  # type: ignore[attr-defined]
        ready_file = os.environ.get("MUSEAIKA_WORKER_READY_FILE")
        if ready_file:
            Path(ready_file).write_text(str(os.getpid()))
        logger.info("generation worker ready (concurrency %d)", settings.worker_concurrency)

    async def shutdown(ctx: Context) -> None:
        services: WorkerServices | None = ctx.get("services")
        if services is not None:
            await services.close()

    return Worker(queue, functions=[(MELODY_TASK, generate_melody)], concurrency=settings.worker_concurrency,
                  startup=startup, shutdown=shutdown,
                  # BLMOVE blocks for less than the reply timeout: an idle queue is a timed-out read otherwise.
                  dequeue_timeout=redis_timeouts.dequeue_timeout_s,
                  # Sweep often: a job whose worker died is re-queued once its heartbeat is overdue.
                  timers=PartialTimersDict(sweep=settings.job_sweep_interval_s, abort=1, schedule=1, worker_info=10))


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    asyncio.run(build_worker(settings).start())


if __name__ == "__main__":
    main()
