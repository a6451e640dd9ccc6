"""A user's mood history summarised for charts: counts per mood label, mean valence/arousal per day."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from orchestrator.moods.events import MoodEventRepository


@dataclass(frozen=True)
class DayMood:
    day: str  # ISO date, UTC
    events: int
    mean_valence: float
    mean_arousal: float


@dataclass(frozen=True)
class MoodSummary:
    since: datetime
    until: datetime
    events: int
    counts: dict[str, int]
    days: list[DayMood]


async def summarize(events: MoodEventRepository, owner_id: str, days: int, now: datetime | None = None
                    ) -> MoodSummary:
    """Over the last `days` days; events without a mood (no face found, say) are not counted."""
    until = now or datetime.now(UTC)
    since = until - timedelta(days=days)
    points = [(e.created_at.astimezone(UTC).date().isoformat(), e.mood["label"], float(e.mood["valence"]),
               float(e.mood["arousal"]))
              for e in await events.all_since(owner_id, since) if e.mood is not None]
    counts = Counter(label for _, label, _, _ in points)
    by_day: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for day, _, valence, arousal in points:
        by_day[day].append((valence, arousal))
    day_moods = [DayMood(day, len(values), round(sum(v for v, _ in values) / len(values), 4),
                         round(sum(a for _, a in values) / len(values), 4))
                 for day, values in sorted(by_day.items())]
    return MoodSummary(since, until, len(points), dict(counts.most_common()), day_moods)
