"""Which route a request is for, as seen from middleware (which runs before the router does)."""

from __future__ import annotations

import re

from fastapi import FastAPI
from starlette.routing import Match, compile_path
from starlette.types import Scope

# Liveness, readiness and metrics: what orchestration polls; never rate-limited.
PROBE_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})

# The keys of an OpenAPI path item that are operations.
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def route_path(scope: Scope) -> str:
    """The path the router matches: scope["path"] without the root path the app is served under (ASGI puts the
    root path in both), "/" for the root itself."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    # "/api" is the root of "/api/v1/…", not of "/apiv1/…" (the check Starlette's router makes).
    if root and path.startswith(root) and path[len(root):][:1] in ("", "/"):
        return path[len(root):] or "/"
    return path


class RouteTemplates:
    """The template of the route a request is for ("/v1/playlists/{playlist_id}"; a mount's prefix), found from
    outside the router: among the app's own routes (the schema, the docs pages, mounts) and the operations of its
    OpenAPI schema (FastAPI wraps included routers in routes of its own, which name no template)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._operations: list[tuple[str, re.Pattern[str], str]] | None = None

    def _compiled_operations(self) -> list[tuple[str, re.Pattern[str], str]]:
        if self._operations is None:  # on first use: every router is included by then
            operations = [(method.upper(), compile_path(path)[0], path)
                          for path, item in self.app.openapi().get("paths", {}).items()
                          for method in item if method in HTTP_METHODS]
            # A fixed segment wins over a parameter ("/v1/playlists/journey" over "/v1/playlists/{playlist_id}"),
            # as routes are declared.
            self._operations = sorted(operations, key=lambda operation: operation[2].count("{"))
        return self._operations

    def find(self, scope: Scope) -> str | None:
        """None when no route serves this method and path."""
        for route in self.app.router.routes:
            path: str | None = getattr(route, "path", None)
            if path is not None and route.matches(scope)[0] == Match.FULL:
                return path
        method, path = scope["method"], route_path(scope)
        for operation_method, pattern, template in self._compiled_operations():
            if operation_method == method and pattern.match(path):
                return template
        return None
