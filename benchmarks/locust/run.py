"""Load test of the whole stack with locust: per-endpoint throughput and latency against SLOs, and the knee.

    python -m benchmarks.locust.run --users 8 --spawn-rate 2 --duration 60s [--backend embedded|torchserve]
                                    [--out DIR] [--slo benchmarks/locust/slo.yaml] [--burst]
    python -m benchmarks.locust.run --knee [--step-duration 30s] [--max-users 128]

Starts the stack on loopback with the launcher (MongoDB wire server, Redis, S3, worker, orchestrator; embedded
or TorchServe inference), imports the small track catalog, runs `locust --headless` from benchmarks/locust/
locustfile.py as a subprocess (locust monkeypatches the standard library with gevent, so it never runs in this
process) with --csv and --html into the out directory, then prints and writes summary.md (requests/s,
p50/p95/p99 and failures per endpoint against slo.yaml, pass/fail per row) and latency.png (p50/p95 over time).
--knee doubles the users (2, 4, 8, …) in steps of --step-duration, statistics reset once a step's users are all
spawned, until an endpoint breaks its p95 SLO (slo.yaml's knee_exclude not judged) or a request fails, and
reports the highest load held. The stack
is stopped at the end, always.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from launcher.stack import Backend, Stack, StackConfig

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
LOCUSTFILE = HERE / "locustfile.py"
DEFAULT_SLO = HERE / "slo.yaml"
CATALOG_CSV = REPO_ROOT / "tests" / "fixtures" / "spotify_tracks_small.csv"
AGGREGATED = "Aggregated"


@dataclass(frozen=True)
class Slo:
    p95_ms: float
    max_error_rate: float


@dataclass(frozen=True)
class Slos:
    default: Slo
    endpoints: dict[str, Slo]
    knee_exclude: frozenset[str] = frozenset()  # reported but not judged by --knee (one-off per user)

    def of(self, name: str) -> Slo:
        return self.endpoints.get(name, self.default)


@dataclass(frozen=True)
class EndpointStats:
    type: str
    name: str
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class Verdict:
    stats: EndpointStats
    slo: Slo

    @property
    def latency_ok(self) -> bool:
        return self.stats.p95_ms <= self.slo.p95_ms

    @property
    def errors_ok(self) -> bool:
        return self.stats.error_rate <= self.slo.max_error_rate

    @property
    def passed(self) -> bool:
        return self.latency_ok and self.errors_ok


@dataclass(frozen=True)
class LocustRun:
    """The files of one headless locust run (`prefix`_stats.csv, _stats_history.csv, _failures.csv, .html)."""

    prefix: Path
    users: int
    duration: str
    returncode: int

    @property
    def stats_csv(self) -> Path:
        return self.prefix.with_name(self.prefix.name + "_stats.csv")

    @property
    def history_csv(self) -> Path:
        return self.prefix.with_name(self.prefix.name + "_stats_history.csv")

    @property
    def failures_csv(self) -> Path:
        return self.prefix.with_name(self.prefix.name + "_failures.csv")

    @property
    def html(self) -> Path:
        return self.prefix.with_suffix(".html")


def load_slos(path: Path = DEFAULT_SLO) -> Slos:
    document: dict[str, Any] = yaml.safe_load(path.read_text())

    def slo(entry: dict[str, Any], fallback: Slo | None = None) -> Slo:
        return Slo(p95_ms=float(entry.get("p95_ms", fallback.p95_ms if fallback else math.inf)),
                   max_error_rate=float(entry.get("max_error_rate", fallback.max_error_rate if fallback else 0.0)))

    default = slo(document.get("default") or {})
    return Slos(default, {str(name): slo(entry or {}, default)
                          for name, entry in (document.get("endpoints") or {}).items()},
                frozenset(str(name) for name in document.get("knee_exclude") or []))


def seconds(duration: str) -> float:
    """Locust's run-time syntax (`90`, `60s`, `2m`, `1h30m`) in seconds."""
    if duration.isdigit():
        return float(duration)
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", duration)
    if not parts or not any(parts.groups()):
        raise ValueError(f"not a duration: {duration!r} (e.g. 90, 60s, 2m)")
    hours, minutes, secs = (int(p or 0) for p in parts.groups())
    return float(hours * 3600 + minutes * 60 + secs)


