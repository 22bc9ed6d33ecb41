"""The service's errors: one exception type carrying an HTTP status, and its JSON body.

Every error answer has the shape OpenAI clients already parse:
`{"error": {"message": "...", "type": "..."}}`. Messages are one line and never quote the
request's text or its headers.
"""

from __future__ import annotations

TYPES = {  # status -> the error type written into the body
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    500: "internal_error",
    501: "not_implemented",
    502: "upstream_error",
    503: "overloaded",
    504: "upstream_error",
}


class ApiError(Exception):
    """An answer other than success: status, message, and the error type (from the status by default)."""

    def __init__(self, status: int, message: str, type_: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_ or TYPES.get(status, "error")

    def response(self, headers: dict[str, str] | None = None):
        return error_response(self.status, self.message, self.type, headers)


def error_response(status: int, message: str, type_: str | None = None, headers: dict[str, str] | None = None):
    """The JSON error answer (a starlette JSONResponse)."""
    from starlette.responses import JSONResponse

    body = {"error": {"message": message, "type": type_ or TYPES.get(status, "error")}}
    return JSONResponse(body, status_code=status, headers=headers)
