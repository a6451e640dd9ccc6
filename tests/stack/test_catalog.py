"""The track catalog in MongoDB: upserts and the matrix snapshot, strict imports, the importer's exit codes.
Parsing, the model, ranking and journeys are tested without MongoDB in tests/unit/test_catalog.py."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from orchestrator.catalog import import_csv as cli
from orchestrator.catalog.csv_import import import_csv
from orchestrator.catalog.features import FEATURES
from orchestrator.catalog.store import CatalogTrack, TrackCatalog
from orchestrator.catalog.track_moods import TrackMoodModel
from orchestrator.storage.mongo import MongoStore
from tests.support.synthetic_catalog import HEADER, synthetic_id, synthetic_rows, to_csv
from tests.unit.test_catalog import bad_csv

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def catalog_database(mongo_url: str, mongo_database: str) -> Iterator[str]:
    name = f"{mongo_database}_catalog_{uuid.uuid4().hex[:6]}"
    yield name
    with MongoClient(mongo_url) as client:
        client.drop_database(name)


async def test_upsert_inserts_updates_and_refreshes_the_matrix(mongo_url: str, catalog_database: str) -> None:
    store = MongoStore(mongo_url, catalog_database, 2000)
    catalog = TrackCatalog(store, TrackMoodModel.load(), collection="tracks_test_catalog")
    try:
        rows = synthetic_rows()
        report = await import_csv(io.StringIO(to_csv(rows)), catalog, batch_size=16)
        assert (report.imported, report.updated, report.unchanged, report.rejected) == (41, 0, 0, [])
        assert await catalog.count() == 41
        first = await catalog.matrix()
        assert len(first) == 41 and first.version == await catalog.version() > 0
        assert await catalog.matrix() is first  # unchanged catalog: the same snapshot

        again = await import_csv(io.StringIO(to_csv(rows)), catalog)
        assert (again.imported, again.updated, again.unchanged) == (0, 0, 41)
        assert await catalog.matrix() is first

        rows[3] = {**rows[3], "valence": "0.9100"}
        rows.append({**rows[0], "track_id": synthetic_id(99), "track": "New Song"})
        changed = await import_csv(io.StringIO(to_csv(rows)), catalog)
        assert (changed.imported, changed.updated, changed.unchanged) == (1, 1, 40)
        second = await catalog.matrix()
        assert second is not first and len(second) == 42
        assert second.raw[second.index[synthetic_id(3)], FEATURES.index("valence")] == 0.91

        found = await catalog.get_many([f"spotify:track:{synthetic_id(3)}", synthetic_id(99), "not-an-id",
                                        synthetic_id(500)])
        assert set(found) == {synthetic_id(3), synthetic_id(99)}
        assert found[synthetic_id(3)].valence == 0.91 and found[synthetic_id(99)].name == "New Song"
        assert isinstance(found[synthetic_id(3)], CatalogTrack)
        indexes = await catalog.collection.index_information()
        assert any(index.get("unique") and index["key"] == [("track_id", 1)] for index in indexes.values())
    finally:
        await store.close()


async def test_strict_import_writes_nothing(mongo_url: str, catalog_database: str) -> None:
    store = MongoStore(mongo_url, catalog_database, 2000)
    catalog = TrackCatalog(store, collection="tracks_test_strict")
    try:
        report = await import_csv(io.StringIO(bad_csv()), catalog, strict=True)
        assert not report.written and len(report.rejected) == 7
        assert "strict mode" in report.format() and "line 4: valence 1.5 outside [0, 1]" in report.format()
        assert await catalog.count() == 0
        lenient = await import_csv(io.StringIO(bad_csv()), catalog)
        assert lenient.written and lenient.imported == 2 and await catalog.count() == 2
    finally:
        await store.close()


def test_cli_exit_codes(tmp_path: Path, mongo_url: str, catalog_database: str,
                        capsys: pytest.CaptureFixture[str]) -> None:
    good, bad, missing = tmp_path / "good.csv", tmp_path / "bad.csv", tmp_path / "missing.csv"
    good.write_text(to_csv(synthetic_rows()))
    bad.write_text(bad_csv())
    missing.write_text(to_csv(synthetic_rows()[:2], [c for c in HEADER.split(",") if c != "artist"]))
    target = ["--mongo-url", mongo_url, "--database", catalog_database]

    assert cli.main([str(good), *target]) == 0
    assert "41 imported" in capsys.readouterr().out
    assert cli.main([str(bad), *target]) == 0  # lenient: good rows in, bad rows listed
    assert "line 6: duplicate track_id" in capsys.readouterr().out
    assert cli.main([str(missing), *target]) == 2
    assert "missing required column(s): artist" in capsys.readouterr().err
    assert cli.main([str(tmp_path / "absent.csv"), *target]) == 2
    assert cli.main([str(good), "--mongo-url", "mongodb://127.0.0.1:9", "--database", catalog_database]) == 3

    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "MUSEAIKA_MONGO_TIMEOUT_MS": "2000"}
    strict = subprocess.run([sys.executable, "-m", "orchestrator.catalog.import_csv", str(bad), *target, "--strict",
                             "--json"], capture_output=True, text=True, env=environment, cwd=REPO_ROOT, timeout=60)
    assert strict.returncode == 1, strict.stderr
    assert json.loads(strict.stdout)["written"] is False
