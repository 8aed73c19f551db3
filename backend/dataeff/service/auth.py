"""Request authentication (LS §2.1), compared in constant time.

* Label Studio's calls (health, setup, predict, versions, START_TRAINING) and dataeff's API
  carry HTTP Basic auth when ``DATAEFF_BASIC_AUTH_USER``/``_PASS`` are set.
* Project webhooks arrive **without** the Basic auth header (LS §2.1), so ``/webhook`` also
  accepts the shared secret in ``X-Dataeff-Secret`` when ``DATAEFF_WEBHOOK_SECRET`` is set
  (attach it to the project webhook: ``client.webhooks.update(id, headers={...})``).
"""

from __future__ import annotations

import hmac

from flask import Request

from dataeff.errors import AuthError
from dataeff.settings import Settings

SECRET_HEADER = "X-Dataeff-Secret"


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def basic_ok(request: Request, settings: Settings) -> bool:
    if settings.basic_auth_user is None or settings.basic_auth_pass is None:
        return True
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return False
    user_ok = _same(auth.username, settings.basic_auth_user)
    pass_ok = _same(auth.password, settings.basic_auth_pass)
    return user_ok and pass_ok


def require_basic(request: Request, settings: Settings) -> None:
    if not basic_ok(request, settings):
        given = "missing" if request.authorization is None else "wrong"
        raise AuthError(f"HTTP Basic credentials {given}; set them in the model's "
                        "Authentication settings in Label Studio")


def require_webhook(request: Request, settings: Settings, action: str | None) -> None:
    """Accept a webhook with the right secret header or the right Basic credentials.

    START_TRAINING comes from Label Studio's ML client (Basic auth, no custom headers): it
    is accepted without credentials when Basic auth is not configured; it only triggers a
    reconcile from Label Studio's own data.
    """
    secret = settings.webhook_secret
    basic = settings.basic_auth_user is not None
    if secret is None and not basic:
        return
    if secret is not None and _same(request.headers.get(SECRET_HEADER), secret):
        return
    if basic and request.authorization is not None and basic_ok(request, settings):
        return
    if action == "START_TRAINING" and not basic:
        return
    if secret is not None and SECRET_HEADER in request.headers:
        raise AuthError(f"wrong {SECRET_HEADER} header")
    wanted = " or ".join(([f"the {SECRET_HEADER} header"] if secret else [])
                         + (["HTTP Basic credentials"] if basic else []))
    raise AuthError(f"webhook needs {wanted}")
