"""``/_standin/cover/...`` (not Spotify's): album and artist images for the synthetic catalogue, served by the
stand-in itself so that a demo page has something to show offline (see Shapes.images)."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter
from fastapi.responses import Response

router = APIRouter()


@router.get("/_standin/cover/{name}")
async def cover(name: str) -> Response:
    return Response(cover_svg(name.removesuffix(".svg")), media_type="image/svg+xml")


def cover_svg(object_id: str) -> str:
    """A small SVG whose colours derive from the id: the same object always gets the same cover."""
    digest = hashlib.sha256(object_id.encode()).hexdigest()
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" '
            f'fill="#{digest[:6]}"/><circle cx="32" cy="32" r="18" fill="#{digest[6:12]}"/>'
            f'<circle cx="32" cy="32" r="4" fill="#{digest[12:18]}"/></svg>')
