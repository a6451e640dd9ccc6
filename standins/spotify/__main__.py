"""Run the Spotify stand-in with uvicorn.

    python -m standins.spotify --host 127.0.0.1 --port 8123 --client-id ID --client-secret SECRET \\
        --redirect-uri http://127.0.0.1:8000/spotify/callback [--tracks-csv PATH] [--token-ttl-s N] \\
        [--auto-approve-user ID]

The client secret may come from SPOTIFY_STANDIN_CLIENT_SECRET instead of argv (argv is visible in ps).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from standins.spotify.app import SpotifyStandinConfig, create_app
from standins.spotify.catalog import default_users, load_users


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m standins.spotify", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", default=os.environ.get("SPOTIFY_STANDIN_CLIENT_SECRET"),
                        help="default: $SPOTIFY_STANDIN_CLIENT_SECRET")
    parser.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris",
                        help="a registered redirect URI (repeat for several)")
    parser.add_argument("--tracks-csv", type=Path, help="tracks in the common Spotify-features layout "
                                                        "(default: the synthetic catalogue)")
    parser.add_argument("--users-json", type=Path, help="a JSON list of users (standins.spotify.SeedUser fields)")
    parser.add_argument("--token-ttl-s", type=float, default=3600.0)
    parser.add_argument("--auto-approve-user", help="/authorize approves as this user without asking")
    parser.add_argument("--allow-user", action="append", dest="allowed_users",
                        help="put a user on the allow-list (repeat); default: no restriction")
    parser.add_argument("--extended-quota", action="store_true",
                        help="Extended Quota Mode shapes and endpoints instead of February 2026 Development Mode")
    parser.add_argument("--legacy-endpoints", action="store_true",
                        help="answer /recommendations and /audio-features (apps that kept pre-2024 access)")
    parser.add_argument("--no-scope-checks", action="store_true")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if not args.client_secret:
        parser.error("--client-secret (or SPOTIFY_STANDIN_CLIENT_SECRET) is required")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = SpotifyStandinConfig(
        client_id=args.client_id,
        client_secret=args.client_secret,
        redirect_uris=args.redirect_uris,
        tracks_csv=args.tracks_csv,
        users=load_users(args.users_json) if args.users_json else default_users(),
        token_ttl_s=args.token_ttl_s,
        auto_approve_user=args.auto_approve_user,
        allowed_users=args.allowed_users,
        development_mode=not args.extended_quota,
        legacy_endpoints=args.legacy_endpoints,
        enforce_scopes=not args.no_scope_checks,
    )
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level=args.log_level, access_log=False)


if __name__ == "__main__":
    main()
