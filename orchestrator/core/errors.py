"""Domain errors raised by services; `orchestrator.http.errors` turns them into HTTP answers."""

from __future__ import annotations


class InvalidInputError(Exception):
    """The client sent something we refuse (4xx); `status` says which kind of refusal."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class DependencyUnavailableError(Exception):
    """A dependency (model server, database) cannot serve now; the client should retry later."""

    def __init__(self, dependency: str, reason: str) -> None:
        super().__init__(f"{dependency} unavailable: {reason}")
        self.dependency = dependency
        self.reason = reason


class NotFoundError(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class UnauthorizedError(Exception):
    """Missing, invalid or expired credentials (401, with a WWW-Authenticate challenge)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooManyAttemptsError(Exception):
    def __init__(self, reason: str, retry_after_s: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s
