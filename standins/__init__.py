"""Stand-ins for external services that cannot run here.

MuseAIka talks to services on the public internet (Spotify's Accounts service and Web API) that the test
suite, the CI machines and the README demo cannot reach. Each sub-package is a small local server that
speaks the same protocol and answers with the same JSON shapes as the real service, so the project's real
client code (for Spotify: the real ``spotipy`` client) runs unchanged against it, pointed at a loopback URL.

They are test doubles, not products: state lives in memory, data is synthetic, and every behaviour that is
not the real service's (fault injection, inspection) sits under ``/_control/``, a path the real service
does not have.

- ``standins.spotify``: Spotify Accounts (``/authorize``, ``/api/token``) and Web API (``/v1/...``).
"""