@contextmanager
def running_stack(backend: Backend, run_dir: Path) -> Iterator[Stack]:
    """The whole stack on loopback with the small track catalog imported; stopped on the way out, always."""
    stack = Stack(StackConfig(run_dir=run_dir, backend=backend))
    try:
        stack.start()
        import_catalog(stack)
        yield stack
    finally:
        stack.stop()


def import_catalog(stack: Stack, csv_path: Path = CATALOG_CSV) -> str:
    completed = subprocess.run(  # nosec B603  # argv list we build, no shell
        [sys.executable, "-m", "orchestrator.catalog.import_csv", str(csv_path), "--mongo-url", stack.mongo_url,
         "--database", stack.config.mongo_database],
        capture_output=True, text=True, timeout=120, check=False, cwd=REPO_ROOT)
    if completed.returncode != 0:
        raise RuntimeError(f"catalog import failed:\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout


def run_locust(host: str, users: int, spawn_rate: float, duration: str, prefix: Path, *,
               reset_stats: bool = False, burst: bool = False, extra_env: dict[str, str] | None = None) -> LocustRun:
    """`locust --headless` in a subprocess, bounded by `duration` (plus a grace period to finish and write)."""
    prefix.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", host,
            "--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", duration, "--stop-timeout", "15",
            "--csv", str(prefix), "--csv-full-history", "--html", str(prefix.with_suffix(".html")),
            "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    if reset_stats:
        argv.append("--reset-stats")
    env = {**os.environ, **(extra_env or {})}
    env.pop("PYTHONPATH", None)  # the locustfile needs nothing from the repository
    if burst:
        env.update({"MUSEAIKA_LOCUST_SHAPE": "burst", "MUSEAIKA_LOCUST_BURST_PEAK": str(users),
                    "MUSEAIKA_LOCUST_BURST_BASE": str(max(1, users // 4))})
    log = prefix.with_name(prefix.name + "_locust.log")
    with log.open("w") as out:
        completed = subprocess.run(  # nosec B603  # argv list we build, no shell
            argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT, timeout=seconds(duration) + 90,
            check=False)
    run = LocustRun(prefix, users, duration, completed.returncode)
    if completed.returncode != 0 or not run.stats_csv.exists():
        raise RuntimeError(f"locust exited with {completed.returncode}; see {log}:\n{log.read_text()[-3000:]}")
    return run


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:  # "N/A" before any response
        return 0.0


def read_stats(stats_csv: Path) -> list[EndpointStats]:
    """Per-endpoint rows of locust's `_stats.csv`, the `Aggregated` row last."""
    with stats_csv.open(newline="") as handle:
        return [EndpointStats(type=row["Type"], name=row["Name"], requests=int(row["Request Count"]),
                              failures=int(row["Failure Count"]), rps=_number(row["Requests/s"]),
                              p50_ms=_number(row["50%"]), p95_ms=_number(row["95%"]), p99_ms=_number(row["99%"]))
                for row in csv.DictReader(handle)]


def judge(stats: Sequence[EndpointStats], slos: Slos) -> list[Verdict]:
    return [Verdict(s, slos.of(s.name)) for s in stats if s.name != AGGREGATED]


def summary_markdown(title: str, stats: Sequence[EndpointStats], verdicts: Sequence[Verdict]) -> str:
    lines = [f"## {title}", "", "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | failures | SLO p95 ms "
             "| SLO errors | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for v in verdicts:
        s, why = v.stats, []
        if not v.latency_ok:
            why.append("p95")
        if not v.errors_ok:
            why.append("errors")
        verdict = "pass" if v.passed else f"**FAIL** ({', '.join(why)})"
        lines.append(f"| {s.type} {s.name} | {s.requests} | {s.rps:.2f} | {s.p50_ms:.0f} | {s.p95_ms:.0f} | "
                     f"{s.p99_ms:.0f} | {s.failures} ({s.error_rate:.1%}) | {v.slo.p95_ms:.0f} | "
                     f"{v.slo.max_error_rate:.1%} | {verdict} |")
    total = next((s for s in stats if s.name == AGGREGATED), None)
    if total is not None:
        lines.append(f"| **all** | {total.requests} | {total.rps:.2f} | {total.p50_ms:.0f} | {total.p95_ms:.0f} | "
                     f"{total.p99_ms:.0f} | {total.failures} ({total.error_rate:.1%}) | | | "
                     f"{'pass' if all(v.passed for v in verdicts) else '**FAIL**'} |")
    return "\n".join(lines) + "\n"


def plot_history(history_csv: Path, png: Path, title: str) -> None:
    """p50 and p95 of all requests over time (locust's 10-second window), each endpoint's p95 thin, users in grey."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, list[tuple[float, float, float, int]]] = {}
    with history_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    start = min((int(r["Timestamp"]) for r in rows), default=0)
    for row in rows:
        if row["95%"] in ("N/A", "") or _number(row["95%"]) <= 0:  # no response in the window yet
            continue
        key = "all" if row["Name"] == AGGREGATED else f"{row['Type']} {row['Name']}"
        series.setdefault(key, []).append((int(row["Timestamp"]) - start, _number(row["50%"]),
                                           _number(row["95%"]), int(row["User Count"])))
    figure, axis = plt.subplots(figsize=(11, 6))
    for key, points in sorted(series.items()):
        t = [p[0] for p in points]
        if key == "all":
            axis.plot(t, [p[1] for p in points], color="black", linewidth=2.2, label="all p50")
            axis.plot(t, [p[2] for p in points], color="black", linewidth=2.2, linestyle="--", label="all p95")
        else:
            axis.plot(t, [p[2] for p in points], linewidth=1, alpha=0.8, label=f"{key} p95")
    axis.set_xlabel("seconds")
    axis.set_ylabel("response time (ms)")
    axis.set_yscale("symlog", linthresh=10)
    axis.grid(True, alpha=0.3)
    if "all" in series:
        users = axis.twinx()
        users.step([p[0] for p in series["all"]], [p[3] for p in series["all"]], color="grey", alpha=0.4,
                   where="post")
        users.set_ylabel("users", color="grey")
        users.set_ylim(bottom=0)
    axis.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=4)
    axis.set_title(title)
    figure.tight_layout()
    figure.savefig(png, dpi=110)
    plt.close(figure)


@dataclass(frozen=True)
class Report:
    run: LocustRun
    stats: list[EndpointStats]
    verdicts: list[Verdict]
    summary: Path
    png: Path

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)

    @property
    def failures(self) -> int:
        return sum(v.stats.failures for v in self.verdicts)

    def broken(self, exclude: frozenset[str] = frozenset()) -> list[str]:
        """Endpoints that failed a request, or broke their p95 SLO unless `exclude` names them."""
        return [v.stats.name for v in self.verdicts
                if v.stats.failures or (not v.passed and v.stats.name not in exclude)]


def report(run: LocustRun, slos: Slos, title: str) -> Report:
    stats = read_stats(run.stats_csv)
    verdicts = judge(stats, slos)
    summary = run.prefix.with_name(run.prefix.name + "_summary.md")
    summary.write_text(summary_markdown(title, stats, verdicts))
    png = run.prefix.with_name(run.prefix.name + "_latency.png")
    plot_history(run.history_csv, png, title)
    return Report(run, stats, verdicts, summary, png)


def load_test(host: str, users: int, spawn_rate: float, duration: str, out: Path, slos: Slos, backend: str,
              burst: bool = False) -> Report:
    run = run_locust(host, users, spawn_rate, duration, out / "locust", burst=burst)
    shape = "burst" if burst else f"spawn {spawn_rate:g}/s"
    return report(run, slos, f"{backend}: {users} users ({shape}), {duration}")


def knee(host: str, out: Path, slos: Slos, backend: str, step_duration: str, max_users: int,
         start_users: int = 2) -> tuple[list[Report], Report | None]:
    """Double the users until a step breaks an SLO (p95) or any request fails; (all steps, the last one held)."""
    steps, held, users = [], None, start_users
    while users <= max_users:
        # A 4-second ramp spreads the new users' sign-ups (argon2id); statistics restart once all are spawned.
        run = run_locust(host, users, max(2.0, users / 4), step_duration, out / f"knee_{users:03d}",
                         reset_stats=True)
        step = report(run, slos, f"{backend}: {users} users, {step_duration} (knee step)")
        steps.append(step)
        broken = step.broken(slos.knee_exclude)
        print(f"{users:4d} users: {step.stats[-1].rps:6.1f} req/s, {step.failures} failures, "
              f"{'SLO broken: ' + ', '.join(broken) if broken else 'within SLO'}", flush=True)
        if broken:
            break
        held, users = step, users * 2
    return steps, held


def knee_markdown(backend: str, steps: Sequence[Report], held: Report | None, exclude: frozenset[str]) -> str:
    lines = [f"# Knee, {backend} backend", "",
             f"Not judged (one-off per user, bunched at each step's spawn): {', '.join(sorted(exclude)) or 'none'}.",
             "", "| users | req/s | failures | worst p95 vs SLO | verdict |", "|---|---|---|---|---|"]
    for step in steps:
        judged = [v for v in step.verdicts if v.stats.name not in exclude] or step.verdicts
        worst = max(judged, key=lambda v: v.stats.p95_ms / v.slo.p95_ms)
        broken = step.broken(exclude)
        verdict = f"**broken** ({', '.join(broken)})" if broken else "held"
        lines.append(f"| {step.run.users} | {step.stats[-1].rps:.1f} | {step.failures} | {worst.stats.name} "
                     f"{worst.stats.p95_ms:.0f}/{worst.slo.p95_ms:.0f} ms | {verdict} |")
    lines.append("")
    if held is None:
        lines.append("No step held: even the first broke an SLO or failed.")
    else:
        lines += [f"Highest load held: **{held.run.users} users**, {held.stats[-1].rps:.1f} req/s, no failures, "
                  "every judged endpoint within its p95 SLO.", "", held.summary.read_text()]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.locust.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--spawn-rate", type=float, default=2.0)
    parser.add_argument("--duration", default="60s", help="locust --run-time syntax: 60s, 2m")
    parser.add_argument("--backend", choices=["embedded", "torchserve"], default="embedded")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "runtime" / "locust")
    parser.add_argument("--slo", type=Path, default=DEFAULT_SLO)
    parser.add_argument("--burst", action="store_true", help="the locustfile's BurstShape: --users/4 with bursts "
                        "to --users every 30 s")
    parser.add_argument("--knee", action="store_true", help="step the users 2, 4, 8, … until an SLO breaks")
    parser.add_argument("--step-duration", default="30s")
    parser.add_argument("--max-users", type=int, default=128)
    parser.add_argument("--host", help="an already running orchestrator (its catalog imported): no stack is started")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    out: Path = args.out / f"{args.backend}-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    slos = load_slos(args.slo)
    with tempfile.TemporaryDirectory(prefix="museaika-locust-") as run_dir:
        if args.host:
            return _run(args, args.host, out, slos)
        with running_stack(args.backend, Path(run_dir)) as stack:
            print(f"stack up ({args.backend}) at {stack.orchestrator_url}; results in {out}", flush=True)
            return _run(args, stack.orchestrator_url, out, slos)


def _run(args: argparse.Namespace, host: str, out: Path, slos: Slos) -> int:
    if args.knee:
        steps, held = knee(host, out, slos, args.backend, args.step_duration, args.max_users)
        text = knee_markdown(args.backend, steps, held, slos.knee_exclude)
        (out / "knee.md").write_text(text)
        print(text)
        return 0
    result = load_test(host, args.users, args.spawn_rate, args.duration, out, slos, args.backend, args.burst)
    print(result.summary.read_text())
    print(f"files: {result.run.html}, {result.summary}, {result.png}")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
