"""config/models.yaml is the one source of the served models: the TorchServe lines generated from it are current,
the check that says so catches a stale or hand-edited copy, and what reads it (settings, ./museaika setup, the
emotion build) gets the versions it declares."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest

from archives.loader import archive_file_name
from archives.render import BEGIN, END, GENERATED_FILES, build_plan, main, render_block, stale_files
from archives.served import MODELS_FILE, ServedModel, load_served_models, render_torchserve_models
from orchestrator.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def properties(text: str) -> dict[str, str]:
    """key=value lines (the k8s ConfigMap's indented ones too), comments skipped."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def with_emotion_batch_size(models: dict[str, ServedModel], batch_size: int) -> dict[str, ServedModel]:
    emotion = models["emotion"]
    versions = tuple(dataclasses.replace(v, serving=dataclasses.replace(v.serving, batch_size=batch_size))
                     for v in emotion.versions)
    return {**models, "emotion": dataclasses.replace(emotion, versions=versions)}


def test_generated_files_are_current() -> None:
    stale = stale_files(load_served_models())
    assert stale == [], f"{[str(p.relative_to(ROOT)) for p in stale]} are stale: run `python -m archives.render`"
    assert main(["--check"]) == 0


def test_the_check_catches_a_stale_or_hand_edited_file(tmp_path: Path) -> None:
    models = load_served_models()
    copies = []
    for path in GENERATED_FILES:  # two are named torchserve.properties
        copy = tmp_path / path.relative_to(ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copies.append(Path(shutil.copy(path, copy)))
    assert stale_files(models, copies) == []
    # config/models.yaml changed, files not rendered again: every file is stale.
    assert stale_files(with_emotion_batch_size(models, 5), copies) == copies
    # A generated line edited by hand.
    edited = copies[1]
    edited.write_text(edited.read_text().replace('"batchSize": 4', '"batchSize": 6', 1))
    assert stale_files(models, copies) == [edited]


def test_rendering_rewrites_only_the_generated_lines() -> None:
    k8s = next(path for path in GENERATED_FILES if path.suffix == ".yaml").read_text()
    rendered = render_block(k8s, ["load_models=a.mar", "models={}"])
    outside = [line for line in k8s.splitlines() if not re.match(r"\s*(load_models|models)=", line)]
    assert [line for line in rendered.splitlines() if line not in ("    load_models=a.mar", "    models={}")] == outside
    assert f"    {BEGIN}\n    load_models=a.mar\n    models={{}}\n    {END}\n" in rendered
    with pytest.raises(ValueError, match="expected one"):
        render_block(k8s.replace(END, "# the end"), [])


@pytest.mark.parametrize("path", GENERATED_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_generated_lines_say_what_models_yaml_says(path: Path) -> None:
    models = load_served_models()
    values = properties(path.read_text())
    assert values["load_models"].split(",") == [archive_file_name(name, m.default) for name, m in models.items()]
    table = json.loads(values["models"])
    assert list(table) == list(models)
    for name, model in models.items():
        assert [v for v, entry in table[name].items() if entry.get("defaultVersion")] == [model.default]
        for served in model.versions:
            entry = table[name][served.version]
            assert entry["marName"] == archive_file_name(name, served.version)
            assert entry["minWorkers"] == entry["maxWorkers"] == served.serving.workers
            assert (entry["batchSize"], entry["maxBatchDelay"]) == (served.serving.batch_size,
                                                                  served.serving.max_batch_delay_ms)
    assert render_torchserve_models(models) == [f"load_models={values['load_models']}", f"models={values['models']}"]


def test_settings_serve_the_default_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MUSEAIKA_MODEL_VERSIONS", raising=False)
    defaults = {name: model.default for name, model in load_served_models().items()}
    assert Settings(_env_file=None).model_versions == defaults  # type: ignore[call-arg]
    monkeypatch.setenv("MUSEAIKA_MODEL_VERSIONS", '{"emotion": "1.0.0"}')
    assert Settings(_env_file=None).model_versions == {"emotion": "1.0.0"}  # type: ignore[call-arg]


def test_museaika_setup_builds_every_version() -> None:
    script = (ROOT / "museaika").read_text()
    build_archives = script[script.index("build_archives() {"):]
    assert '-m archives.render --archives' in build_archives[:build_archives.index("\n}\n")]
    models = load_served_models()
    plan = build_plan(models)
    assert {f"{step[0]}.mar" for step in plan} == {s.archive for m in models.values() for s in m.versions}
    for name, module, *args in plan:
        assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), f"{name}: no module {module}"
        assert args[:2] == ["--version", args[1]]


def test_emotion_build_defaults_come_from_models_yaml() -> None:
    from export_scripts.build_emotion_archive import CLASSIFIERS, default_versions

    emotion = load_served_models()["emotion"]
    assert {s.classifier for s in emotion.versions} <= set(CLASSIFIERS)
    assert default_versions()[emotion.default_version.classifier or ""] == emotion.default


def write_models(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(text)
    return path


VALID = """
models:
  emotion:
    default: "2.0.0"
    build: export_scripts.build_emotion_archive
    serving: {workers: 2, batchSize: 4, maxBatchDelay: 20, responseTimeout: 60}
    versions:
      "1.0.0": {classifier: mini_xception, serving: {batchSize: 1}}
      "2.0.0": {classifier: expression_vgg}
"""


def test_a_version_may_override_its_model_serving(tmp_path: Path) -> None:
    emotion = load_served_models(write_models(tmp_path, VALID))["emotion"]
    assert [s.version for s in emotion.versions] == ["2.0.0", "1.0.0"]  # the default first
    assert emotion.version("1.0.0").serving.batch_size == 1
    assert emotion.version("1.0.0").serving.workers == 2
    assert emotion.default_version.archive == "emotion-2.0.0.mar"
    assert emotion.version("1.0.0").build_args() == ["--version", "1.0.0", "--classifier", "mini_xception"]


def test_a_versions_own_keys_are_its_build_options(tmp_path: Path) -> None:
    text = VALID.replace('"2.0.0": {classifier: expression_vgg}',
                         '"2.0.0": {classifier: expression_vgg, model_dir: models/x, runtime: onnx}')
    served = load_served_models(write_models(tmp_path, text))["emotion"].version("2.0.0")
    assert served.classifier == "expression_vgg"
    assert served.build_args() == ["--version", "2.0.0", "--classifier", "expression_vgg",
                                   "--model-dir", "models/x", "--runtime", "onnx"]
    sentiment = load_served_models()["sentiment"]
    assert sentiment.default_version.build_args() == [
        "--version", "2.0.0", "--model-dir", "models/text-emotion-ekman-minilm-l6", "--runtime", "onnx"]


@pytest.mark.parametrize(("change", "message"), [
    (('"2.0.0": {classifier', '2.0: {classifier'), "quote the version"),
    (('default: "2.0.0"', 'default: "3.0.0"'), "not one of its versions"),
    (("batchSize: 4", "batchsize: 4"), "unknown keys"),
    (("{classifier: expression_vgg}", "{classifier: 3}"), "classifier must be a name"),
    (("{classifier: expression_vgg}", "{runtim: onnx}"), "unknown keys"),
    ((", responseTimeout: 60", ""), "missing responseTimeout"),
    (("workers: 2", "workers: 0"), "workers must be"),
    (("    build: export_scripts.build_emotion_archive\n", ""), "build must name"),
])
def test_a_file_that_would_render_wrong_is_refused(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in VALID
    with pytest.raises(ValueError, match=message):
        load_served_models(write_models(tmp_path, VALID.replace(old, new)))


def test_the_command_checks_against_another_models_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    changed = MODELS_FILE.read_text().replace("batchSize: 4,", "batchSize: 5,", 1)
    assert changed != MODELS_FILE.read_text()
    assert main(["--check", "--models", str(write_models(tmp_path, changed))]) == 1
    assert capsys.readouterr().err.count("is stale") == len(GENERATED_FILES)
