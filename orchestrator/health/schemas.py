"""Bodies of the readiness probe."""

from __future__ import annotations

from pydantic import BaseModel


class DependencyStatusOut(BaseModel):
    ready: bool
    detail: str


class ReadinessOut(BaseModel):
    ready: bool
    dependencies: dict[str, DependencyStatusOut]
