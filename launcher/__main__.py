"""`python -m launcher up`: start the stack in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from launcher.process import ServiceFailedError
from launcher.services import REPO_ROOT, S3Endpoint
from launcher.stack import Stack, StackConfig


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launcher", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the stack and keep it running")
    up.add_argument("--backend", choices=["embedded", "torchserve"],
                    default=os.environ.get("MUSEAIKA_INFERENCE_BACKEND", "embedded"))
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=int(os.environ.get("MUSEAIKA_PORT", "8000")))
    up.add_argument("--mongo-url", default=os.environ.get("MUSEAIKA_MONGO_URL"),
                    help="use this MongoDB instead of starting the Mongo-wire server")
    up.add_argument("--redis-url", default=os.environ.get("MUSEAIKA_REDIS_URL"),
                    help="use this Redis instead of starting redis-server")
    up.add_argument("--s3-endpoint", default=os.environ.get("MUSEAIKA_S3_ENDPOINT"),
                    help="use this S3 endpoint (host:port; keys from MUSEAIKA_S3_ACCESS_KEY/MUSEAIKA_S3_SECRET_KEY, "
                         "MUSEAIKA_S3_SECURE, MUSEAIKA_S3_REGION) instead of starting nanio")
    up.add_argument("--s3-bucket", default=os.environ.get("MUSEAIKA_S3_BUCKET", "museaika"))
    up.add_argument("--no-worker", action="store_true", help="do not start the generation-job worker")
    up.add_argument("--run-dir", type=Path, default=REPO_ROOT / "runtime" / "stack")
    up.add_argument("--torch-threads", type=int, default=None)
    up.add_argument("--no-spotify-standin", action="store_true",
                    help="don't start the local Spotify stand-in (it never starts when MUSEAIKA_SPOTIFY_CLIENT_ID "
                         "names a real Spotify app)")
    args = parser.parse_args(argv)
    s3 = None
    if args.s3_endpoint:
        access_key, secret_key = os.environ.get("MUSEAIKA_S3_ACCESS_KEY"), os.environ.get("MUSEAIKA_S3_SECRET_KEY")
        if not access_key or not secret_key:
            parser.error("--s3-endpoint needs MUSEAIKA_S3_ACCESS_KEY and MUSEAIKA_S3_SECRET_KEY")
        s3 = S3Endpoint(args.s3_endpoint, access_key, secret_key,
                        secure=os.environ.get("MUSEAIKA_S3_SECURE", "false").lower() in ("1", "true", "yes"),
                        region=os.environ.get("MUSEAIKA_S3_REGION", "us-east-1"))
    start_worker = not args.no_worker
    spotify_standin = not args.no_spotify_standin and not os.environ.get("MUSEAIKA_SPOTIFY_CLIENT_ID")

    logging.basicConfig(level=logging.INFO, format="%(asctime)s launcher %(message)s")
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # A shell that starts us in the background sets SIGINT to "ignore"; Ctrl-C must still stop the stack.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    config = StackConfig(run_dir=args.run_dir, backend=args.backend, orchestrator_port=args.port,
                         orchestrator_host=args.host, mongo_url=args.mongo_url, persistent_mongo=True,
                         torch_threads=args.torch_threads, redis_url=args.redis_url, s3=s3, s3_bucket=args.s3_bucket,
                         start_worker=start_worker,
                         spotify_standin=spotify_standin)
    try:
        with Stack(config) as stack:
            print(f"MuseAIka is up on {stack.orchestrator_url} (backend: {args.backend}; API docs at "
                  f"{stack.orchestrator_url}/docs; logs in {args.run_dir / 'logs'}). Ctrl-C stops everything.",
                  flush=True)
            assert stack.s3 is not None
            print(f"  MongoDB {stack.mongo_url}; Redis {stack.redis_url}; S3 {stack.s3.url} (bucket {args.s3_bucket}); "
                  f"job worker {'running' if 'worker' in stack.processes else 'not started'}", flush=True)
            if stack.spotify_url:
                print(f"  Spotify stand-in {stack.spotify_url} (a local server speaking Spotify's API; set "
                      "MUSEAIKA_SPOTIFY_CLIENT_ID for a real app)", flush=True)
            while all(p.running for p in stack.processes.values()):
                time.sleep(1)
            dead = [name for name, p in stack.processes.items() if not p.running]
            print(f"stopping: {', '.join(dead)} exited; see {args.run_dir / 'logs'}", file=sys.stderr)
            return 1
    except ServiceFailedError as error:
        print(f"could not start the stack: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
