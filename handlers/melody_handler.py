"""Melody model server: a mood-conditioned MelodyRNN generating monophonic melodies.

A request asks for a mode, a note density (a quantile of the training tunes' densities), a length in
bars, a temperature and a seed. Every request is sampled as several candidates at once, and a key check
(music.key_finding) keeps the candidates that every one of `key_finders` hears in the requested mode on
tonic C — preferring, among those, the one nearest the requested density; requests with no passing
candidate are resampled with fresh candidates, up to `max_rounds`. Two finders built on different data
(folk melodies, art-music chords) must agree: one alone lets through minor tunes that lean on the relative
major. Every candidate draws from its own
seeded stream, so the same request gives the same melody whatever shares its batch.

With the model's phrase forms (music.phrase_forms), each candidate follows the form of a training tune near
the requested density: its planned bars repeat earlier ones. Melodies come back in C (pitches 48–83 on a 16th-note grid,
Magenta's event encoding); transposing, tempo, instrument and rendering are the caller's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from handlers.base import BaseHandler, RequestError, torchserve_entry_point
from music.conditioning import DensityScale, condition_vector
from music.encoding import encoding_by_name
from music.events import STEPS_PER_BAR
from music.key_finding import PROFILES, Key, find_key, key_correlation
from music.mood_targets import DEFAULT_TEMPERATURE
from music.phrase_forms import FORMS_FILE, PhraseForms, copy_plan, unplanned_repeats
from networks.melody_rnn import load_melody_rnn
from networks.melody_sampler import SamplingRequest, sample_melodies

DEFAULTS: dict[str, Any] = {
    "candidates": 4,  # sampled per request per round
    "max_rounds": 4,
    "max_bars": 64,
    "max_temperature": 4.0,
    "primer_pitch": 60,  # every melody starts on its tonic, C4
    "phrase_forms": True,  # repeat bars as the training tunes do, where the model directory has their forms
    # Probability that each repeat a drawn form plans is kept: one value, or [at density 0, at density 1].
    "repeat_share": [1.0, 0.65],
    "key_finders": ["aarden_essen", "bellman_budge"],  # music.key_finding.PROFILES that must all hear the mode
}
TONIC = 0  # generated melodies are in C; the caller transposes
REPORTED_KEY_FINDER = "aarden_essen"  # the key an answer names (music21's default finder)


@dataclass(frozen=True)
class MelodyRequest:
    mode: str
    density: float  # quantile of the training tunes' notes per bar
    bars: int
    temperature: float
    seed: int


@dataclass
class GeneratedMelody:
    request: MelodyRequest
    events: np.ndarray
    key: Key | None
    passed_key_check: bool
    rounds: int
    target_notes_per_bar: float | None  # None for an unconditioned model


def notes_per_bar(events: np.ndarray) -> float:
    return float(np.count_nonzero(events >= 0)) / (len(events) / STEPS_PER_BAR)


class MelodyHandler(BaseHandler[MelodyRequest, GeneratedMelody]):
    def load(self, model_dir: Path, device: torch.device) -> None:
        self.settings = {**DEFAULTS, **self.config}
        self.key_finders = [str(name) for name in self.settings["key_finders"]]
        unknown = sorted(set(self.key_finders) - set(PROFILES))
        if not self.key_finders or unknown:
            raise ValueError(f"key_finders must name some of {sorted(PROFILES)}; unknown: {unknown}")
        # Sampling is one step at a time for a few dozen rows: the CPU beats a GPU round trip per step.
        self.model, metadata = load_melody_rnn(model_dir)
        self.encoding = encoding_by_name(self.model.config.encoding)
        conditioning = metadata.get("conditioning")
        self.density_scale = DensityScale.from_dict(conditioning["density"]) if conditioning else None
        forms_file = model_dir / FORMS_FILE
        use_forms = str(self.settings["phrase_forms"]).lower() not in ("false", "0", "no")
        self.phrase_forms = (PhraseForms.from_dict(json.loads(forms_file.read_text()))
                             if forms_file.is_file() and use_forms else None)

    def preprocess_one(self, payload: bytes) -> MelodyRequest:
        try:
            body = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise RequestError(400, f"request is not JSON: {error}") from error
        if not isinstance(body, dict):
            raise RequestError(400, "request must be a JSON object")
        mode = body.get("mode", "major")
        if mode not in ("major", "minor"):
            raise RequestError(422, "mode must be 'major' or 'minor'")
        density = body.get("density", 0.5)
        bars = body.get("bars", 8)
        temperature = body.get("temperature", DEFAULT_TEMPERATURE)
        seed = body.get("seed", 0)
        if not isinstance(density, int | float) or isinstance(density, bool) or not 0.0 <= density <= 1.0:
            raise RequestError(422, "density must be a number in [0, 1] (a quantile of the training tunes)")
        if not isinstance(bars, int) or isinstance(bars, bool) or not 1 <= bars <= int(self.settings["max_bars"]):
            raise RequestError(422, f"bars must be an integer from 1 to {self.settings['max_bars']}")
        max_temperature = float(self.settings["max_temperature"])
        if (not isinstance(temperature, int | float) or isinstance(temperature, bool)
                or not 0.0 < temperature <= max_temperature):
            raise RequestError(422, f"temperature must be > 0 and ≤ {max_temperature}")
        if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
            raise RequestError(422, "seed must be a non-negative 64-bit integer")
        return MelodyRequest(mode, float(density), bars, float(temperature), seed)

    def _cues(self, request: MelodyRequest) -> tuple[float | None, np.ndarray | None]:
        """(target notes per bar, condition vector); both None for an unconditioned model (e.g. an
        imported Magenta bundle)."""
        if self.density_scale is None:
            return None, None
        target = self.density_scale.notes_per_bar_at(request.density)
        return target, condition_vector(request.mode, target, self.density_scale)

    def _plan(self, request: MelodyRequest, target_notes_per_bar: float | None, round_index: int,
              candidate: int) -> np.ndarray | None:
        """This candidate's copy plan: a phrase form of a training tune near the requested density (its own
        seeded draw)."""
        if self.phrase_forms is None:
            return None
        rng = np.random.default_rng([request.seed, round_index, candidate, 1])
        form = self.phrase_forms.draw(rng, target_notes_per_bar)
        # Each planned repeat is kept with this probability: the model repeats a few bars on its own, busy
        # tunes most, so keeping every one would repeat more than the tunes the forms come from.
        share = self._repeat_share(request.density)
        return copy_plan(tuple(lag if rng.random() < share else 0 for lag in form), request.bars)

    def _key_heard_as_asked(self, melody: np.ndarray, mode: str) -> Key | None:
        """The melody's key as answers report it (Aarden–Essen's), where every one of `key_finders` hears `mode`
        on tonic C; None otherwise. Each finder runs once."""
        keys = {finder: find_key(melody, finder) for finder in {REPORTED_KEY_FINDER, *self.key_finders}}
        heard = all((key := keys[finder]) is not None and (key.tonic, key.mode) == (TONIC, mode)
                    for finder in self.key_finders)
        return keys[REPORTED_KEY_FINDER] if heard else None

    def _repeat_share(self, density: float) -> float:
        """`repeat_share` is one probability, or a pair [at density 0, at density 1] interpolated between."""
        setting = self.settings["repeat_share"]
        if isinstance(setting, list | tuple):
            sparse, dense = (float(value) for value in setting)
            return sparse + (dense - sparse) * density
        return float(setting)

    def inference(self, batch: list[MelodyRequest]) -> list[GeneratedMelody]:
        candidates, max_rounds = int(self.settings["candidates"]), int(self.settings["max_rounds"])
        primer = np.array([int(self.settings["primer_pitch"])], dtype=np.int16)
        results: dict[int, GeneratedMelody] = {}
        fallback: dict[int, tuple[float, np.ndarray]] = {}
        cues = [self._cues(request) for request in batch]
        pending = list(range(len(batch)))
        for round_index in range(max_rounds):
            if not pending:
                break
            sampling = [
                SamplingRequest(primer, batch[i].bars * STEPS_PER_BAR, batch[i].temperature,
                                np.random.default_rng([batch[i].seed, round_index, c]), cues[i][1],
                                self._plan(batch[i], cues[i][0], round_index, c))
                for i in pending for c in range(candidates)
            ]
            melodies = sample_melodies(self.model, self.encoding, sampling)
            still_pending = []
            for slot, index in enumerate(pending):
                request, target = batch[index], cues[index][0]
                group = melodies[slot * candidates : (slot + 1) * candidates]
                plans = [s.copy_from for s in sampling[slot * candidates : (slot + 1) * candidates]]
                passing = [(m, k, plan) for m, plan in zip(group, plans, strict=True)
                           if (k := self._key_heard_as_asked(m, request.mode)) is not None]
                if passing:
                    # The fewest bars repeated where the form did not plan it (the model loops on its own in busy
                    # minor tunes), then the density nearest the request.
                    events, key, _ = min(passing, key=lambda mkp: (
                        unplanned_repeats(mkp[0], mkp[2]),
                        0.0 if target is None else abs(notes_per_bar(mkp[0]) - target)))
                    results[index] = GeneratedMelody(request, events, key, True, round_index + 1, target)
                    continue
                for melody in group:  # keep the best fit to the requested key in case nothing passes
                    fit = key_correlation(melody, TONIC, request.mode)
                    if index not in fallback or fit > fallback[index][0]:
                        fallback[index] = (fit, melody)
                still_pending.append(index)
            pending = still_pending
        for index in pending:
            events = fallback[index][1]
            results[index] = GeneratedMelody(batch[index], events, find_key(events), False, max_rounds,
                                             cues[index][0])
        return [results[i] for i in range(len(batch))]

    def postprocess_one(self, output: GeneratedMelody) -> dict[str, Any]:
        key = output.key
        return {
            "events": output.events.astype(int).tolist(),
            "steps_per_bar": STEPS_PER_BAR,
            "bars": output.request.bars,
            "requested": {"mode": output.request.mode, "density": output.request.density,
                          "temperature": output.request.temperature, "seed": output.request.seed},
            "key": None if key is None else {"tonic": key.tonic, "mode": key.mode,
                                             "correlation": round(key.correlation, 4)},
            "key_check": {"passed": output.passed_key_check, "rounds": output.rounds},
            "notes_per_bar": round(notes_per_bar(output.events), 3),
            "target_notes_per_bar": None if output.target_notes_per_bar is None
            else round(output.target_notes_per_bar, 3),
        }


_service = MelodyHandler()
handle = torchserve_entry_point(_service)
