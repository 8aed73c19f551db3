"""The exception tree shared by every layer.

Every error dataeff raises on purpose is a :class:`DataeffError`. The HTTP layer maps the
subclasses once (``http_status``) and the CLI prints ``str(error)`` on one line and exits 2,
so messages must name the offending item and value.

    DataeffError
    ├── InvalidInputError   bad input: a file, a field, an option, a config      (HTTP 400)
    │   └── ConfigError     invalid settings or project parameters               (HTTP 422)
    ├── AuthError           missing or wrong credentials                         (HTTP 401)
    ├── NotFoundError       unknown project, model, calibration, file            (HTTP 404)
    ├── NotReadyError       too little data yet for the requested result         (HTTP 409)
    └── UnavailableError    a dependency (model, database, Label Studio) is down (HTTP 503)
"""

from __future__ import annotations


class DataeffError(Exception):
    """Base class of every error dataeff raises on purpose."""

    http_status = 500


class InvalidInputError(DataeffError, ValueError):
    """The input (file, field, option, payload) is malformed or out of range."""

    http_status = 400


class ConfigError(InvalidInputError):
    """Settings or per-project parameters are invalid; the message names the field."""

    http_status = 422


class AuthError(DataeffError):
    """Credentials are missing or wrong."""

    http_status = 401


class NotFoundError(DataeffError, LookupError):
    """A named thing (project, model, calibration, file) does not exist."""

    http_status = 404


class NotReadyError(DataeffError):
    """Not enough data yet to produce the requested result."""

    http_status = 409


class UnavailableError(DataeffError):
    """A dependency (model, database, queue, Label Studio) cannot be reached or loaded."""

    http_status = 503
