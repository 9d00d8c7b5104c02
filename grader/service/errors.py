"""Every error the service answers is `{"error": {"code": "<word>", "message": "<what to fix>"}}`.

FastAPI's and Starlette's own errors (validation, 404 of an unknown path, 405)
are turned into the same shape.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

WORDS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
         500: "internal", 503: "unavailable"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body(code, message), status_code=status, headers=headers)


def _where(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 400 and message == "There was an error parsing the body":  # not UTF-8, or nested too deep
            return response(400, "malformed_json", "the body is not valid JSON (it must be UTF-8, and not nested too deeply)")
        if exc.status_code == 404 and message == "Not Found":
            message = f"there is nothing at {request.url.path}; the API is under /v1 (see /docs)"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return response(exc.status_code, WORDS.get(exc.status_code, "error"), message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return response(400, "malformed_json", "the body is not valid JSON")
        whole_body = [e for e in errors if tuple(e.get("loc", ())) == ("body",)]
        if whole_body or any(e.get("type") == "model_attributes_type" for e in errors):
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind != "application/json" and not kind.endswith("+json"):
                return response(400, "malformed_body", "send the body as JSON, with 'Content-Type: application/json'")
            if any(e.get("type") == "missing" for e in whole_body):
                return response(400, "malformed_body", "the body is empty; send a JSON object")
            return response(400, "malformed_body", "the body must be a JSON object")
        shown = "; ".join(f"{_where(tuple(e.get('loc', ())))}: {e.get('msg', 'invalid')}" for e in errors[:5])
        return response(422, "invalid", shown)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        import logging

        logging.getLogger("grader.service").exception("unhandled error on %s %s", request.method, request.url.path)
        return response(500, "internal", "the service failed on this request; it is logged")
