"""Spotify for linked users, through spotipy: PKCE login, encrypted tokens, and one gateway that
turns Spotify's failures (429, expired tokens, the development-mode allow-list, outages) into ours."""
