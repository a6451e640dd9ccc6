"""A local stand-in for Spotify's Accounts service and Web API (see standins/__init__.py).

``create_app(SpotifyStandinConfig(...))`` is one FastAPI app answering both hosts' paths; run it with
``python -m standins.spotify`` or ``launcher.services.spotify_standin``. Point spotipy at it (spotipy 2.26
has no constructor arguments for these: the URLs are class attributes, set here on the instance)::

    base = "http://127.0.0.1:PORT"
    auth = spotipy.oauth2.SpotifyPKCE(client_id=..., redirect_uri=..., scope=..., open_browser=False,
                                      cache_handler=spotipy.cache_handler.MemoryCacheHandler())
    auth.OAUTH_AUTHORIZE_URL = f"{base}/authorize"   # normally https://accounts.spotify.com/authorize
    auth.OAUTH_TOKEN_URL = f"{base}/api/token"       # normally https://accounts.spotify.com/api/token
    sp = spotipy.Spotify(auth=access_token, requests_timeout=5, retries=0, status_retries=0)
    sp.prefix = f"{base}/v1/"                         # normally https://api.spotify.com/v1/

(``SpotifyOAuth`` takes the same two attribute overrides.) ``Spotify`` has no ``prefix`` argument; the
attribute is set after construction. Paging ``next`` URLs are absolute and point at the stand-in, so
``sp.next(page)`` works.

Test hooks that are not Spotify's: ``/authorize?...&standin_user=<id>`` approves as that user at once
(``&standin_decision=deny`` refuses), and the ``/_control/...`` endpoints (see ``control.py``).
"""

from standins.spotify.app import SpotifyStandinConfig, create_app
from standins.spotify.catalog import SeedUser

__all__ = ["SeedUser", "SpotifyStandinConfig", "create_app"]
