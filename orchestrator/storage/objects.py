"""Object storage (S3-compatible) for generated files, through the minio client.

minio is synchronous: each call runs in a thread. Connection failures, timeouts and 5xx answers surface as
`DependencyUnavailableError`, a missing key as `NotFoundError`; other S3 errors (access denied, a bad
signature: configuration mistakes) propagate unchanged."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TypeVar
from urllib.parse import quote

import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.helpers import DictType
from urllib3.exceptions import HTTPError

from orchestrator.core.errors import DependencyUnavailableError, NotFoundError
from orchestrator.core.settings import Settings

DEPENDENCY = "object storage"
# Timeouts come from settings (S3_CONNECT_TIMEOUT_S, S3_READ_TIMEOUT_S). A refused connection fails at once
# (~ms); a server that accepts but never answers after 2 x read timeout (one read retry covers a pooled
# keep-alive connection the server closed meanwhile). The read timeout bounds the wait for each chunk of
# an answer, not a whole transfer.
UNAVAILABLE_CODES = frozenset({"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout"})

T = TypeVar("T")


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@contextmanager
def translate_errors(key: str | None = None) -> Iterator[None]:
    try:
        yield
    except S3Error as error:
        if error.code == "NoSuchKey" and key is not None:
            raise NotFoundError(f"object {key}") from error
        if error.code == "NoSuchBucket":
            raise DependencyUnavailableError(DEPENDENCY, f"bucket {error.bucket_name} does not exist") from error
        if error.code in UNAVAILABLE_CODES or error.response.status >= 500:
            raise DependencyUnavailableError(DEPENDENCY, f"{error.code}: {error.message}") from error
        raise
    except ServerError as error:
        # A 5xx answer without an S3 error body (e.g. from a proxy).
        if error.status_code >= 500:
            raise DependencyUnavailableError(DEPENDENCY, f"HTTP {error.status_code}") from error
        raise
    except InvalidResponseError as error:
        # A non-XML answer: a proxy's error page when the server behind it is down.
        status = getattr(error, "_code", 0)
        if isinstance(status, int) and status >= 500:
            raise DependencyUnavailableError(DEPENDENCY, f"HTTP {status} (not from S3)") from error
        raise
    except (HTTPError, OSError) as error:
        # urllib3: connection refused, timeouts, connection dropped mid-body, retries exhausted.
        reason = getattr(error, "reason", None) or error
        raise DependencyUnavailableError(DEPENDENCY, f"{type(reason).__name__}: {reason}") from error


class ObjectStore:
    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        self.presigned_ttl = timedelta(seconds=settings.presigned_url_ttl_s)
        self._http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=settings.s3_connect_timeout_s, read=settings.s3_read_timeout_s),
            maxsize=10,
            retries=urllib3.Retry(total=2, connect=1, read=1, status=1, backoff_factor=0.2,
                                  status_forcelist=[502, 503, 504], raise_on_status=False),
        )
        # The region is given, so the client never asks the server for a bucket's location.
        self.client = Minio(settings.s3_endpoint, access_key=settings.s3_access_key,
                            secret_key=settings.s3_secret_key, secure=settings.s3_secure,
                            region=settings.s3_region, http_client=self._http)

    async def _run(self, call: Callable[[], T], key: str | None = None) -> T:
        def translated() -> T:
            with translate_errors(key):
                return call()

        return await asyncio.to_thread(translated)

    async def ping(self) -> None:
        """The endpoint answers, accepts our credentials, and the bucket exists."""

        def check() -> None:
            if not self.client.bucket_exists(self.bucket):
                raise DependencyUnavailableError(DEPENDENCY, f"bucket {self.bucket} does not exist")

        await self._run(check)

    async def ensure_bucket(self) -> None:
        def ensure() -> None:
            if self.client.bucket_exists(self.bucket):
                return
            try:
                self.client.make_bucket(self.bucket)
            except S3Error as error:
                # The orchestrator and the worker may both create it at startup.
                if error.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

        await self._run(ensure)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        def put() -> None:
            self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=content_type)

        await self._run(put, key)

    async def get_bytes(self, key: str) -> bytes:
        def get() -> bytes:
            response = self.client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return await self._run(get, key)

    async def presigned_get_url(self, key: str, filename: str | None = None) -> str:
        """A GET URL anyone can use until the TTL ends; with `filename`, a download under that name (the
        server applies response-content-disposition; nanio ignores it, S3 and MinIO honour it)."""
        headers: DictType | None = (
            {"response-content-disposition": content_disposition(filename)} if filename else None)

        def presign() -> str:
            return self.client.presigned_get_object(self.bucket, key, expires=self.presigned_ttl,
                                                    response_headers=headers)

        return await self._run(presign, key)

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with `prefix`; returns how many."""
        if not prefix:
            raise ValueError("refusing to delete a whole bucket: the prefix is empty")

        def delete() -> int:
            keys = [o.object_name for o in self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
                    if o.object_name is not None]
            if not keys:
                return 0
            errors = list(self.client.remove_objects(self.bucket, (DeleteObject(k) for k in keys)))
            if errors:
                raise DependencyUnavailableError(
                    DEPENDENCY, f"{len(errors)} of {len(keys)} objects under {prefix} not deleted: {errors[0].code}")
            return len(keys)

        return await self._run(delete)

    async def close(self) -> None:
        self._http.clear()
