"""``dataeff connect``: wire a Label Studio project to a running dataeff backend in one call.

Steps (each idempotent, so running it twice leaves the same state; LS §3, §5):

1. check Label Studio (URL, token, project) and the backend's ``/health``;
2. add the status control (a ``TextArea`` named ``dataeff_status``, bound to the first
   ``Text`` object; :func:`dataeff.labelstudio.status.add_status_control`) to the label
   config when missing; a ``dataeff_status*`` element that is not a TextArea is refused;
3. register the backend (``ml.create``) or update the one already registered at that URL; its
   ``extra_params`` carry the stop criteria, which Label Studio passes to the backend's
   ``/setup``; given keys replace stored ones, other stored keys stay;
4. serve the least confident tasks first: set ``sampling="Uncertainty sampling"`` (used by
   ``GET /api/projects/<id>/next``) and order the project's Data Manager tabs by prediction
   score (Label Studio 1.23.2's "Label All Tasks" always sends the tab's filters, which makes
   it serve in tab order and ignore the sampling setting; tabs with their own order are kept),
   and set ``project.model_version`` to the version the
   backend answered in ``/setup`` (the stable version of its confidence predictions: Label
   Studio orders tasks by score only among predictions of ``project.model_version``). Label
   Studio accepts that value only when it is a backend's title or already has predictions, so
   the backend is titled with its version (which also makes it the "live" model that Label
   Studio asks for predictions of tasks lacking them);
5. put the ``X-Dataeff-Secret`` header on the webhook Label Studio created for the backend;
6. ask the backend to sync (Start Training sends ``START_TRAINING``, which makes the backend
   reconcile with Label Studio and score tasks imported before the connection).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, TypeVar
from urllib.parse import urlparse

import httpx
import requests

from dataeff.errors import (
    AuthError,
    InvalidInputError,
    NotFoundError,
    UnavailableError,
)
from dataeff.labelstudio.params import ProjectParams
from dataeff.labelstudio.status import add_status_control, find_status_control

SECRET_HEADER = "X-Dataeff-Secret"
BACKEND_TITLE = "dataeff"
UNCERTAINTY_SAMPLING = "Uncertainty sampling"
SERVING_ORDER = ["tasks:predictions_score"]  # Data Manager order: least confident first
_T = TypeVar("_T")


# --- parameters -----------------------------------------------------------------------------


def validate_params(params: Mapping[str, object]) -> dict[str, object]:
    """Check the given per-project parameters as ``/setup`` will (:class:`ProjectParams`);
    returns them normalised (ints where whole numbers are meant, names stripped). Raises
    :class:`ConfigError` naming the key."""
    parsed = ProjectParams.parse(dict(params))
    return {key: getattr(parsed, key) for key in params}


# --- wiring ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectResult:
    """What :func:`connect` left in place (one JSON object for the CLI)."""

    project: int
    ml_backend: int
    model_version: str
    webhook: int
    status_control: str
    params: dict[str, object]
    changed: list[str]  # the steps that changed something; [] on a repeat run
    synced: bool

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _check_url(what: str, url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidInputError(f"{what} {url!r} is not an http(s) URL")
    return url.rstrip("/")


class _Session:
    """Label Studio calls with errors turned into one-line :class:`DataeffError` messages."""

    def __init__(self, ls_url: str, api_key: str, timeout_s: float) -> None:
        from label_studio_sdk import LabelStudio

        self.url = ls_url
        self.api = LabelStudio(  # type: ignore[no-untyped-call]
            base_url=ls_url, api_key=api_key, timeout=timeout_s
        )

    def call(self, what: str, fn: Callable[..., _T], /, **kwargs: Any) -> _T:
        """``fn(**kwargs)``; ``what`` (e.g. "reading project 3") goes into error messages."""
        from label_studio_sdk.core.api_error import ApiError

        try:
            return fn(**kwargs)
        except httpx.TransportError as error:
            raise UnavailableError(f"cannot reach Label Studio at {self.url}: {error}") from error
        except ApiError as error:
            status, body = error.status_code, _short(error.body)
            if status in (401, 403):
                raise AuthError(
                    f"Label Studio at {self.url} rejected the API key while {what} "
                    f"(HTTP {status}): {body}"
                ) from error
            if status == 404:
                raise NotFoundError(f"{what}: not found at {self.url} (HTTP 404)") from error
            message = f"{what} at {self.url} failed (HTTP {status}): {body}"
            raise UnavailableError(message) from error


def _short(body: object, limit: int = 300) -> str:
    text = " ".join(str(body).split())
    return text if len(text) <= limit else text[:limit] + "..."


def check_backend(backend_url: str, timeout_s: float = 5.0) -> None:
    """Raise :class:`UnavailableError` unless ``GET <backend>/health`` answers 200 JSON."""
    try:
        answer = requests.get(f"{backend_url}/health", timeout=timeout_s)
        answer.raise_for_status()
        answer.json()
    except (requests.RequestException, ValueError) as error:
        raise UnavailableError(
            f"the dataeff backend at {backend_url} does not answer GET /health: {error}"
        ) from error


def connect(
    ls_url: str,
    api_key: str,
    project: int,
    backend_url: str,
    *,
    params: Mapping[str, object] | None = None,
    secret: str | None = None,
    sync: bool = True,
    timeout_s: float = 30.0,
) -> ConnectResult:
    """Wire Label Studio project ``project`` to the backend at ``backend_url`` (steps above)."""
    ls_url = _check_url("Label Studio URL", ls_url)
    backend_url = _check_url("backend URL", backend_url)
    if not api_key:
        raise AuthError("no Label Studio API key given (--api-key or LABEL_STUDIO_API_KEY)")
    if secret is not None and not secret.strip():
        raise InvalidInputError("the webhook secret must not be empty")
    wanted = validate_params(params or {})
    ls = _Session(ls_url, api_key, timeout_s)
    ls.call("checking the API key (GET /api/current-user/whoami)", ls.api.users.whoami)
    current = ls.call(f"reading project {project}", ls.api.projects.get, id=project)
    check_backend(backend_url)
    changed: list[str] = []

    config = str(current.label_config or "")
    with_status = add_status_control(config)
    if with_status != config:
        ls.call("adding the status control", ls.api.projects.update, id=project,
                label_config=with_status)  # fmt: skip
        changed.append("label_config")
    status = find_status_control(with_status)
    assert status is not None  # add_status_control added one or found one

    backend_id, merged = _ensure_backend(ls, project, backend_url, wanted, changed)
    backend = ls.call("reading the ML backend", ls.api.ml.get, id=backend_id)
    if backend.state != "CO" or not backend.model_version:
        reason = backend.error_message or "no model_version from /setup"
        raise UnavailableError(
            f"Label Studio could not set up the backend at {backend_url} "
            f"(state {backend.state}): {_short(reason)}"
        )
    version = str(backend.model_version)
    if backend.title != version:
        # Label Studio accepts project.model_version only when it names a backend (by title) or
        # existing predictions; titling the backend with its stable version makes it "live".
        # (Label Studio 1.23.2 answers 500 to an ML backend PATCH without url and project.)
        ls.call("titling the ML backend", ls.api.ml.update, id=backend_id, url=backend_url,
                project=project, title=version)  # fmt: skip
        changed.append("ml_backend")

    current = ls.call(f"reading project {project}", ls.api.projects.get, id=project)
    if current.sampling != UNCERTAINTY_SAMPLING or current.model_version != version:
        ls.call("setting uncertainty sampling", ls.api.projects.update, id=project,
                sampling=UNCERTAINTY_SAMPLING, model_version=version)  # fmt: skip
        changed.append("sampling")

    _ensure_serving_order(ls, project, changed)
    webhook_id = _ensure_webhook(ls, project, f"{backend_url}/webhook", secret, changed)
    if sync:
        ls.call("asking the backend to sync (Start Training)", ls.api.ml.train, id=backend_id)
    changed = list(dict.fromkeys(changed))
    return ConnectResult(project, backend_id, version, webhook_id, status.name, merged, changed,
                         sync)  # fmt: skip


def _ensure_backend(
    ls: _Session, project: int, url: str, wanted: dict[str, object], changed: list[str]
) -> tuple[int, dict[str, object]]:
    """The id of the project's ML backend at ``url`` (registered when missing) and its
    ``extra_params`` after merging ``wanted`` into the stored ones."""
    backends = ls.call("listing ML backends", ls.api.ml.list, project=project)
    mine = next((b for b in backends if str(b.url or "").rstrip("/") == url), None)
    if mine is None:
        created = ls.call("registering the ML backend", ls.api.ml.create, url=url,
                          project=project, title=BACKEND_TITLE, is_interactive=False,
                          extra_params=wanted)  # fmt: skip
        changed.append("ml_backend")
        return int(created.id or 0), dict(wanted)
    stored = dict(mine.extra_params) if isinstance(mine.extra_params, dict) else {}
    merged = {**stored, **wanted}
    if merged != stored or mine.state != "CO":
        ls.call("updating the ML backend", ls.api.ml.update, id=int(mine.id or 0), url=url,
                project=project, extra_params=merged)  # fmt: skip
        changed.append("ml_backend")
    return int(mine.id or 0), merged


def _ensure_serving_order(ls: _Session, project: int, changed: list[str]) -> None:
    """Order the project's Data Manager tabs by prediction score, ascending (a new tab when
    there is none); tabs that already have an order are left alone."""
    views = ls.call("listing Data Manager tabs", ls.api.views.list, project=project)
    if not views:
        data: Any = {"title": "Default", "type": "list", "target": "tasks",
                     "ordering": SERVING_ORDER, "filters": {"conjunction": "and", "items": []}}
        ls.call("creating a Data Manager tab", ls.api.views.create, project=project, data=data)
        changed.append("views")
    for view in views:
        data = dict(view.data) if isinstance(view.data, dict) else {}
        if not data.get("ordering"):
            data["ordering"] = SERVING_ORDER
            ls.call("ordering a Data Manager tab by prediction score", ls.api.views.update,
                    id=str(view.id), project=project, data=data)  # fmt: skip
            changed.append("views")


def _ensure_webhook(
    ls: _Session, project: int, url: str, secret: str | None, changed: list[str]
) -> int:
    """The backend's project webhook (Label Studio creates it with the backend), with the
    secret header merged in; recreated when someone deleted it."""
    hooks = ls.call("listing webhooks", ls.api.webhooks.list, project=str(project))
    hook = next((h for h in hooks if str(h.url).rstrip("/") == url), None)
    headers = dict(hook.headers) if hook is not None and isinstance(hook.headers, dict) else {}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    if hook is None:
        created = ls.call("creating the backend webhook", ls.api.webhooks.create, url=url,
                          project=project, send_payload=True, send_for_all_actions=True,
                          headers=headers)  # fmt: skip
        changed.append("webhook")
        return int(created.id or 0)
    if headers != (hook.headers or {}) or not hook.is_active:
        ls.call("setting the webhook secret header", ls.api.webhooks.update, id=int(hook.id or 0),
                headers=headers, is_active=True)  # fmt: skip
        changed.append("webhook")
    return int(hook.id or 0)
