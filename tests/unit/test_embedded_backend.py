"""The embedded backend end to end in-process: one bad request in a batch fails alone."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from orchestrator.core.settings import Settings
from orchestrator.inference.client import ModelInputError
from orchestrator.inference.embedded import EmbeddedBackend
from tests.support import images


def test_a_tiny_image_batched_with_good_photos_fails_alone_with_a_4xx(tmp_path: Path) -> None:
    settings = Settings(model_versions={"emotion": "1.0.0"})
    backend = EmbeddedBackend(settings.model_store, settings.torchserve_config, tmp_path, ["emotion"],
                              settings.model_versions)

    async def ask() -> list[dict[str, Any] | BaseException]:
        await backend.start()
        try:
            payloads = [images.astronaut_bytes(), images.tiny_jpeg(5), images.two_faces_jpeg()]
            return list(await asyncio.gather(*(backend.predict("emotion", p) for p in payloads),
                                             return_exceptions=True))
        finally:
            await backend.close()

    one, tiny, two = asyncio.run(ask())
    assert isinstance(tiny, ModelInputError)
    assert isinstance(one, dict) and isinstance(two, dict)
    assert (tiny.status, tiny.reason) == (422, "image too small: at least 20×20 px")
    assert [f["top_emotion"] for f in one["faces"]] == ["happy"]
    assert len(two["faces"]) == 2
    assert one["batch"]["size"] == 3, "the three shared one batch"

