"""Import a Spotify-features CSV into the track catalog and print the report.

    python -m orchestrator.catalog.import_csv PATH [--mongo-url URL] [--database NAME] [--strict] [--json]

Exit codes: 0 imported (rejected rows, if any, are listed); 1 rows were rejected and --strict refused the
file; 2 the file cannot be read or lacks required columns; 3 MongoDB is unavailable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from orchestrator.catalog.csv_import import CatalogCsvError, ImportReport, import_csv
from orchestrator.catalog.store import TrackCatalog
from orchestrator.core.errors import DependencyUnavailableError
from orchestrator.core.settings import get_settings
from orchestrator.storage.mongo import MongoStore

EXIT_REFUSED = 1
EXIT_BAD_FILE = 2
EXIT_UNAVAILABLE = 3


async def run(path: Path, mongo_url: str, database: str, strict: bool, timeout_ms: int,
              socket_timeout_ms: int) -> ImportReport:
    store = MongoStore(mongo_url, database, timeout_ms, socket_timeout_ms)
    try:
        return await import_csv(path, TrackCatalog(store), strict=strict)
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m orchestrator.catalog.import_csv", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path)
    parser.add_argument("--mongo-url", default=settings.mongo_url)
    parser.add_argument("--database", default=settings.mongo_database)
    parser.add_argument("--strict", action="store_true", help="refuse the whole file when any row is bad")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        report = asyncio.run(run(args.path, args.mongo_url, args.database, args.strict, settings.mongo_timeout_ms,
                                 settings.mongo_socket_timeout_ms))
    except CatalogCsvError as error:
        print(f"error: {args.path}: {error}", file=sys.stderr)
        return EXIT_BAD_FILE
    except DependencyUnavailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.format())
    return EXIT_REFUSED if not report.written else 0


if __name__ == "__main__":
    sys.exit(main())
