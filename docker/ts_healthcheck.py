"""TorchServe's container healthcheck: GET /ping with the inference key (token authorization is on, and
TorchServe checks the token on /ping too). Exit 0 when TorchServe answers Healthy."""

from __future__ import annotations

import json
import os
import sys
import urllib.request


def main() -> int:
    key_file = os.environ.get("TS_KEY_FILE", "/var/run/torchserve/key_file.json")
    headers = {}
    try:
        with open(key_file) as handle:
            headers["Authorization"] = f"Bearer {json.load(handle)['inference']['key']}"
    except (OSError, KeyError, ValueError):
        pass  # token authorization off (a ConfigMap override), or not started yet: /ping decides
    request = urllib.request.Request(os.environ.get("TS_PING_URL", "http://127.0.0.1:8080/ping"), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=4) as response:
            return 0 if json.loads(response.read()).get("status") == "Healthy" else 1
    except (OSError, ValueError):
        return 1


if __name__ == "__main__":
    sys.exit(main())
