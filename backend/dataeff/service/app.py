"""The Flask application factory (style §4).

``create_app(settings=None, *, scorer_factory=..., gateway_factory=...)`` wires one
:class:`~dataeff.service.runtime.Runtime` into a Flask app with two blueprints: the Label
Studio protocol and dataeff's API. Errors are mapped once, to JSON ``{"error", "detail"}``
with the ``http_status`` of :mod:`dataeff.errors` (bad input 400/422, credentials 401,
unknown project 404, store down 503); an oversize body is a 413.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from dataeff.errors import AuthError, DataeffError
from dataeff.service import api, protocol
from dataeff.service.runtime import GatewayFactory, Runtime, default_gateway
from dataeff.service.scorers import ScorerFactory
from dataeff.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, scorer_factory: ScorerFactory | None = None,
               gateway_factory: GatewayFactory = default_gateway, start: bool = True) -> Flask:
    """Build the app; ``start`` migrates the store and starts the worker."""
    settings = settings or Settings.load()
    app = Flask("dataeff")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    rt = Runtime(settings, scorer_factory=scorer_factory, gateway_factory=gateway_factory)
    app.extensions["dataeff"] = rt
    app.register_blueprint(protocol.bp)
    app.register_blueprint(api.bp)
    _register_errors(app)
    if start:
        rt.start()
    return app


def _register_errors(app: Flask) -> None:
    @app.errorhandler(DataeffError)
    def _dataeff(error: DataeffError) -> ResponseReturnValue:
        response = jsonify(error=type(error).__name__, detail=str(error))
        response.status_code = error.http_status
        if isinstance(error, AuthError):
            response.headers["WWW-Authenticate"] = 'Basic realm="dataeff"'
        return response

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> ResponseReturnValue:
        detail = error.description or error.name
        if error.code == 413:
            limit = app.config["MAX_CONTENT_LENGTH"]
            detail = f"request body exceeds the limit of {limit} bytes (max_body_bytes)"
        response = jsonify(error=error.name, detail=detail)
        response.status_code = error.code or 500
        return response

    @app.errorhandler(SQLAlchemyError)
    def _database(error: SQLAlchemyError) -> ResponseReturnValue:
        log.error("database error: %s", error)
        response = jsonify(error="UnavailableError",
                           detail=f"the dataeff store is unavailable: {type(error).__name__}")
        response.status_code = 503
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        log.exception("unexpected error")
        response = jsonify(error="InternalError", detail=f"{type(error).__name__}: {error}")
        response.status_code = 500
        return response
