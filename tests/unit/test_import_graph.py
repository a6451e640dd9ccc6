"""The import graph holds the architecture: arrows inside the orchestrator only point down its layers, its
feature packages depend on each other without cycles, serving code never imports training, benchmarks or
tools, `music/` stays torch-free, and the API process never loads the audio stack."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Lower layers never import higher ones. Peers in one layer may import each other (without cycles).
SHARED_LAYERS = {"core": 0, "storage": 1, "inference": 1, "http": 1, "limits": 1}
FEATURE_LAYER, WIRING_LAYER, ENTRY_LAYER, APP_LAYER = 2, 3, 4, 5
ENTRY_MODULES = ("routes", "deps", "worker")  # what HTTP or a process starts from: above the wiring


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports at its top level or in a function (TYPE_CHECKING imports excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            type_only.update(id(n) for statement in node.body for n in ast.walk(statement))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def python_files(package: str) -> list[Path]:
    return sorted((REPO_ROOT / package).rglob("*.py"))


def orchestrator_modules() -> set[str]:
    return {module_name(p) for p in python_files("orchestrator")}


def layer(module: str) -> int:
    parts = module.split(".")
    if module == "orchestrator.app":
        return APP_LAYER
    if module == "orchestrator.wiring":
        return WIRING_LAYER
    if len(parts) > 2 and (parts[-1] in ENTRY_MODULES or parts[-1].endswith("_routes")):
        return ENTRY_LAYER
    return SHARED_LAYERS.get(parts[1], FEATURE_LAYER) if len(parts) > 1 else 0


def internal_imports() -> dict[str, set[str]]:
    known = orchestrator_modules()
    graph: dict[str, set[str]] = {}
    for path in python_files("orchestrator"):
        graph[module_name(path)] = {m for m in imports_of(path) if m in known and m != module_name(path)}
    return graph


def test_layers_are_assigned_as_documented() -> None:
    assert layer("orchestrator.core.settings") == 0
    assert layer("orchestrator.http.bodies") == 1
    assert layer("orchestrator.moods.face") == FEATURE_LAYER
    assert layer("orchestrator.moods.history_routes") == layer("orchestrator.accounts.deps") == ENTRY_LAYER
    assert layer("orchestrator.melodies.worker") == ENTRY_LAYER


def upward_arrows(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{a} (layer {layer(a)}) imports {b} (layer {layer(b)})"
                  for a, targets in graph.items() for b in targets if layer(b) > layer(a))


def test_no_upward_arrows_inside_the_orchestrator() -> None:
    assert upward_arrows(internal_imports()) == []


def test_an_upward_arrow_is_caught() -> None:
    assert upward_arrows({"orchestrator.core.errors": {"orchestrator.moods.routes"}}) == [
        "orchestrator.core.errors (layer 0) imports orchestrator.moods.routes (layer 4)"]


def feature_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Cycles between packages of the same layer (features, or the shared packages), found by DFS."""
    packages: dict[str, set[str]] = defaultdict(set)
    for a, targets in graph.items():
        for b in targets:
            pa, pb = a.split(".")[1], b.split(".")[1]
            if pa != pb and layer(a) == layer(b) and len(a.split(".")) > 2 and len(b.split(".")) > 2:
                packages[pa].add(pb)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(packages[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(packages):
        if start not in state:
            visit(start, [start])
    return cycles


def test_packages_of_one_layer_depend_on_each_other_without_cycles() -> None:
    assert feature_cycles(internal_imports()) == []


def test_a_cycle_between_features_is_caught() -> None:
    graph = {"orchestrator.accounts.service": {"orchestrator.playlists.repository"},
             "orchestrator.playlists.service": {"orchestrator.accounts.users"}}
    assert feature_cycles(graph) == [["accounts", "playlists", "accounts"]]


@pytest.mark.parametrize("package", ["orchestrator", "handlers", "networks", "music", "archives"])
def test_serving_code_never_imports_training_benchmarks_or_tools(package: str) -> None:
    forbidden = ("training", "benchmarks", "tests", "tools", "launcher", "export_scripts", "locust")
    offenders = {f"{module_name(p)} imports {m}" for p in python_files(package) for m in imports_of(p)
                 if m.split(".")[0] in forbidden}
    assert offenders == set()


def test_music_is_torch_free_and_knows_nothing_above_it() -> None:
    offenders = {f"{module_name(p)} imports {m}" for p in python_files("music") for m in imports_of(p)
                 if m.split(".")[0] in ("torch", "orchestrator", "handlers", "networks")}
    assert offenders == set()


def test_handlers_and_archives_do_not_import_the_orchestrator() -> None:
    offenders = {f"{module_name(p)} imports {m}" for package in ("handlers", "networks", "archives")
                 for p in python_files(package) for m in imports_of(p) if m.split(".")[0] == "orchestrator"}
    assert offenders == set()


def test_the_api_process_does_not_load_the_audio_stack_or_torch() -> None:
    heavy = ("torch", "pretty_midi", "pyloudnorm", "soundfile", "scipy", "orchestrator.melodies.pipeline")
    probe = f"import sys, orchestrator.app; print([m for m in {heavy!r} if m in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True,
                            check=True, timeout=120)
    assert loaded.stdout.strip() == "[]"
