"""Turn untrusted image bytes into an RGB array, refusing what is not a supported, intact image."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from handlers.base import RequestError

# MPO is JPEG with more frames appended (phones write HDR and portrait shots so): its first frame is scored.
SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP"})


def decode_rgb(payload: bytes, max_pixels: int) -> np.ndarray:
    """Decode to an (H, W, 3) uint8 RGB array with EXIF orientation applied.

    The pixel count is checked from the header before any pixel is decoded, so a decompression
    bomb costs nothing.
    """
    if not payload:
        raise RequestError(400, "empty image payload")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(payload))
    except UnidentifiedImageError as error:
        raise RequestError(415, "payload is not a JPEG, PNG or WebP image") from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise RequestError(413, f"image has too many pixels ({error})") from error
    if image.format not in SUPPORTED_FORMATS:
        raise RequestError(415, f"unsupported image format {image.format}; send JPEG, PNG or WebP")
    if image.format != "MPO" and getattr(image, "is_animated", False):
        raise RequestError(415, f"animated {image.format} images are not supported; send a still photo")
    width, height = image.size
    if width * height > max_pixels:
        raise RequestError(413, f"image is {width}x{height}, over the limit of {max_pixels} pixels")
    try:
        image.load()
        rgb = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, SyntaxError, ValueError) as error:
        raise RequestError(400, f"image is corrupt or truncated: {error}") from error
    return np.asarray(rgb)
