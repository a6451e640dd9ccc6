"""The documentation stays a front door plus docs/: README.md short, every relative link resolving (files and
GitHub heading anchors), and docs/settings.md what tools/settings_doc.py renders from Settings."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
DOCS = sorted((REPO_ROOT / "docs").glob("*.md"))
README_MAX_LINES = 200

FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# [text](target) and ![alt](target); the target may be in <...> and may carry a "title"
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+[\"'(][^)]*)?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML_ANCHOR = re.compile(r"<a\s+[^>]*(?:name|id)=[\"']([^\"']+)[\"']", re.IGNORECASE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def outside_code(text: str) -> list[tuple[int, str]]:
    """(line number, line) of the lines outside fenced code blocks."""
    lines: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)[0] * len(match.group(1))
            continue
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            continue
        lines.append((number, line))
    return lines


def prose_lines(text: str) -> list[tuple[int, str]]:
    """Lines outside fenced code blocks, with inline code spans blanked out."""
    return [(number, CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)) for number, line in outside_code(text)]


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text lower-cased, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor GitHub gives the headings of a Markdown file (repeats get -1, -2, ...), plus HTML anchors."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in outside_code(path.read_text(encoding="utf-8")):
        heading = HEADING.match(line)
        if heading:
            slug = github_slug(heading.group(2))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
        found.update(anchor.lower() for anchor in HTML_ANCHOR.findall(line))
    return found


def relative_links(path: Path) -> list[tuple[int, str]]:
    links: list[tuple[int, str]] = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        targets = [m.group(1) for m in INLINE_LINK.finditer(line)]
        definition = REFERENCE_DEFINITION.match(line)
        if definition:
            targets.append(definition.group(1))
        for target in targets:
            target = target.strip("<>")
            if target and not SCHEME.match(target) and not target.startswith("//"):
                links.append((number, target))
    return links


def broken_links(path: Path) -> list[str]:
    """'file:line: target (why)' for each relative link of `path` that does not resolve."""
    broken: list[str] = []
    for number, target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        file_part = unquote(file_part.split("?", 1)[0])
        resolved = (path.parent / file_part).resolve() if file_part else path
        where = f"{path.relative_to(REPO_ROOT)}:{number}: {target}"
        if not resolved.exists():
            broken.append(f"{where} (no such file)")
        elif anchor and resolved.suffix.lower() == ".md" and unquote(anchor).lower() not in anchors(resolved):
            broken.append(f"{where} (no heading #{anchor} in {resolved.relative_to(REPO_ROOT)})")
    return broken


def test_readme_is_a_front_door() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines (at most {README_MAX_LINES}): move the detail to docs/ and link it")


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_relative_links_resolve(path: Path) -> None:
    broken = broken_links(path)
    assert not broken, "links that do not resolve:\n" + "\n".join(broken)


def test_link_check_sees_broken_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checker itself: a missing file and a missing heading are caught; code is not read as links."""
    monkeypatch.setattr(sys.modules[__name__], "REPO_ROOT", tmp_path)
    heading = "Fusion (`POST /v1/moods`)"
    (tmp_path / "other.md").write_text(f"# {heading}\n\n## {heading}\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("\n".join([
        "# Top", "[ok](other.md#fusion-post-v1moods) [ok](other.md#fusion-post-v1moods-1) [ok](#top)",
        "[gone](missing.md) [no heading](other.md#nothing) [web](https://example.com/x.md)",
        "`[code](missing-too.md)`", "```", "[fenced](missing-three.md)", "```",
    ]) + "\n", encoding="utf-8")
    assert broken_links(page) == [
        "page.md:3: missing.md (no such file)",
        "page.md:3: other.md#nothing (no heading #nothing in other.md)",
    ]


def test_settings_doc_is_current() -> None:
    from tools.settings_doc import OUTPUT, render

    current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
    assert current == render(), "docs/settings.md is out of date with Settings: run `python -m tools.settings_doc`"
