"""The HTTP service: the library behind a small JSON API, on Starlette and uvicorn.

    POST /v1/evaluate[?as_of=YYYY-MM-DD]   YAML or JSON profile -> outline JSON
    POST /v1/validate                      YAML or JSON profile -> {"valid", "problems"}
    GET  /v1/rules                         the loaded packs and their rules
    GET  /healthz                          {"status": "ok", ...}
    GET  /openapi.json                     the OpenAPI 3.1 document
    GET  /                                 the guided interview (ipexpert/_interview_web.py)

Every error is an RFC 9457 problem details body (application/problem+json); no traceback
ever reaches a response. The rule base is compiled once, before the server starts, and
evaluations run in worker threads (each thread keeps its own engine).
"""

from __future__ import annotations

import http

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import _api, _interview_web, _profile, _schemas, _yaml
from ._errors import EvaluationError, InvalidProfileError, IPExpertError, Problem, one_line

MEDIA_TYPES = ("application/json", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
PROBLEM_MEDIA_TYPE = "application/problem+json"
REQUEST_NAME = "<request>"
TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}  # RFC 9110 names, on every Python


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


class _Refused(Exception):
    """A request the service answers with problem details instead of a result."""

    def __init__(self, status: int, detail: str, problems=()):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.problems = list(problems)


def problem_details(status: int, detail: str, problems=()) -> ProblemResponse:
    """An RFC 9457 body; the status code alone says what kind of problem it is."""
    body = {
        "type": "about:blank",
        "title": TITLES.get(status) or http.HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "problems": [p.to_dict() for p in problems],
    }
    return ProblemResponse(body, status_code=status)


