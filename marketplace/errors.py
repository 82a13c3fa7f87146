"""Domain errors and the one place that turns errors into pages or JSON problems."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("shanhuo.errors")


class DomainError(Exception):
    """A rule of the business was not met. Services raise it; it is never an HTTP 500."""

    code = "invalid"
    status = 400

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = str(message) if message is not None else str(self.default_message)
        self.field = field
        super().__init__(self.message)

    default_message = _l("The request could not be processed.")


class BadRequest(DomainError):
    code = "bad_request"
    status = 400


class ValidationFailed(DomainError):
    code = "validation_failed"
    status = 422


class Conflict(DomainError):
    code = "conflict"
    status = 409


class NotAllowed(DomainError):
    code = "forbidden"
    status = 403
    default_message = _l("You do not have access to this page.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _l("Not found.")


ERROR_TEXT = {
    400: (_l("Bad request"), _l("The request was not understood. Please check and try again.")),
    401: (_l("Sign in required"), _l("Please sign in to continue.")),
    403: (_l("No access"), _l("You do not have access to this page.")),
    404: (_l("Page not found"), _l("The page you are looking for does not exist.")),
    405: (_l("Not allowed"), _l("This action is not allowed here.")),
    422: (_l("Invalid input"), _l("Some of the information you entered is not valid.")),
    429: (_l("Too many requests"), _l("Too many attempts. Please wait a moment and try again.")),
    500: (_l("Something went wrong"), _l("Our fault, not yours. Please try again shortly.")),
}


FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def error_response(status: int, code: str, message: str | None = None):
    title, default = ERROR_TEXT.get(status, ERROR_TEXT[400 if status < 500 else 500])
    text = message or str(default)
    if wants_json():
        response = jsonify(error=code, message=text)
    else:
        response = render_template("errors/error.html", status=status, title=title, message=text)
    return response, status


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_control_characters():
        # A NUL byte can reach no legitimate page and PostgreSQL refuses it in text: say so. Posted
        # form text is held to the same rule for every form here, once: no C0 control characters
        # but tab and line breaks (multi-line text).
        from .inputs import has_forbidden_control

        if request.path.startswith("/api/"):
            return None  # the API validates its own input and names the field
        if "\x00" in request.path or any("\x00" in v for v in request.args.values()):
            return error_response(400, "bad_request")
        if request.mimetype in FORM_MIMETYPES and any(
                has_forbidden_control(v) for v in request.form.values()):
            return error_response(400, "bad_request", str(_l("The form contains characters that are not allowed.")))
        return None

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        return error_response(error.status, error.code, error.message)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return error_response(
            400, "csrf_failed", str(_l("The form has expired or was not sent from this site. Please reload the page and try again."))
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        message = None
        if status == 400 and error.description and getattr(error, "show_description", False):
            message = error.description
        return error_response(status, (error.name or "error").lower().replace(" ", "_"), message)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error")
