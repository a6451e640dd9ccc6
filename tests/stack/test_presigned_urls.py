"""Links to generated files are presigned S3 URLs that live PRESIGNED_URL_TTL_S (an hour by default, a day at
most) and then stop working: nanio, like S3, checks X-Amz-Expires against X-Amz-Date and the signature."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from pydantic import ValidationError

from launcher import services
from orchestrator.core.settings import Settings
from orchestrator.storage.objects import ObjectStore

# Links checked for working (and for tampering) live long enough for any machine to use them; only the expiry
# check signs a short one. (X-Amz-Date has 1-s resolution: a 2-s link may have under 2 s left when it is used.)
TTL_S = 600
SHORT_TTL_S = 2
KEY = "users/presign-test/melodies/job/melody.mid"


def settings(s3: services.S3Endpoint, ttl_s: int) -> Settings:
    return Settings(s3_endpoint=s3.endpoint, s3_access_key=s3.access_key, s3_secret_key=s3.secret_key,
                    s3_region=s3.region, s3_bucket="museaika-presign", presigned_url_ttl_s=ttl_s)


@pytest.fixture
async def store(s3_endpoint: services.S3Endpoint) -> AsyncIterator[ObjectStore]:
    objects = ObjectStore(settings(s3_endpoint, TTL_S))
    await objects.ensure_bucket()
    await objects.put_bytes(KEY, b"MThd-not-really", "audio/midi")
    yield objects
    await objects.delete_prefix("users/presign-test/")
    await objects.close()


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlparse(url).query).items()}


def test_the_lifetime_is_the_setting_and_bounded() -> None:
    assert Settings.model_fields["presigned_url_ttl_s"].default == 3600
    with pytest.raises(ValidationError):
        Settings(presigned_url_ttl_s=24 * 3600 + 1)
    with pytest.raises(ValidationError):
        Settings(presigned_url_ttl_s=0)


async def test_a_link_works_until_its_lifetime_ends_and_not_after(s3_endpoint: services.S3Endpoint,
                                                                  store: ObjectStore) -> None:
    url = await store.presigned_get_url(KEY, "melody.mid")
    fields = query(url)
    assert int(fields["X-Amz-Expires"]) == TTL_S
    assert fields["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and len(fields["X-Amz-Signature"]) == 64
    short_lived = ObjectStore(settings(s3_endpoint, SHORT_TTL_S))
    try:
        short_url = await short_lived.presigned_get_url(KEY, "melody.mid")
    finally:
        await short_lived.close()
    short_fields = query(short_url)
    assert int(short_fields["X-Amz-Expires"]) == SHORT_TTL_S
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(url)).content == b"MThd-not-really"
        # Tampering with the lifetime breaks the signature.
        longer = url.replace(f"X-Amz-Expires={TTL_S}", "X-Amz-Expires=604800")
        assert (await client.get(longer)).status_code == 403
        # Past its lifetime (counted from X-Amz-Date, whole seconds) a link is refused as expired: the same
        # signature, valid but for the time (a bad one is refused as such, see the test below).
        signed_at = datetime.strptime(short_fields["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        await asyncio.sleep(max(0.0, signed_at.timestamp() + SHORT_TTL_S + 1.5 - time.time()))
        expired = await client.get(short_url)
        assert expired.status_code == 403 and "expired" in expired.text


async def test_an_unsigned_or_resigned_url_is_refused(store: ObjectStore) -> None:
    url = await store.presigned_get_url(KEY)
    parsed = urlparse(url)
    fields = query(url)
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(parsed._replace(query="").geturl())).status_code == 403
        other_key = parsed._replace(path=parsed.path.replace("melody.mid", "other.mid")).geturl()
        assert (await client.get(other_key)).status_code == 403
        bad_signature = urlencode({**fields, "X-Amz-Signature": "0" * 64})
        assert (await client.get(parsed._replace(query=bad_signature).geturl())).status_code == 403
