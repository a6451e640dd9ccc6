"""Security checks of our own code and of what we install, run by `./museaika test` (python security/audit.py).

1. bandit over every package we ship or run, configured in pyproject.toml ([tool.bandit]); a finding fails,
   unless the line says why it is safe (`# nosec BXXX  # reason`).
2. pip-audit over the virtual environment the tests run in. It is built from the pinned requirements/*.txt (its
   path is a hash of them), so it holds exactly what we ship, transitive dependencies included. Auditing the
   requirement files instead would either install them all again into a temporary environment (torch included)
   or, with --no-deps, see only the direct pins. A known vulnerability fails, unless
   security/pip-audit-ignore.txt names it with a reason.

Vulnerability data comes from a service (PyPI's JSON API). When it cannot be reached (an offline CI), the
dependencies are NOT AUDITED: that is printed loudly and, by default, does not fail the run, since nothing was
learnt either way and the rest of the suite is hermetic; where the network is part of the deal (the CI that
gates releases) MUSEAIKA_REQUIRE_AUDIT=1 makes it a failure, so an audit can never silently stop happening.
"""

from __future__ import annotations

import json
import os
import subprocess  # argv lists we build, never a shell (bandit B404 is off; each call is checked)
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGETS = ["orchestrator", "archives", "handlers", "networks", "music", "launcher", "modelops", "export_scripts",
           "training", "standins", "benchmarks", "security", "tools"]
IGNORE_FILE = REPO_ROOT / "security" / "pip-audit-ignore.txt"
TOOLS = Path(sys.executable).parent  # bandit and pip-audit of this environment (requirements/dev.txt)
UNREACHABLE_SIGNS = ("ConnectionError", "ConnectTimeout", "ReadTimeout", "NameResolutionError", "Max retries")


def accepted_vulnerabilities(path: Path = IGNORE_FILE) -> dict[str, str]:
    """{advisory id: reason} from the ignore file; an entry without a reason is refused."""
    accepted = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        advisory, _, reason = entry.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path}:{number}: {advisory} has no reason; say why it is accepted")
        accepted[advisory] = reason.strip()
    return accepted


def run_bandit() -> bool:
    print("==> bandit", flush=True)
    command = [str(TOOLS / "bandit"), "-c", "pyproject.toml", "-q", "-r", *TARGETS]
    passed = subprocess.run(command, cwd=REPO_ROOT, check=False).returncode == 0  # nosec B603  # our argv
    print("bandit: no issues" if passed else "bandit: the issues above need a fix or `# nosec BXXX  # reason`")
    return passed


def summarize_audit(report: dict[str, Any], accepted: dict[str, str], require: bool) -> bool:
    """Print what pip-audit found; False when the run must fail."""
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = len(dependencies) - len(skipped)
    found = [(d["name"], d["version"], v) for d in dependencies for v in d.get("vulns", [])]
    for name, version, vulnerability in found:
        fixes = ", ".join(vulnerability.get("fix_versions") or []) or "no fixed version yet"
        print(f"VULNERABLE {name}=={version}: {vulnerability['id']} "
              f"({', '.join(vulnerability.get('aliases') or []) or 'no aliases'}); fixed in: {fixes}")
    print(f"pip-audit: {audited} of {len(dependencies)} installed packages audited, {len(found)} known "
          f"vulnerabilities, {len(accepted)} accepted in {IGNORE_FILE.relative_to(REPO_ROOT)}")
    if audited == 0 and dependencies:
        print("!" * 100)
        print(f"NOT AUDITED: the vulnerability service answered for none of the {len(dependencies)} packages "
              f"(e.g. {skipped[0]['name']}: {skipped[0]['skip_reason']}).")
        print("Nothing is known about vulnerabilities in this run. Run it where pypi.org's JSON API is reachable.")
        print("!" * 100)
        return not require and not found
    for dependency in skipped:
        print(f"not audited: {dependency['name']}: {dependency['skip_reason']}")
    return not found and not (require and skipped)


def run_pip_audit(require: bool) -> bool:
    print("==> pip-audit (this virtual environment)", flush=True)
    accepted = accepted_vulnerabilities()
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "pip-audit.json"
        command = [str(TOOLS / "pip-audit"), "--local", "--format", "json", "--progress-spinner", "off",
                   "--output", str(output), *(f"--ignore-vuln={advisory}" for advisory in accepted)]
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,  # nosec B603  # our argv
                              check=False)
        if not output.exists() or not output.read_text().strip():
            if any(sign in done.stderr for sign in UNREACHABLE_SIGNS):
                print("!" * 100)
                print("NOT AUDITED: the vulnerability service is unreachable:", done.stderr.strip().splitlines()[-1])
                print("!" * 100)
                return not require
            print(done.stdout, done.stderr, sep="\n")
            return False
        report: dict[str, Any] = json.loads(output.read_text())
    return summarize_audit(report, accepted, require)


def main() -> int:
    require = os.environ.get("MUSEAIKA_REQUIRE_AUDIT", "") == "1"
    results = [run_bandit(), run_pip_audit(require)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
