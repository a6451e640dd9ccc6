"""security/audit.py's decisions on pip-audit's report (the vulnerability service is not reachable from every
machine, so these reports are written here in pip-audit's JSON format), its ignore file, and bandit's config
catching a real finding."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def load_audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("security_audit", REPO_ROOT / "security" / "audit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


audit = load_audit()
VULNERABLE = {"name": "jinja2", "version": "2.4.1",
              "vulns": [{"id": "PYSEC-2014-8", "fix_versions": ["2.7.2"], "aliases": ["CVE-2014-1402"]}]}
CLEAN = {"name": "fastapi", "version": "0.163.2", "vulns": []}
UNKNOWN = {"name": "aiofiles", "skip_reason": "Dependency not found on PyPI and could not be audited"}


def report(*dependencies: dict[str, Any]) -> dict[str, Any]:
    return {"dependencies": list(dependencies), "fixes": []}


def test_a_known_vulnerability_fails_and_names_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert audit.summarize_audit(report(CLEAN, VULNERABLE), {}, require=False) is False
    assert "VULNERABLE jinja2==2.4.1: PYSEC-2014-8 (CVE-2014-1402); fixed in: 2.7.2" in capsys.readouterr().out
    assert audit.summarize_audit(report(CLEAN), {}, require=True) is True


def test_an_unreachable_service_is_not_audited_and_fails_only_when_required(
        capsys: pytest.CaptureFixture[str]) -> None:
    nothing_answered = report(UNKNOWN, {**UNKNOWN, "name": "anyio"})
    assert audit.summarize_audit(nothing_answered, {}, require=False) is True
    assert "NOT AUDITED" in capsys.readouterr().out
    assert audit.summarize_audit(nothing_answered, {}, require=True) is False
    partly = report(CLEAN, UNKNOWN)
    assert audit.summarize_audit(partly, {}, require=False) is True
    assert "not audited: aiofiles" in capsys.readouterr().out
    assert audit.summarize_audit(partly, {}, require=True) is False


def test_an_accepted_vulnerability_needs_a_reason(tmp_path: Path) -> None:
    ignore = tmp_path / "ignore.txt"
    ignore.write_text("# comment\nGHSA-aaaa-bbbb-cccc  the vulnerable parser is never given user input\n")
    assert audit.accepted_vulnerabilities(ignore) == {
        "GHSA-aaaa-bbbb-cccc": "the vulnerable parser is never given user input"}
    ignore.write_text("GHSA-aaaa-bbbb-cccc\n")
    with pytest.raises(SystemExit, match="has no reason"):
        audit.accepted_vulnerabilities(ignore)
    assert isinstance(audit.accepted_vulnerabilities(), dict)  # the repository's own file parses


@pytest.mark.skipif(shutil.which("bandit", path=str(Path(sys.executable).parent)) is None, reason="needs bandit")
def test_bandit_with_our_config_fails_on_a_finding_and_honours_a_justified_nosec(tmp_path: Path) -> None:
    package = tmp_path / "sample"
    package.mkdir()
    source = package / "tokens.py"
    source.write_text("import random\n\n\ndef token() -> str:\n    return str(random.random())\n")
    bandit = [str(Path(sys.executable).parent / "bandit"), "-c", str(REPO_ROOT / "pyproject.toml"), "-q", "-r",
              str(package)]
    found = subprocess.run(bandit, capture_output=True, text=True, check=False)
    assert found.returncode == 1 and "B311" in found.stdout
    source.write_text(source.read_text().replace("random.random())", "random.random())  # nosec B311  # a demo"))
    assert subprocess.run(bandit, capture_output=True, text=True, check=False).returncode == 0
