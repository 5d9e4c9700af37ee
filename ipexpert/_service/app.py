"""The HTTP service: the library behind a small JSON API, on Starlette and uvicorn.

    POST /v1/evaluate[?as_of=YYYY-MM-DD]   YAML or JSON profile -> outline JSON
    POST /v1/report?format=&lang=          YAML or JSON profile -> HTML or PDF report, or outline JSON
    POST /v1/validate                      YAML or JSON profile -> {"valid": true, "problems": []}, or 422
    GET  /v1/rules                         the loaded packs and their rules
    GET  /healthz                          {"status": "ok", ...}
    GET  /openapi.json                     the OpenAPI 3.1 document
    GET  /                                 the guided interview (ipexpert/_interview/web.py)

Every error is an RFC 9457 problem details body (application/problem+json); no traceback
ever reaches a response or the log. The event loop only speaks HTTP: reading, checking,
evaluating and serialising a profile happen in one evaluating process per server worker
(`Evaluator`), which is replaced when a large request has left it holding memory. An outline
larger than `Limits` is refused with 413 before it is serialised. `HTTPProtocol` closes
connections that send no complete headers or body in time, and answers a client that
half-closes after a complete request. `serve` runs uvicorn with every limit set.

The modules beside this one: options (Options, Limits), problems (problem answers),
evaluating (the evaluating processes and their operations), server (uvicorn, the protocol,
serve), tally (refusals logged once per interval), openapi (the document). A new operation is
a function in evaluating.OPERATIONS and a Route here.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ipexpert import LANGUAGES, _api
from ipexpert._errors import IPExpertError, Problem, one_line
from ipexpert._interview import web as _web
from ipexpert._practice.agenda import MAX_DAYS as MAX_AGENDA_DAYS
from ipexpert._service import reference as _reference
from ipexpert._service.admission import RequestLimit
from ipexpert._service.evaluating import Evaluator
from ipexpert._service.openapi import openapi_document
from ipexpert._service.options import MAX_ASSIGNMENTS, MAX_QUERY_TEXT, MEDIA_TYPES, REPORT_OPTIONS, Options
from ipexpert._service.problems import Refused, accepted_language, in_language, problem_details
from ipexpert._service.tally import AcceptErrors, Tally

log = logging.getLogger("ipexpert.serve")


def create_app(options: Options | None = None) -> Starlette:
    """The ASGI application for *options* (rule packs and limits); it starts its evaluating process."""
    options = options or Options()
    packs = _api.load_packs(options.rule_paths, defaults=options.defaults)
    listing = _rules_listing(packs)
    health = {"status": "ok", "rules": sum(len(p.rules) for p in packs), "packs": len(packs)}
    openapi = openapi_document(options.limits)
    evaluator = Evaluator(options)
    limits = options.limits

    async def evaluate(request: Request) -> Response:
        as_of = _as_of(request)
        raw = await _body(request, limits.body_bytes)
        answer = await _unless_gone(request, evaluator.answer("evaluate", raw, as_of=as_of))
        return in_language(answer, accepted_language(request))

    async def report(request: Request) -> Response:
        """The client report (or the outline JSON) in a language: ipexpert/_outputs/report.py."""
        as_of = _as_of(request)
        fmt, lang, paper = _report_options(request)
        raw = await _body(request, limits.body_bytes)
        answer = await _unless_gone(request, evaluator.answer("report", raw, as_of=as_of, fmt=fmt, lang=lang, paper=paper))
        return in_language(answer, lang if "lang" in request.query_params else accepted_language(request))

    async def validate(request: Request) -> Response:
        answer = await _unless_gone(request, evaluator.answer("validate", await _body(request, limits.body_bytes)))
        return in_language(answer, accepted_language(request))

    async def explain(request: Request) -> Response:
        as_of, target = _as_of(request), _target(request)
        raw = await _body(request, limits.body_bytes)
        answer = await _unless_gone(request, evaluator.answer("explain", raw, as_of=as_of, target=target))
        return in_language(answer, accepted_language(request))

    async def diff(request: Request) -> Response:
        as_of, assignments = _as_of(request), _assignments(request)
        raw = await _body(request, limits.body_bytes)
        answer = await _unless_gone(request, evaluator.answer("diff", raw, as_of=as_of, assignments=assignments))
        return in_language(answer, accepted_language(request))

    async def agenda_json(request: Request) -> Response:
        return await evaluator.answer("agenda", b"", as_of=_as_of(request), **_agenda_options(request), fmt="json")

    async def agenda_ics(request: Request) -> Response:
        return await evaluator.answer("agenda", b"", as_of=_as_of(request), **_agenda_options(request), fmt="ics")

    async def interview(request: Request, route: str, raw: bytes, query_lang: str | None) -> Response:
        """A page of the interview (at /), made in an evaluating process like any other answer."""
        return await _unless_gone(
            request,
            evaluator.answer(
                "interview", raw, route=route, query_lang=query_lang, content_type=request.headers.get("content-type", "")
            ),
        )

    async def list_rules(request: Request) -> Response:
        return JSONResponse(listing)

    async def healthz(request: Request) -> Response:
        return JSONResponse(health)

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        AcceptErrors.install(asyncio.get_running_loop())
        await evaluator.start()
        try:
            yield
        finally:
            await evaluator.close()
            for tally in Tally.every:
                tally.flush()

    routes = [
        Route("/v1/evaluate", evaluate, methods=["POST"]),
        Route("/v1/report", report, methods=["POST"]),
        Route("/v1/validate", validate, methods=["POST"]),
        Route("/v1/explain", explain, methods=["POST"]),
        Route("/v1/diff", diff, methods=["POST"]),
        Route("/v1/rules", list_rules, methods=["GET"]),
        Route("/v1/agenda", agenda_json, methods=["GET"]),
        Route("/v1/agenda.ics", agenda_ics, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        *_reference.routes(),
        *_web.routes(interview),
    ]
    handlers = {
        Refused: _refused,
        ClientDisconnect: _client_gone,
        HTTPException: _http_error,
        Exception: _internal_error,
    }
    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan)
    return _QuietOnCancel(RequestLimit(app, options.concurrency))


async def _unless_gone(request: Request, answer) -> Response:
    """The response *answer* (a coroutine) gives; if the client leaves first, the answer is called off.

    The evaluating process then stops work no one will read, rather than hold every request
    queued behind it (a PDF held it 4 minutes after its client gave up).
    """
    work = asyncio.ensure_future(answer)
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        if not work.done():
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
    if work.cancelled():
        return Response(status_code=400)  # nobody is there to read it
    return work.result()


async def _disconnected(request: Request) -> None:
    """Returns when the client has gone (the body is already read: the next message says so)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


