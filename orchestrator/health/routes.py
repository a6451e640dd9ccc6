from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from orchestrator.core.metrics import REGISTRY
from orchestrator.health.schemas import DependencyStatusOut, ReadinessOut
from orchestrator.http.responses import RETRY_AFTER
from orchestrator.wiring import ServicesDep

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=ReadinessOut, responses={503: {
    "model": ReadinessOut, "headers": RETRY_AFTER, "description": "A dependency is down: `dependencies` says which"}},
            summary="Readiness of each dependency; 503 when one is down")
async def readyz(services: ServicesDep) -> JSONResponse:
    result = await services.readiness.check()
    body = ReadinessOut(
        ready=result.ready,
        dependencies={
            name: DependencyStatusOut(ready=s.ready, detail=s.detail) for name, s in result.dependencies.items()
        },
    )
    headers = {} if result.ready else {"Retry-After": str(services.settings.retry_after_s)}
    return JSONResponse(body.model_dump(), status_code=200 if result.ready else 503, headers=headers)


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics (text exposition format)")
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
