"""Cheap checks on an uploaded image before any model sees it: size, format, pixel count.

Only the header is parsed here; full decoding (and the truncated-file check) happens in the model
server, which must guard itself anyway.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from orchestrator.core.errors import InvalidInputError

# MPO is JPEG with more frames appended (phones write HDR and portrait shots so); its first frame is the photo.
ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True)
class ImageHeader:
    format: str
    width: int
    height: int


def inspect_image(data: bytes, max_bytes: int, max_pixels: int) -> ImageHeader:
    if not data:
        raise InvalidInputError(400, "the image upload is empty")
    if len(data) > max_bytes:
        raise InvalidInputError(413, f"image is {len(data)} bytes; the limit is {max_bytes}")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard would only warn below 2× its limit; ours is the only limit.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise InvalidInputError(413, f"refused before decoding (decompression bomb): {error}") from error
    except (UnidentifiedImageError, OSError) as error:
        raise InvalidInputError(415, "the upload is not a JPEG, PNG or WebP image") from error
    if image.format not in ACCEPTED_FORMATS:
        raise InvalidInputError(415, f"{image.format} images are not supported; send JPEG, PNG or WebP")
    if image.format != "MPO" and getattr(image, "is_animated", False):
        # Which frame holds the face is anyone's guess, and each frame costs a full decode: ask for a still.
        raise InvalidInputError(415, f"animated {image.format} images ({getattr(image, 'n_frames', '?')} frames) "
                                     "are not supported; send a still photo")
    width, height = image.size
    if width * height > max_pixels:
        raise InvalidInputError(
            413, f"image is {width}x{height} = {width * height} pixels, over the limit of {max_pixels}; "
            "refused before decoding"
        )
    return ImageHeader(image.format, width, height)