class _QuietOnCancel:
    """A request still running when the graceful-shutdown timeout ends is cancelled: 503, one log line, no traceback."""

    def __init__(self, app):
        self.app = app
        self.tally = Tally("requests cancelled at shutdown")

    async def __call__(self, scope, receive, send):
        started = False

        async def sending(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except asyncio.CancelledError:
            if scope["type"] != "http":
                raise
            self.tally.add(f"to {scope.get('path')}, answered 503")
            if not started:  # the client may try again on a server that is up
                response = problem_details(503, "the server is stopping; try again")
                response.headers.update({"Retry-After": "1", "Connection": "close"})
                with contextlib.suppress(Exception):
                    await response(scope, receive, send)


async def _refused(request: Request, exc: Refused) -> Response:
    return in_language(problem_details(exc.status, exc.detail, exc.problems), accepted_language(request))


async def _client_gone(request: Request, exc: ClientDisconnect) -> Response:
    # The client left (or was cut off by a timeout) during the upload: nobody to answer, nothing to log.
    return Response(status_code=400)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    detail = exc.detail if isinstance(exc.detail, str) else http.HTTPStatus(exc.status_code).description
    response = problem_details(exc.status_code, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _internal_error(request: Request, exc: Exception) -> Response:
    # The server logs the traceback; the response never carries it.
    return problem_details(500, "an internal error occurred; it has been logged")


def _report_options(request: Request) -> tuple:
    """format, lang and paper from the query, each checked against its choices."""
    chosen = []
    for name, choices in REPORT_OPTIONS.items():
        value = request.query_params.get(name, choices[0])
        if value not in choices:
            problem = Problem("<query>", None, None, f"$.{name}", f"{one_line(value)[:40]!r} is not one of {', '.join(choices)}")
            raise Refused(400, f"the {name} query parameter is not one of {', '.join(choices)}", [problem])
        chosen.append(value)
    return tuple(chosen)


def _agenda_options(request: Request) -> dict:
    """days (0 to MAX_AGENDA_DAYS, default 90) and lang from the query."""
    days_text, lang = request.query_params.get("days", "90"), request.query_params.get("lang", "en")
    if not (days_text.isascii() and days_text.isdigit() and int(days_text) <= MAX_AGENDA_DAYS):
        problem = Problem(
            "<query>", None, None, "$.days", f"{one_line(days_text)[:40]!r} is not a whole number from 0 to {MAX_AGENDA_DAYS}"
        )
        raise Refused(400, f"the days query parameter is not a whole number from 0 to {MAX_AGENDA_DAYS}", [problem])
    if lang not in LANGUAGES:
        problem = Problem("<query>", None, None, "$.lang", f"{one_line(lang)[:40]!r} is not one of {', '.join(LANGUAGES)}")
        raise Refused(400, f"the lang query parameter is not one of {', '.join(LANGUAGES)}", [problem])
    return {"days": int(days_text), "lang": lang}


def _target(request: Request) -> str:
    """The target query parameter of /v1/explain: a recommendation or risk id, or a rule."""
    target = request.query_params.get("target", "")
    if not target or len(target) > MAX_QUERY_TEXT:
        problem = Problem(
            "<query>",
            None,
            None,
            "$.target",
            f"give a recommendation or risk id, or a rule, of at most {MAX_QUERY_TEXT} characters",
        )
        raise Refused(400, "the target query parameter is missing or too long", [problem])
    return target


def _assignments(request: Request) -> tuple:
    """The set query parameters of /v1/diff: PATH=VALUE changes, as `ipexpert diff --set` takes them."""
    found = request.query_params.getlist("set")
    if not found or len(found) > MAX_ASSIGNMENTS or any(len(a) > MAX_QUERY_TEXT or "=" not in a for a in found):
        problem = Problem(
            "<query>",
            None,
            None,
            "$.set",
            f"give 1 to {MAX_ASSIGNMENTS} set=PATH=VALUE parameters (e.g. set=firm.stage=stable), each at most {MAX_QUERY_TEXT} characters",
        )
        raise Refused(400, "the set query parameters are missing, too many, or not PATH=VALUE", [problem])
    return tuple(found)


def _as_of(request: Request):
    text = request.query_params.get("as_of")
    if text is None:
        return None
    try:
        return _api.parse_date(text)
    except IPExpertError:
        message = (
            f"{one_line(text)[:40]!r} is not a date ({_api.DATE_FORMAT}) between {_api.EARLIEST.year} and {_api.LATEST.year}"
        )
        raise Refused(
            400,
            f"the as_of query parameter is not a date ({_api.DATE_FORMAT}) between {_api.EARLIEST.year} and {_api.LATEST.year}",
            [Problem("<query>", None, None, "$.as_of", message)],
        ) from None


async def _body(request: Request, max_bytes: int) -> bytes:
    """The body, refused with 415 for a wrong type and 413 as soon as it is known to pass *max_bytes*."""
    _check_media_type(request.headers.get("content-type"))
    too_large = f"the body is larger than the limit of {max_bytes:,} bytes"
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > max_bytes:
        raise Refused(413, too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise Refused(413, too_large)
        chunks.append(chunk)
    return b"".join(chunks)


def _check_media_type(header: str | None) -> None:
    accepted = ", ".join(MEDIA_TYPES)
    if not header:
        raise Refused(415, f"give the profile's Content-Type: one of {accepted}")
    media_type, _, params = header.partition(";")
    media_type = media_type.strip().lower()
    if media_type not in MEDIA_TYPES:
        raise Refused(415, f"{one_line(media_type)[:80]!r} is not accepted; send one of {accepted}")
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise Refused(415, "the body must be UTF-8 (charset=utf-8)")


def _rules_listing(packs) -> dict:
    listed = []
    for pack in packs:
        entries = []
        for rule in pack.rules:
            concludes = next((k for k in ("recommend", "risk", "derive") if k in rule.data), None)
            entries.append(
                {
                    "key": rule.key,
                    "id": rule.id,
                    "title": rule.data.get("title"),
                    "category": rule.data.get("category"),
                    "concludes": concludes,
                }
            )
        listed.append({"name": pack.name, "version": pack.version, "title": pack.title, "rules": entries})
    return {"packs": listed}
