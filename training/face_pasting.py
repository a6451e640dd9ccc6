"""A FER2013 crop made into a photo: upscaled, pasted on a plain background, saved as a JPEG.

What users send is a photo, not FER2013's 48×48 crop; the detector-crop benchmark and the served-crop
training data both start from such photos so the face then goes through the real pipeline.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Pasting:
    face_px: int  # side of the upscaled face
    margin: int  # background on each side before the shift, in pixels
    shift: tuple[int, int]  # (dx, dy) of the face from the centred position
    background: int  # gray level
    jpeg_quality: int
    # "flat": the gray background; "reflect": the face mirrored outward, so the photo goes on past the crop's
    # edges as a real photo would (no flat band for an aligned crop to pick up when it turns the face)
    fill: str = "flat"


def paste_face(face: np.ndarray, pasting: Pasting) -> tuple[bytes, tuple[int, int, int, int]]:
    """A (48, 48) uint8 gray face → RGB JPEG bytes and the face's (x, y, width, height) in the photo."""
    side = pasting.face_px + 2 * pasting.margin
    big = Image.fromarray(face).resize((pasting.face_px, pasting.face_px), Image.Resampling.BICUBIC)
    x, y = pasting.margin + pasting.shift[0], pasting.margin + pasting.shift[1]
    if pasting.fill == "reflect":
        grown = cv2.copyMakeBorder(np.asarray(big), y, side - y - pasting.face_px, x, side - x - pasting.face_px,
                                   cv2.BORDER_REFLECT_101)
        canvas = Image.fromarray(grown).convert("RGB")
    elif pasting.fill == "flat":
        canvas = Image.new("RGB", (side, side), (pasting.background,) * 3)
        canvas.paste(big.convert("RGB"), (x, y))
    else:
        raise ValueError(f"unknown fill {pasting.fill!r}: flat or reflect")
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=pasting.jpeg_quality)
    return buffer.getvalue(), (x, y, pasting.face_px, pasting.face_px)
