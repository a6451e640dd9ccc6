"""The files a melody job produces: their names, media types and object-store keys.

Apart from the pipeline that renders them, so the API can name and presign them without importing the
audio stack (pretty_midi, pyloudnorm, soundfile, scipy)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResultFile:
    file_name: str
    media_type: str


RESULT_FILES = {"midi": ResultFile("melody.mid", "audio/midi"), "wav": ResultFile("melody.wav", "audio/wav"),
                "ogg": ResultFile("melody.ogg", "audio/ogg")}


def result_key(owner_id: str, job_id: str, kind: str) -> str:
    """Fixed by the job: a retried upload overwrites its own objects instead of adding new ones."""
    return f"users/{owner_id}/melodies/{job_id}/{RESULT_FILES[kind].file_name}"
