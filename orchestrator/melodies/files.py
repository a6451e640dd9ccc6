"""The files a melody job produces: their names, media types and object-store keys.

Apart from the pipeline that renders them, so the API can name and presign them without importing the
audio stack (pretty_midi, pyloudnorm, soundfile, scipy). A job makes the MIDI file (one track per part) and the
mix (WAV, OGG); a piece of several parts also makes one OGG stem per part (`stem_melody`, `stem_chords` …)."""

from __future__ import annotations

from dataclasses import dataclass

from music.piece import PARTS


@dataclass(frozen=True)
class ResultFile:
    file_name: str
    media_type: str


RESULT_FILES = {"midi": ResultFile("melody.mid", "audio/midi"), "wav": ResultFile("melody.wav", "audio/wav"),
                "ogg": ResultFile("melody.ogg", "audio/ogg"),
                **{f"stem_{part}": ResultFile(f"stem-{part}.ogg", "audio/ogg") for part in PARTS}}
_KIND_BY_FILE_NAME = {file.file_name: kind for kind, file in RESULT_FILES.items()}


def result_key(owner_id: str, job_id: str, kind: str) -> str:
    """Fixed by the job: a retried upload overwrites its own objects instead of adding new ones."""
    return f"users/{owner_id}/melodies/{job_id}/{RESULT_FILES[kind].file_name}"


def result_kind(key: str) -> str | None:
    """The kind of file a result key holds (None for a name this version does not know)."""
    return _KIND_BY_FILE_NAME.get(key.rpartition("/")[2])
