"""The mood words people ask for ("calm", "chill", "energetic", ...) → a valence/arousal position with intensity.

Which words: the 28 affect words of Russell's circumplex (J. A. Russell, "A circumplex model of affect", Journal
of Personality and Social Psychology 39(6):1161–1178, 1980), "at ease" among them as a synonym of "relaxed"; five
more of the circumplex as Posner, Russell & Peterson draw it ("The circumplex model of affect", Development and
Psychopathology 17(3):715–734, 2005, Fig. 1: alert, elated, nervous, upset, fatigued); the moods music is picked
by (chill, energetic, upbeat, mellow, ...); and the emotion labels of the face and text models (fear, joy, ...),
so that a label a mood answer named can be asked for again.

Where each word sits: its ratings in A. B. Warriner, V. Kuperman & M. Brysbaert, "Norms of valence, arousal, and
dominance for 13,915 English lemmas", Behavior Research Methods 45(4):1191–1207, 2013: the mean valence (V) and
arousal (A) of all raters (columns V.Mean.Sum and A.Mean.Sum), each on a 1–9 scale, 5 its middle. Mapped to
[-1, 1] as v = (V − 5) / 4 and a = (A − 5) / 4; intensity is the distance from the neutral centre (0, 0),
sqrt(v² + a²), clipped to 1. A word missing from the norms takes the row of the nearest word that is in them,
and its `source` says which ("alarmed" → "alarm", "focused" → "focus", "melancholic" → "melancholy",
"meditative" → "meditation"). The norms rate a word, not one of its senses: "chill" and "content" are rated as
written, whichever sense the raters read.

This is the vocabulary of moods people *ask for*. Detected emotions keep their own mapping
(orchestrator/moods/mapping.py, Russell's angles on the unit circle), which the face and text moods use.

A word is looked up case-, space-, hyphen- and underscore-insensitively ("Laid-back" = "laid back" = "laidback"),
also by its synonyms; an unknown word raises `UnknownMoodWordError` with up to three close spellings.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Literal

Group = Literal["circumplex", "music", "emotion"]
GROUPS: tuple[Group, ...] = ("circumplex", "music", "emotion")
SOURCE = "Warriner et al. 2013"
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class MoodWord:
    word: str
    valence: float
    arousal: float
    intensity: float
    source: str
    synonyms: tuple[str, ...]
    group: Group


@dataclass(frozen=True)
class _Row:
    word: str
    group: Group
    v_mean: float  # V.Mean.Sum, 1-9, as printed in the norms
    a_mean: float  # A.Mean.Sum, 1-9
    synonyms: tuple[str, ...] = ()
    norms_word: str | None = None  # the row taken when the word itself is not in the norms


_ROWS: tuple[_Row, ...] = (
    # Russell (1980), the 28 words ("at ease" is a synonym of "relaxed")
    _Row("happy", "circumplex", 8.47, 6.05, ("happiness",)),
    _Row("delighted", "circumplex", 7.74, 5.00, ("delight",)),
    _Row("excited", "circumplex", 8.11, 6.43, ("excitement", "thrilled")),
    _Row("astonished", "circumplex", 6.42, 5.73, ("amazed", "astounded")),
    _Row("aroused", "circumplex", 5.95, 7.30),
    _Row("tense", "circumplex", 2.75, 5.32, ("tension", "stressed", "stress", "on edge")),
    _Row("alarmed", "circumplex", 3.86, 6.85, norms_word="alarm"),
    _Row("angry", "circumplex", 2.53, 6.20, ("mad", "furious")),
    _Row("afraid", "circumplex", 2.25, 5.12, ("scared", "frightened", "terrified")),
    _Row("annoyed", "circumplex", 2.80, 5.29, ("irritated",)),
    _Row("distressed", "circumplex", 3.38, 6.28, ("distress",)),
    _Row("frustrated", "circumplex", 2.55, 5.40, ("frustration",)),
    _Row("miserable", "circumplex", 2.60, 5.06, ("misery",)),
    _Row("sad", "circumplex", 2.10, 3.49, ("blue", "unhappy", "down")),
    _Row("gloomy", "circumplex", 3.15, 3.32, ("gloom",)),
    _Row("depressed", "circumplex", 2.27, 4.25, ("depression",)),
    _Row("bored", "circumplex", 2.95, 3.65, ("boredom",)),
    _Row("droopy", "circumplex", 4.00, 3.18),
    _Row("tired", "circumplex", 4.29, 3.67, ("exhausted", "weary", "worn out")),
    _Row("sleepy", "circumplex", 4.36, 3.04, ("drowsy",)),
    _Row("calm", "circumplex", 6.89, 1.67, ("calmness", "calm down")),
    _Row("relaxed", "circumplex", 7.25, 2.49, ("at ease", "relax", "relaxing", "unwind")),
    _Row("satisfied", "circumplex", 7.16, 3.95, ("satisfaction",)),
    _Row("content", "circumplex", 6.70, 3.17, ("contented", "contentment")),
    _Row("serene", "circumplex", 6.90, 4.67, ("serenity", "tranquil")),
    _Row("glad", "circumplex", 7.55, 3.71),
    _Row("pleased", "circumplex", 7.82, 4.25),
    # Posner, Russell & Peterson (2005), Fig. 1
    _Row("alert", "circumplex", 5.38, 5.14, ("awake",)),
    _Row("elated", "circumplex", 6.56, 5.14),
    _Row("nervous", "circumplex", 3.56, 5.51, ("anxious", "nervousness")),
    _Row("upset", "circumplex", 2.45, 4.49),
    _Row("fatigued", "circumplex", 2.89, 3.78, ("fatigue",)),
    # moods music is chosen by
    _Row("chill", "music", 5.16, 3.25, ("chilled", "chill out", "chilled out", "laid back")),
    _Row("energetic", "music", 7.57, 6.10, ("energized", "energised", "energy")),
    _Row("upbeat", "music", 7.14, 4.92),
    _Row("mellow", "music", 6.68, 2.81),
    _Row("melancholic", "music", 3.74, 4.13, ("melancholy",), norms_word="melancholy"),
    _Row("romantic", "music", 7.61, 5.12, ("romance",)),
    _Row("focused", "music", 6.48, 4.45, ("focus", "concentrated", "concentration", "studying"), norms_word="focus"),
    _Row("peaceful", "music", 8.00, 4.38, ("peace",)),
    _Row("dreamy", "music", 7.52, 4.90),
    _Row("hype", "music", 5.41, 5.90, ("hyped", "hyped up", "pumped", "pumped up")),
    _Row("uplifting", "music", 6.95, 4.70, ("uplifted",)),
    _Row("euphoric", "music", 7.80, 5.25, ("euphoria",)),
    _Row("sentimental", "music", 6.27, 2.95),
    _Row("nostalgic", "music", 6.68, 4.37, ("nostalgia",)),
    _Row("aggressive", "music", 3.08, 5.87),
    _Row("cheerful", "music", 8.00, 5.76, ("cheery",)),
    _Row("intense", "music", 5.65, 6.60, ("intensity",)),
    _Row("lonely", "music", 2.67, 4.37, ("loneliness", "lonesome")),
    _Row("meditative", "music", 7.21, 2.50, ("meditation",), norms_word="meditation"),
    # labels of the face and text models (happy, sad and angry are circumplex words above)
    _Row("fear", "emotion", 2.93, 6.14, ("fearful",)),
    _Row("surprise", "emotion", 7.44, 6.57, ("surprised",)),
    _Row("disgust", "emotion", 3.32, 5.00, ("disgusted",)),
    _Row("neutral", "emotion", 5.50, 3.45),
    _Row("joy", "emotion", 8.21, 5.55, ("joyful",)),
    _Row("love", "emotion", 8.00, 5.36, ("in love", "loving")),
    _Row("anger", "emotion", 2.50, 5.93),
    _Row("sadness", "emotion", 2.40, 2.81, ("sorrow",)),
)


def _scaled(mean: float) -> float:
    return round((mean - 5) / 4, 4)


def _source(row: _Row) -> str:
    ratings = f"V {row.v_mean:.2f}, A {row.a_mean:.2f}"
    if row.norms_word is None:
        return f"{SOURCE}: {ratings}"
    return f"{SOURCE}, row of {row.norms_word!r} ({row.word!r} is not in the norms): {ratings}"


def _word(row: _Row) -> MoodWord:
    valence, arousal = _scaled(row.v_mean), _scaled(row.a_mean)
    intensity = round(min(1.0, math.hypot(valence, arousal)), 4)
    return MoodWord(row.word, valence, arousal, intensity, _source(row), row.synonyms, row.group)


VOCABULARY: tuple[MoodWord, ...] = tuple(sorted((_word(row) for row in _ROWS),
                                                key=lambda w: (GROUPS.index(w.group), w.word)))


def normalise(text: str) -> str:
    """Lower case, hyphens and underscores as spaces, runs of white space as one: "Laid-Back " → "laid back"."""
    return " ".join(re.sub(r"[-_]", " ", text).casefold().split())


def _key(text: str) -> str:
    # Spaces do not count: "laid back", "laid-back" and "laidback" are one key.
    return normalise(text).replace(" ", "")


def _index() -> tuple[dict[str, MoodWord], dict[str, str]]:
    words: dict[str, MoodWord] = {}
    spellings: dict[str, str] = {}  # key → the spelling a suggestion shows
    for mood in VOCABULARY:
        for name in (mood.word, *mood.synonyms):
            key = _key(name)
            if key in words:
                raise ValueError(f"mood word {name!r} is listed twice ({words[key].word!r}, {mood.word!r})")
            words[key], spellings[key] = mood, name
    return words, spellings


_BY_KEY, _SPELLING = _index()


class UnknownMoodWordError(ValueError):
    def __init__(self, text: str, suggestions: list[str]) -> None:
        super().__init__(f"unknown mood word {text!r}")
        self.text = text
        self.suggestions = suggestions


def suggestions(text: str) -> list[str]:
    """Up to three listed words or synonyms spelled closest to `text`, closest first."""
    return [_SPELLING[key] for key in difflib.get_close_matches(_key(text), _BY_KEY, n=MAX_SUGGESTIONS)]


def lookup(text: str) -> MoodWord:
    """The mood word `text` names (itself or a synonym), however it is cased and spaced."""
    found = _BY_KEY.get(_key(text))
    if found is None:
        raise UnknownMoodWordError(text, suggestions(text))
    return found