def create_app(rules, max_bytes: int = _yaml.MAX_BYTES, as_of=None) -> Starlette:
    """The ASGI application answering with *rules* (a compiled RuleBase)."""

    async def evaluate(request: Request) -> Response:
        as_of = _as_of(request)
        doc = await _document(request, max_bytes)
        try:
            outline = await run_in_threadpool(_api.evaluate, doc, rules, as_of)
        except InvalidProfileError as exc:
            raise _Refused(422, "the profile is not valid", exc.problems) from None
        except EvaluationError as exc:
            raise _Refused(500, "the rules failed on this profile", exc.problems) from None
        return Response(outline.to_json(), media_type="application/json")

    async def validate(request: Request) -> Response:
        try:
            doc = await _document(request, max_bytes)
        except _Refused as exc:
            if exc.status != 400:
                raise
            return JSONResponse({"valid": False, "problems": [p.to_dict() for p in exc.problems]})
        problems = await run_in_threadpool(_api.validate, doc)
        return JSONResponse({"valid": not problems, "problems": [p.to_dict() for p in problems]})

    listing = _rules_listing(rules)
    openapi = openapi_document(max_bytes)

    async def list_rules(request: Request) -> Response:
        return JSONResponse(listing)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "rules": len(rules.rules), "packs": len(rules.packs)})

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi)

    routes = [
        Route("/v1/evaluate", evaluate, methods=["POST"]),
        Route("/v1/validate", validate, methods=["POST"]),
        Route("/v1/rules", list_rules, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        *_interview_web.routes(rules, as_of),
    ]
    handlers = {_Refused: _refused, HTTPException: _http_error, Exception: _internal_error}
    return Starlette(routes=routes, exception_handlers=handlers)


def serve(rules, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Run the service until interrupted (Ctrl-C or SIGTERM)."""
    import uvicorn

    config = uvicorn.Config(
        create_app(rules), host=host, port=port, http="h11", lifespan="off", server_header=False, log_level="info"
    )
    uvicorn.Server(config).run()


async def _refused(request: Request, exc: _Refused) -> Response:
    return problem_details(exc.status, exc.detail, exc.problems)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    detail = exc.detail if isinstance(exc.detail, str) else http.HTTPStatus(exc.status_code).description
    response = problem_details(exc.status_code, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _internal_error(request: Request, exc: Exception) -> Response:
    # The server logs the traceback; the response never carries it.
    return problem_details(500, "an internal error occurred; it has been logged")


def _as_of(request: Request):
    text = request.query_params.get("as_of")
    if text is None:
        return None
    try:
        return _api.parse_date(text)
    except IPExpertError:
        problem = Problem("<query>", None, None, "$.as_of", f"{one_line(text)[:40]!r} is not a date (YYYY-MM-DD) between 1800 and 2200")
        raise _Refused(400, "the as_of query parameter is not a date (YYYY-MM-DD) between 1800 and 2200", [problem]) from None


async def _document(request: Request, max_bytes: int) -> _yaml.Document:
    """The request body read as a profile Document: 415, 413 and 400 are decided here."""
    _check_media_type(request.headers.get("content-type"))
    raw = await _body(request, max_bytes)
    try:
        return _profile.parse(raw, REQUEST_NAME)
    except InvalidProfileError as exc:
        raise _Refused(400, "the body cannot be read as a YAML or JSON document", exc.problems) from None


def _check_media_type(header: str | None) -> None:
    accepted = ", ".join(MEDIA_TYPES)
    if not header:
        raise _Refused(415, f"give the profile's Content-Type: one of {accepted}")
    media_type, _, params = header.partition(";")
    media_type = media_type.strip().lower()
    if media_type not in MEDIA_TYPES:
        raise _Refused(415, f"{one_line(media_type)[:80]!r} is not accepted; send one of {accepted}")
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise _Refused(415, "the body must be UTF-8 (charset=utf-8)")


async def _body(request: Request, max_bytes: int) -> bytes:
    """The body, refused with 413 as soon as it is known to pass *max_bytes* (never buffered past it)."""
    too_large = f"the body is larger than the limit of {max_bytes:,} bytes"
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > max_bytes:
        raise _Refused(413, too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _Refused(413, too_large)
        chunks.append(chunk)
    return b"".join(chunks)


def _rules_listing(rules) -> dict:
    packs = []
    for pack in rules.packs:
        entries = []
        for rule in pack.rules:
            concludes = next((k for k in ("recommend", "risk", "derive") if k in rule.data), None)
            entries.append({
                "key": rule.key,
                "id": rule.id,
                "title": rule.data.get("title"),
                "category": rule.data.get("category"),
                "concludes": concludes,
            })
        packs.append({"name": pack.name, "version": pack.version, "title": pack.title, "rules": entries})
    return {"packs": packs}


def openapi_document(max_bytes: int = _yaml.MAX_BYTES) -> dict:
    """The OpenAPI 3.1 description of the service; profile and outline are the project's own schemas."""
    from . import __version__

    problem_ref = {"$ref": "#/components/schemas/ProblemDetails"}

    def problem(description):
        return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}}

    def profile_body(description):
        schema = {"$ref": "#/components/schemas/FirmProfile"}
        return {
            "required": True,
            "description": f"{description} At most {max_bytes:,} bytes, UTF-8.",
            "content": {media_type: {"schema": schema} for media_type in MEDIA_TYPES},
        }

    body_errors = {
        "413": problem("The body is larger than the limit."),
        "415": problem("The Content-Type is not JSON or YAML, or the charset is not UTF-8."),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ipexpert",
            "version": __version__,
            "description": "A justified IP-protection strategy outline for a cross-border e-commerce firm.",
        },
        "paths": {
            "/v1/evaluate": {"post": {
                "summary": "Evaluate a profile into its strategy outline",
                "parameters": [{
                    "name": "as_of", "in": "query", "required": False,
                    "description": "The date the advice is computed for (default: today).",
                    "schema": {"type": "string", "format": "date"},
                }],
                "requestBody": profile_body("A firm profile, as YAML or JSON."),
                "responses": {
                    "200": {"description": "The outline.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Outline"}}}},
                    "400": problem("The body is not a readable YAML or JSON document, or as_of is not a date."),
                    **body_errors,
                    "422": problem("The profile breaks the profile schema or its consistency checks."),
                    "500": problem("The rules failed on this profile, or an internal error occurred."),
                },
            }},
            "/v1/validate": {"post": {
                "summary": "Check a profile; every problem found, with line and column",
                "requestBody": profile_body("A firm profile, as YAML or JSON."),
                "responses": {
                    "200": {"description": "Whether the profile is valid, and its problems (unreadable text included).",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Validation"}}}},
                    **body_errors,
                },
            }},
            "/v1/rules": {"get": {
                "summary": "The loaded rule packs and their rules",
                "responses": {"200": {"description": "Packs and rules.",
                                      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Rules"}}}}},
            }},
            "/healthz": {"get": {
                "summary": "Liveness: the service is up and its rules are loaded",
                "responses": {"200": {"description": "Up.", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"status": {"const": "ok"}, "rules": {"type": "integer"},
                                                     "packs": {"type": "integer"}}}}}}},
            }},
        },
        "components": {"schemas": {
            "FirmProfile": _schemas.schema("profile"),
            "Outline": _schemas.schema("outline"),
            "Problem": {
                "type": "object",
                "required": ["file", "line", "column", "path", "message", "severity"],
                "properties": {
                    "file": {"type": "string"},
                    "line": {"type": ["integer", "null"]},
                    "column": {"type": ["integer", "null"]},
                    "path": {"type": "string", "description": "Where in the document, as $.markets[2].code."},
                    "message": {"type": "string"},
                    "severity": {"enum": ["error", "warning"]},
                },
            },
            "ProblemDetails": {
                "type": "object",
                "description": "RFC 9457 problem details, with the profile's problems when there are any.",
                "required": ["type", "title", "status", "detail", "problems"],
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
                },
            },
            "Validation": {
                "type": "object",
                "required": ["valid", "problems"],
                "properties": {
                    "valid": {"type": "boolean"},
                    "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
                },
            },
            "Rules": {
                "type": "object",
                "properties": {"packs": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"}, "version": {"type": "string"}, "title": {"type": "string"},
                        "rules": {"type": "array", "items": {"type": "object", "properties": {
                            "key": {"type": "string"}, "id": {"type": "string"}, "title": {"type": "string"},
                            "category": {"type": ["string", "null"]},
                            "concludes": {"enum": ["recommend", "risk", "derive", None]},
                        }}},
                    },
                }}},
            },
        }},
    }
