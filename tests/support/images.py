"""Test images built from the committed fixtures (public-domain photos from scikit-image)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ASTRONAUT = FIXTURES / "astronaut.jpg"  # one face (NASA portrait of Eileen Collins)
COFFEE = FIXTURES / "coffee.jpg"  # no face


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def astronaut_bytes() -> bytes:
    return ASTRONAUT.read_bytes()


def coffee_bytes() -> bytes:
    return COFFEE.read_bytes()


def two_faces_jpeg() -> bytes:
    """The astronaut beside her mirror image: two faces in one photo."""
    face = Image.open(ASTRONAUT).convert("RGB")
    canvas = Image.new("RGB", (face.width * 2, face.height))
    canvas.paste(face, (0, 0))
    canvas.paste(face.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (face.width, 0))
    return encode(canvas, "JPEG", quality=90)


def truncated_jpeg() -> bytes:
    data = astronaut_bytes()
    return data[: len(data) // 3]


def gif_bytes() -> bytes:
    return encode(Image.open(ASTRONAUT).convert("P"), "GIF")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A tiny PNG whose header claims width×height pixels (3.6 gigapixels by default)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def animated(fmt: str, frames: int = 3) -> bytes:
    """An animated PNG (APNG) or WebP of the astronaut: a few slightly shifted frames."""
    face = Image.open(ASTRONAUT).convert("RGB")
    sequence = [face.rotate(2 * i) for i in range(frames)]
    return encode(sequence[0], fmt, save_all=True, append_images=sequence[1:], duration=100, loop=0)


def mpo(frames: int = 2) -> bytes:
    """A multi-picture JPEG as phones write for HDR and portrait shots: the astronaut first, then a darker copy."""
    face = Image.open(ASTRONAUT).convert("RGB")
    others = [face.point(lambda value, divisor=2 + i: value // divisor) for i in range(frames - 1)]
    return encode(face, "MPO", save_all=True, append_images=others, quality=90)


def exif_rotated_jpeg(orientation: int = 6) -> bytes:
    """The astronaut stored sideways, with the EXIF orientation tag that tells viewers to turn her upright
    (6: rotate 90° clockwise to display), as phone cameras write them."""
    face = Image.open(ASTRONAUT).convert("RGB")
    stored = face.transpose(Image.Transpose.ROTATE_90)  # counter-clockwise: what orientation 6 undoes
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, "JPEG", quality=95, exif=exif.tobytes())


def tiny_jpeg(side: int = 5) -> bytes:
    """A valid JPEG too small to hold a face MTCNN can find."""
    return encode(Image.open(COFFEE).convert("RGB").resize((side, side)), "JPEG", quality=90)


def wide_strip_jpeg(width: int = 2000, height: int = 90) -> bytes:
    """A valid photo with no face, so wide that a downscaled copy of it is thinner than MTCNN's pyramid allows."""
    return encode(Image.open(COFFEE).convert("RGB").resize((width, height)), "JPEG", quality=90)
