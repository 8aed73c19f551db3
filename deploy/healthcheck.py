"""Container health check for the dataeff web process (standard library only).

Usage: ``python healthcheck.py [URL]`` (default ``http://127.0.0.1:9090/health``).

Exit status 0 when ``GET URL`` answers 200 with a JSON object whose ``status`` is ``"UP"``
(the Label Studio ML backend health contract, labelstudio.md §1); 1 otherwise, with one
line on stderr that says why. When ``DATAEFF_BASIC_AUTH_USER`` and ``DATAEFF_BASIC_AUTH_PASS``
are both set, the request carries the same Basic auth credentials Label Studio sends, so the
check works whether or not the service guards ``/health``.

Used by the image's ``HEALTHCHECK`` and by the Kubernetes probes (exec), which is why it
does not depend on curl (python:3.11-slim has none) or on the dataeff package itself.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

DEFAULT_URL = "http://127.0.0.1:9090/health"
TIMEOUT_S = 4.0  # below the image's HEALTHCHECK --timeout=5s and the probes' timeoutSeconds: 5
MAX_BODY_BYTES = 65536


def build_request(url: str, env: Mapping[str, str]) -> urllib.request.Request:
    """A GET request for ``url``, with Basic auth when both credential variables are set."""
    request = urllib.request.Request(url, method="GET", headers={"Accept": "application/json"})
    user = env.get("DATAEFF_BASIC_AUTH_USER", "")
    password = env.get("DATAEFF_BASIC_AUTH_PASS", "")
    if user and password:
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        request.add_header("Authorization", f"Basic {token}")
    return request


def check(url: str, env: Mapping[str, str], timeout_s: float = TIMEOUT_S) -> str | None:
    """None when the service at ``url`` is healthy, else one sentence saying what is wrong."""
    # no proxies: an HTTP(S)_PROXY set for the container must not carry a loopback check away
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(build_request(url, env), timeout=timeout_s) as response:
            status = response.status
            body = response.read(MAX_BODY_BYTES)
    except urllib.error.HTTPError as error:
        return f"GET {url} answered HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return f"GET {url} failed: {getattr(error, 'reason', error)}"
    if status != 200:
        return f"GET {url} answered HTTP {status}, expected 200"
    try:
        payload = json.loads(body)
    except ValueError:
        return f"GET {url} answered a body that is not JSON: {body[:80]!r}"
    if not isinstance(payload, dict) or payload.get("status") != "UP":
        return f"GET {url} answered {payload!r:.120}, expected a JSON object with status UP"
    return None


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run the check; 0 when healthy, 1 when not, 2 for a usage error."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 1:
        print("usage: healthcheck.py [URL]", file=sys.stderr)
        return 2
    url = args[0] if args else DEFAULT_URL
    problem = check(url, os.environ if env is None else env)
    if problem is not None:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
