"""The General MIDI names the API accepts: the same as pretty_midi's, listed in the schema, accepted exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pretty_midi
import pytest

from music.instruments import GENERAL_MIDI_INSTRUMENTS, PROGRAM_BY_NAME, spelled_like
from orchestrator.core.errors import InvalidInputError
from orchestrator.melodies.schemas import MelodyRequest
from orchestrator.melodies.service import resolve_instrument

ROOT = Path(__file__).resolve().parents[2]


def test_the_names_are_pretty_midis_general_midi_map() -> None:
    # The copy may not drift from the library that renders the programs (music/rendering.py).
    assert list(GENERAL_MIDI_INSTRUMENTS) == pretty_midi.INSTRUMENT_MAP
    assert len(PROGRAM_BY_NAME) == 128
    for name, program in PROGRAM_BY_NAME.items():
        assert pretty_midi.instrument_name_to_program(name) == program
        assert pretty_midi.program_to_instrument_name(program) == name


def test_spelled_like_finds_the_listed_name_of_a_variant() -> None:
    # Every name stays distinct once case, spaces and punctuation are ignored, so a hint is never ambiguous.
    for name in GENERAL_MIDI_INSTRUMENTS:
        assert spelled_like(name.upper().replace(" ", "_")) == name
    assert spelled_like("honky tonk piano") == "Honky-tonk Piano"
    assert spelled_like("Kazoo Supreme") is None


def test_the_schema_lists_every_name_and_the_program_range() -> None:
    options = MelodyRequest.model_json_schema()["properties"]["instrument"]["anyOf"]
    integer, string = sorted(options, key=lambda option: str(option["type"]))
    assert integer == {"type": "integer", "minimum": 0, "maximum": 127}
    assert string == {"type": "string", "enum": list(GENERAL_MIDI_INSTRUMENTS)}


@pytest.mark.parametrize(("instrument", "program"), [(0, 0), (127, 127), ("Acoustic Grand Piano", 0),
                                                     ("Flute", 73), ("Gunshot", 127)])
def test_listed_names_and_programs_are_accepted(instrument: int | str, program: int) -> None:
    assert resolve_instrument(instrument) == program


@pytest.mark.parametrize(("instrument", "reason"), [
    ("flute", "did you mean 'Flute'?"),
    ("acoustic grand piano", "did you mean 'Acoustic Grand Piano'?"),
    (" Flute", "did you mean 'Flute'?"),
    ("Kazoo Supreme", "the API schema lists all 128"),
    (128, "from 0 to 127"),
    (-1, "from 0 to 127"),
])
def test_anything_else_is_422_with_the_listed_spelling(instrument: int | str, reason: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        resolve_instrument(instrument)
    assert refused.value.status == 422 and reason in refused.value.reason


def test_the_api_schema_module_does_not_load_a_midi_library() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, orchestrator.melodies.schemas; print('pretty_midi' in sys.modules)"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert loaded.stdout.strip() == "False", loaded.stderr
