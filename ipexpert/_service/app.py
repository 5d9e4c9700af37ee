"""The HTTP service: the library behind a small JSON API, on Starlette and uvicorn.

    POST /v1/evaluate[?as_of=YYYY-MM-DD]   YAML or JSON profile -> outline JSON
    POST /v1/report?format=&lang=          YAML or JSON profile -> HTML or PDF report, or outline JSON
    POST /v1/validate                      YAML or JSON profile -> {"valid": true, "problems": []}, or 422
    GET  /v1/rules                         the loaded packs and their rules
    GET  /healthz                          {"status": "ok", ...}
    GET  /openapi.json                     the OpenAPI 3.1 document
    GET  /                                 the guided interview (ipexpert/_interview_web.py)

Every error is an RFC 9457 problem details body (application/problem+json); no traceback
ever reaches a response or the log. The event loop only speaks HTTP: reading, checking,
evaluating and serialising a profile happen in one evaluating process per server worker
(`Evaluator`), which is replaced when a large request has left it holding memory. An outline
larger than `Limits` is refused with 413 before it is serialised. `HTTPProtocol` closes
connections that send no complete headers or body in time, and answers a client that
half-closes after a complete request. `serve` runs uvicorn with every limit set.

A new operation is a function in OPERATIONS (run in the evaluating process) and a Route;
a new request option is a checked keyword passed to `Evaluator.answer` and on to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import gc
import http
import json
import logging
import os
import socket
import threading
import time

import h11
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from ipexpert import LANGUAGES, _api
from ipexpert._practice.agenda import MAX_DAYS as MAX_AGENDA_DAYS
from ipexpert._interview import web as _web
from ipexpert._knowledge import packs as _packs
from ipexpert._common import values as _values
from ipexpert._common import processes as _processes
from ipexpert._reading import document as _document
from ipexpert._errors import EvaluationError, InvalidProfileError, IPExpertError, Problem, one_line

MEDIA_TYPES = ("application/json", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
PROBLEM_MEDIA_TYPE = "application/problem+json"
REQUEST_NAME = "<request>"
TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}  # RFC 9110 names, on every Python
AS_OF_PATTERN = r"^(18[0-9]{2}|19[0-9]{2}|20[0-9]{2}|21[0-9]{2}|2200)-[0-9]{2}-[0-9]{2}$"
MB = 1024 * 1024
ENVIRONMENT = "IPEXPERT_SERVE"  # the options, as JSON, for the protocol uvicorn creates per connection
log = logging.getLogger("ipexpert.serve")


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one request may ask of the service; all are in the OpenAPI document."""

    body_bytes: int = _document.MAX_BYTES
    outline_items: int = 10_000  # recommendations + risks + timeline entries
    outline_bytes: int = 16 * MB


@dataclasses.dataclass(frozen=True)
class Options:
    """`ipexpert serve`'s options; the defaults are safe for a service on a shared machine."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    concurrency: int = 256  # connections + requests at once; more get 503
    backlog: int = 256
    keep_alive: float = 5.0  # idle seconds between requests on one connection
    header_timeout: float = 10.0  # from connection (or previous answer) to complete request headers
    body_timeout: float = 30.0  # from complete headers to complete body
    graceful_timeout: float = 10.0  # on SIGTERM: how long requests in flight may still take
    rule_paths: tuple = ()
    defaults: bool = True
    book: tuple = ()  # folders and files of profiles: the client book of GET /v1/agenda
    limits: Limits = Limits()
    log_level: str = "info"

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Options:
        data = json.loads(text)
        data["rule_paths"] = tuple(data["rule_paths"])
        data["book"] = tuple(data["book"])
        data["limits"] = Limits(**data["limits"])
        return cls(**data)


def _options() -> Options:
    return _options_from(os.environ.get(ENVIRONMENT))


@functools.lru_cache(maxsize=4)
def _options_from(text: str | None) -> Options:
    return Options.from_json(text) if text else Options()


# --- answers -------------------------------------------------------------------------------


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


class _Refused(Exception):
    """A request the service answers with problem details instead of a result."""

    def __init__(self, status: int, detail: str, problems=()):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.problems = list(problems)


def problem_body(status: int, detail: str, problems=()) -> dict:
    """An RFC 9457 body; the status code alone says what kind of problem it is."""
    return {
        "type": "about:blank",
        "title": TITLES.get(status) or http.HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "problems": [p.to_dict() for p in problems],
    }


def problem_details(status: int, detail: str, problems=()) -> ProblemResponse:
    return ProblemResponse(problem_body(status, detail, problems), status_code=status)


# --- the evaluating process ----------------------------------------------------------------

RECYCLE_ABOVE_BYTES = 64 * MB  # an evaluating process grown this far past its start is replaced
_child: dict = {}


def _start_child(parent_pid, rule_paths, defaults, limits, book=()):
    """Runs once in the evaluating process: die with the worker, compile the rule base."""
    _processes.die_with_parent(parent_pid)
    _child["rules"] = _api.load_rules(*rule_paths, defaults=defaults)
    _child["limits"] = limits
    _child["book"] = book


def _rss() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0  # not Linux: never replaced


def _answer(operation: str, raw: bytes, params: dict) -> tuple[int, str, bytes, int]:
    """(status, media type, body, this process's RSS) for one request; runs in the evaluating process.

    *operation* names a function of OPERATIONS; *params* are the request's checked options
    (such as as_of), passed to it as keywords.
    """
    from ipexpert._reading import profile as _profile

    try:
        if operation == "agenda":  # no body: the book is read from disk
            status, media_type, body = _agenda(_child["book"], _child["rules"], _child["limits"], **params)
            return status, media_type, body, _rss()
        try:
            doc = _profile.parse(raw, REQUEST_NAME)
        except InvalidProfileError as exc:
            raise _Refused(400, "the body cannot be read as a YAML or JSON document", exc.problems) from None
        status, media_type, body = OPERATIONS[operation](doc, _child["rules"], _child["limits"], **params)
    except _Refused as exc:
        status, media_type = exc.status, PROBLEM_MEDIA_TYPE
        body = _dumps(problem_body(exc.status, exc.detail, exc.problems))
    return status, media_type, body, _rss()


def _validate(doc, rules, limits) -> tuple[int, str, bytes]:
    from ipexpert._reading import profile as _profile

    problems = _profile.problems(doc)
    if problems:
        raise _Refused(422, "the profile is not valid", problems)
    return 200, "application/json", _dumps({"valid": True, "problems": []})


def _evaluate(doc, rules, limits, as_of=None, lang=None) -> tuple[int, str, bytes]:
    try:
        outline = _api.evaluate(doc, rules, as_of, None, lang)
    except InvalidProfileError as exc:
        raise _Refused(422, "the profile is not valid", exc.problems) from None
    except EvaluationError as exc:  # a runaway rule, too many partial matches, a date past 9999...
        raise _Refused(500, "the rules failed on this profile", exc.problems) from None
    _check_size(outline, limits)
    text = outline.to_json().encode("utf-8")
    if len(text) > limits.outline_bytes:
        raise _Refused(413, f"the outline would be {len(text):,} bytes; the limit is {limits.outline_bytes:,} bytes")
    return 200, "application/json", text


def _check_size(outline, limits) -> None:
    """413 for an outline with more items than the limit, before any of it is serialised."""
    items = len(outline.recommendations) + len(outline.risks) + len(outline.timeline)
    if items > limits.outline_items:
        raise _Refused(
            413,
            (
                f"the outline would have {items:,} items (recommendations, risks and timeline entries); "
                f"the limit is {limits.outline_items:,}: evaluate fewer markets or assets per request"
            ),
        )


def _report(doc, rules, limits, as_of=None, fmt="html", lang=None, paper="A4") -> tuple[int, str, bytes]:
    """The client report (HTML or PDF) of a profile, or its outline JSON in *lang*: ipexpert/_report.py."""
    status, media_type, text = _evaluate(doc, rules, limits, as_of, lang)  # the same limits first
    if fmt == "json":
        return status, media_type, text
    try:
        body = _api.report(doc, rules, as_of, lang=lang, format=fmt, paper=paper)
    except EvaluationError as exc:
        raise _Refused(500, "the rules failed on this profile", exc.problems) from None
    except IPExpertError as exc:  # the PDF extra is not installed on the server
        raise _Refused(501, exc.problems[0].message, exc.problems) from None
    return 200, REPORT_MEDIA_TYPES[fmt], body.encode("utf-8") if isinstance(body, str) else body


def _agenda(book_paths, rules, limits, as_of=None, days=90, lang=None, fmt="json") -> tuple[int, str, bytes]:
    """The client book's agenda, read from disk for this request: JSON, or an iCalendar feed (ipexpert/_practice/)."""
    from ipexpert._practice import agenda, book, calendar

    if not book_paths:
        raise _Refused(404, "this service has no client book: start it with `ipexpert serve --book DIR`")
    as_of = _api.parse_date(as_of)
    try:
        clients = book.evaluate(book_paths, as_of=as_of, lang=lang, rules=rules)
    except IPExpertError as exc:
        raise _Refused(500, "the client book cannot be read", exc.problems) from None
    entries = agenda.build(clients, as_of, days)
    if len(entries) > limits.outline_items:
        raise _Refused(
            413, f"the agenda would have {len(entries):,} entries; the limit is {limits.outline_items:,}: ask for fewer days"
        )
    if fmt == "ics":
        media_type, body = "text/calendar; charset=utf-8", calendar.render(entries, clients, as_of, lang or "en")
    else:
        problems = [p.to_dict() for p in book.failures(clients)]
        data = {"as_of": as_of.isoformat(), "days": days, "entries": [e.to_dict() for e in entries], "problems": problems}
        media_type, body = "application/json", _dumps(data)
    if len(body) > limits.outline_bytes:
        raise _Refused(
            413, f"the agenda would be {len(body):,} bytes; the limit is {limits.outline_bytes:,} bytes: ask for fewer days"
        )
    return 200, media_type, body


OPERATIONS = {"evaluate": _evaluate, "validate": _validate, "report": _report}  # what the evaluating process can do


def _dumps(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Evaluator:
    """The evaluating processes (`--workers`): the event loop never evaluates or serialises.

    Each request goes to the process with the fewest requests in hand, so work spreads
    evenly over the cores whatever connection it came in on. Processes rather than threads,
    so that the memory a large request takes is given back: a process grown past
    RECYCLE_ABOVE_BYTES over its size after start is replaced (requests already sent to it
    still finish there).
    """

    def __init__(self, options: Options):
        self.options = options
        self._pools: list = []  # one single-process pool per worker
        self._old: list = []
        self._busy: dict = {}  # pool -> requests sent to it and not yet answered
        self._baseline = None

    async def start(self) -> None:
        self._pools = [self._new_pool() for _ in range(self.options.workers)]
        answers = await asyncio.gather(*(self._call(pool, "validate", b"{}", {}) for pool in self._pools))
        self._baseline = max(rss for *_, rss in answers)

    def _new_pool(self):
        import concurrent.futures
        import multiprocessing

        pool = concurrent.futures.ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_child,
            initargs=(os.getpid(), self.options.rule_paths, self.options.defaults, self.options.limits, self.options.book),
        )
        self._busy[pool] = 0
        return pool

    @staticmethod
    async def _call(pool, operation, raw, params):
        return await asyncio.get_running_loop().run_in_executor(pool, _answer, operation, raw, params)

    async def answer(self, operation: str, raw: bytes, **params) -> Response:
        """The response to *operation* (a name in OPERATIONS) on the body *raw*, with *params*."""
        from concurrent.futures.process import BrokenProcessPool

        pool = min(self._pools, key=self._busy.__getitem__)  # the first of the least busy
        self._busy[pool] += 1
        try:
            status, media_type, body, rss = await self._call(pool, operation, raw, params)
        except BrokenProcessPool:
            self._replace(pool)
            log.error("an evaluating process died (out of memory?); it has been replaced")
            raise _Refused(500, "the evaluating process died on this request (out of memory?)") from None
        finally:
            self._busy[pool] -= 1
            if pool not in self._pools and not self._busy[pool]:
                self._stop(pool)
        if self._baseline and rss > self._baseline + RECYCLE_ABOVE_BYTES:
            log.info("replacing an evaluating process: %d MB after a large request", rss // MB)
            self._replace(pool)
            if not self._busy[pool]:
                self._stop(pool)
        return Response(body, status_code=status, media_type=media_type)

    def _replace(self, pool) -> None:
        if pool in self._pools:
            self._pools[self._pools.index(pool)] = self._new_pool()  # requests already sent to the old one finish there

    def _stop(self, pool) -> None:
        """End a replaced pool's process now: a normal exit would first free every object it holds."""
        self._busy.pop(pool, None)
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        self._old.append(pool)  # joined at close
        threading.Thread(target=pool.shutdown, name="ipexpert-retire", daemon=True).start()

    async def close(self) -> None:
        """Stop the evaluating processes, waiting at most the graceful timeout for them to end."""
        pools, self._old, self._pools = [*self._pools, *self._old], [], []
        # One shutdown(wait=True) per pool: a first shutdown(wait=False) would forget the thread to join.
        wait_all = functools.partial(lambda pools: [p.shutdown(wait=True, cancel_futures=True) for p in pools], pools)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, wait_all), self.options.graceful_timeout)
        del pools, wait_all
        gc.collect()  # the pools' semaphores are released now, not reported as leaked at exit


# --- the application -----------------------------------------------------------------------


def create_app(options: Options | None = None) -> Starlette:
    """The ASGI application for *options* (rule packs and limits); it starts its evaluating process."""
    options = options or Options()
    packs = _packs.load(options.rule_paths, defaults=options.defaults)
    listing = _rules_listing(packs)
    health = {"status": "ok", "rules": sum(len(p.rules) for p in packs), "packs": len(packs)}
    openapi = openapi_document(options.limits)
    evaluator = Evaluator(options)
    limits = options.limits
    # The interview (at /) asks and evaluates in this process, in a thread: it needs the compiled rules here.
    interview_rules = (
        _api.load_rules(*options.rule_paths, defaults=options.defaults) if options.rule_paths or not options.defaults else None
    )

    async def evaluate(request: Request) -> Response:
        as_of = _as_of(request)
        answer = await evaluator.answer("evaluate", await _body(request, limits.body_bytes), as_of=as_of)
        return in_language(answer, _accepted_language(request))

    async def report(request: Request) -> Response:
        """The client report (or the outline JSON) in a language: ipexpert/_report.py."""
        as_of = _as_of(request)
        fmt, lang, paper = _report_options(request)
        answer = await evaluator.answer(
            "report", await _body(request, limits.body_bytes), as_of=as_of, fmt=fmt, lang=lang, paper=paper
        )
        return in_language(answer, lang if "lang" in request.query_params else _accepted_language(request))

    async def validate(request: Request) -> Response:
        answer = await evaluator.answer("validate", await _body(request, limits.body_bytes))
        return in_language(answer, _accepted_language(request))

    async def agenda_json(request: Request) -> Response:
        return await evaluator.answer("agenda", b"", as_of=_as_of(request), **_agenda_options(request), fmt="json")

    async def agenda_ics(request: Request) -> Response:
        return await evaluator.answer("agenda", b"", as_of=_as_of(request), **_agenda_options(request), fmt="ics")

    async def list_rules(request: Request) -> Response:
        return JSONResponse(listing)

    async def healthz(request: Request) -> Response:
        return JSONResponse(health)

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        _AcceptErrors.install(asyncio.get_running_loop())
        await evaluator.start()
        try:
            yield
        finally:
            await evaluator.close()
            for tally in _Tally.every:
                tally.flush()

    routes = [
        Route("/v1/evaluate", evaluate, methods=["POST"]),
        Route("/v1/report", report, methods=["POST"]),
        Route("/v1/validate", validate, methods=["POST"]),
        Route("/v1/rules", list_rules, methods=["GET"]),
        Route("/v1/agenda", agenda_json, methods=["GET"]),
        Route("/v1/agenda.ics", agenda_ics, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        *_web.routes(interview_rules, None),
    ]
    handlers = {
        _Refused: _refused,
        ClientDisconnect: _client_gone,
        HTTPException: _http_error,
        Exception: _internal_error,
    }
    return _QuietOnCancel(Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan))


class _QuietOnCancel:
    """A request still running when the graceful-shutdown timeout ends is cancelled: one log line, no traceback."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        try:
            await self.app(scope, receive, send)
        except asyncio.CancelledError:
            if scope["type"] != "http":
                raise
            log.warning("a request to %s was cancelled at shutdown", scope.get("path"))


async def _refused(request: Request, exc: _Refused) -> Response:
    return in_language(problem_details(exc.status, exc.detail, exc.problems), _accepted_language(request))


def _accepted_language(request: Request) -> str:
    """en or zh-CN, whichever the request's Accept-Language prefers (any zh tag reads Chinese); English by default."""
    ranked = []
    for i, item in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, params = item.strip().partition(";")
        try:
            weight = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            weight = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in ("zh", "en") and weight > 0:
            ranked.append((-weight, i, "zh-CN" if primary == "zh" else "en"))
    return min(ranked)[2] if ranked else "en"


def in_language(response: Response, lang: str) -> Response:
    """A problem details *response* with its detail and messages in *lang* (the keys and paths as they are)."""
    if response.media_type != PROBLEM_MEDIA_TYPE:
        return response
    response.headers.append("Vary", "Accept-Language")
    if lang == "en":
        return response
    from ipexpert._knowledge import i18n as _i18n

    body = json.loads(response.body)
    body["detail"] = _i18n.message(lang, body["detail"])
    for problem in body.get("problems", []):
        problem["message"] = _i18n.message(lang, problem["message"])
    translated = Response(_dumps(body), status_code=response.status_code, media_type=PROBLEM_MEDIA_TYPE)
    for name, value in response.headers.items():
        if name.lower() not in ("content-length", "content-type"):
            translated.headers.append(name, value)
    translated.headers["Content-Language"] = lang
    return translated


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


REPORT_MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "json": "application/json"}
REPORT_OPTIONS = {"format": ("html", "pdf", "json"), "lang": LANGUAGES, "paper": ("A4", "Letter")}


def _report_options(request: Request) -> tuple:
    """format, lang and paper from the query, each checked against its choices."""
    chosen = []
    for name, choices in REPORT_OPTIONS.items():
        value = request.query_params.get(name, choices[0])
        if value not in choices:
            problem = Problem("<query>", None, None, f"$.{name}", f"{one_line(value)[:40]!r} is not one of {', '.join(choices)}")
            raise _Refused(400, f"the {name} query parameter is not one of {', '.join(choices)}", [problem])
        chosen.append(value)
    return tuple(chosen)


def _agenda_options(request: Request) -> dict:
    """days (0 to MAX_AGENDA_DAYS, default 90) and lang from the query."""
    days_text, lang = request.query_params.get("days", "90"), request.query_params.get("lang", "en")
    if not (days_text.isascii() and days_text.isdigit() and int(days_text) <= MAX_AGENDA_DAYS):
        problem = Problem(
            "<query>", None, None, "$.days", f"{one_line(days_text)[:40]!r} is not a whole number from 0 to {MAX_AGENDA_DAYS}"
        )
        raise _Refused(400, f"the days query parameter is not a whole number from 0 to {MAX_AGENDA_DAYS}", [problem])
    if lang not in LANGUAGES:
        problem = Problem("<query>", None, None, "$.lang", f"{one_line(lang)[:40]!r} is not one of {', '.join(LANGUAGES)}")
        raise _Refused(400, f"the lang query parameter is not one of {', '.join(LANGUAGES)}", [problem])
    return {"days": int(days_text), "lang": lang}


def _as_of(request: Request):
    text = request.query_params.get("as_of")
    if text is None:
        return None
    try:
        return _api.parse_date(text)
    except IPExpertError:
        message = f"{one_line(text)[:40]!r} is not a date ({_values.DATE_FORMAT}) between 1800 and 2200"
        raise _Refused(
            400,
            f"the as_of query parameter is not a date ({_values.DATE_FORMAT}) between 1800 and 2200",
            [Problem("<query>", None, None, "$.as_of", message)],
        ) from None


async def _body(request: Request, max_bytes: int) -> bytes:
    """The body, refused with 415 for a wrong type and 413 as soon as it is known to pass *max_bytes*."""
    _check_media_type(request.headers.get("content-type"))
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


# --- the server ----------------------------------------------------------------------------


class _Tally:
    """Counts events and logs them once per interval, not once each."""

    INTERVAL = 10.0

    every: list = []  # flushed at shutdown, so no count is lost

    def __init__(self, what: str):
        self.what = what
        self.counts: dict = {}
        self.last = 0.0
        _Tally.every.append(self)

    def add(self, reason: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        if time.monotonic() - self.last >= self.INTERVAL:
            self.flush()

    def flush(self) -> None:
        if self.counts:
            reasons = ", ".join(f"{n:,} × {r}" for r, n in sorted(self.counts.items()))
            log.warning("%s: %s (logged at most every %.0f s)", self.what, reasons, self.INTERVAL)
            self.counts.clear()
        self.last = time.monotonic()


class _AcceptErrors:
    """The event loop's handler for errors no task catches: accept() failing (out of file
    descriptors, under a connection flood) is counted and logged once per interval."""

    def __init__(self, loop):
        self.loop = loop
        self.tally = _Tally("connections not accepted")

    @classmethod
    def install(cls, loop) -> None:
        loop.set_exception_handler(cls(loop).handle)

    def handle(self, loop, context) -> None:
        exc = context.get("exception")
        message = context.get("message", "")
        if isinstance(exc, OSError) and ("accept" in message or "transport" in message or "socket" in message):
            self.tally.add(exc.strerror or type(exc).__name__)
            return
        if "_start_serving" in repr(context.get("handle")):
            # asyncio retries accept() a second after EMFILE, once per failed accept; a retry
            # that runs after the listening socket is closed (at shutdown) fails on fd -1.
            self.tally.add("an accept retry after the listening socket closed")
            return
        loop.default_exception_handler(context)


_TIMEOUT_BODY = _dumps(problem_body(408, "the request was not received in time; the connection is closed"))
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/problem+json\r\n"
    b"content-length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\nconnection: close\r\n\r\n" + _TIMEOUT_BODY
)


class HTTPProtocol(H11Protocol):
    """uvicorn's h11 protocol with header and body deadlines, and answers for half-closed clients.

    A connection gets `header_timeout` seconds from its start (or from its previous answer's
    keep-alive period ending in new bytes) to send complete request headers, then
    `body_timeout` seconds for the body; past either it gets 408 and is closed. While a
    request is being evaluated no deadline runs. At shutdown the deadlines shrink to half the
    graceful timeout, so a stalled upload never holds the server past it.
    """

    _closed_tally: _Tally | None = None

    def __init__(self, config, *args, **kwargs):
        super().__init__(config, *args, **kwargs)
        options = _options()
        self._timeouts = {"header": options.header_timeout, "body": options.body_timeout}
        self._graceful = options.graceful_timeout
        self._phase = None
        self._timer = None
        self._shutting_down = False
        if HTTPProtocol._closed_tally is None:
            HTTPProtocol._closed_tally = _Tally("connections closed for sending too slowly")

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        # asyncio sets TCP_NODELAY only when the listening socket says IPPROTO_TCP, which a
        # socket uvicorn binds itself may not: Nagle's algorithm then holds each answer for
        # a delayed ACK (about 40 ms per request).
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._follow()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        self._disarm()  # uvicorn's keep-alive timer takes over
        super().on_response_complete()
        self._follow()  # a pipelined request may already be under way

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def eof_received(self):
        """A client that half-closes after a complete request still gets its answer."""
        if self.cycle is not None and not self.cycle.response_complete and self.conn.their_state is h11.DONE:
            self.cycle.keep_alive = False
            return True
        return None

    def shutdown(self) -> None:
        self._shutting_down = True
        super().shutdown()
        if self._phase is not None and not self.transport.is_closing():
            phase, self._phase = self._phase, None
            self._arm(phase)

    def _follow(self) -> None:
        state = self.conn.their_state
        if state is h11.IDLE and self.timeout_keep_alive_task is None:
            self._arm("header")
        elif state is h11.SEND_BODY:
            self._arm("body")
        elif state is not h11.IDLE:
            self._disarm()

    def _arm(self, phase: str) -> None:
        if self._phase == phase:
            return  # a deadline, not an idle timer: more bytes do not extend it
        self._disarm()
        delay = self._timeouts[phase]
        if self._shutting_down:
            delay = min(delay, self._graceful / 2)
        self._phase = phase
        self._timer = self.loop.call_later(delay, self._expire, phase)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._phase = None

    def _expire(self, phase: str) -> None:
        self._timer = self._phase = None
        if self.transport.is_closing():
            return
        tally = HTTPProtocol._closed_tally
        if tally is not None:
            tally.add(f"no complete request {phase} within {self._timeouts[phase]:g} s")
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


def serve(options: Options) -> None:
    """Run the service until interrupted (Ctrl-C or SIGTERM), with *options.workers* evaluating processes.

    One server process speaks HTTP (about 1.5 ms of its time per evaluate request) and hands
    each request to the least busy evaluating process. uvicorn's own worker processes would
    each keep the connections they happened to accept: a client's keep-alive connections
    then all land on one of them while another idles.
    """
    import uvicorn

    os.environ[ENVIRONMENT] = options.to_json()  # read by the protocol uvicorn creates per connection
    uvicorn.run(
        create_app(options),
        host=options.host,
        port=options.port,
        http=HTTPProtocol,
        loop="asyncio",
        lifespan="on",
        server_header=False,
        access_log=False,
        limit_concurrency=options.concurrency,
        backlog=options.backlog,
        timeout_keep_alive=options.keep_alive,
        timeout_graceful_shutdown=options.graceful_timeout,
        log_level=options.log_level,
    )


# --- the contract --------------------------------------------------------------------------


def _component(name: str, schema: dict, components: dict) -> None:
    """Put a project schema into *components* as *name*, its $defs beside it as name_def.

    The bundled schemas refer to their own `#/$defs/x`, which does not resolve once the schema
    is embedded in another document; the references are rewritten to the components.
    """
    schema = json.loads(json.dumps(schema))
    defs = schema.pop("$defs", {})
    schema.pop("$schema", None)
    schema.pop("$id", None)

    def rewrite(node):
        if isinstance(node, dict):
            return {
                k: (
                    f"#/components/schemas/{name}_{v[len('#/$defs/') :]}"
                    if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/")
                    else rewrite(v)
                )
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    components[name] = rewrite(schema)
    for key, value in defs.items():
        components[f"{name}_{key}"] = rewrite(value)


def openapi_document(limits: Limits = Limits()) -> dict:
    """The OpenAPI 3.1 description of the service; profile and outline are the project's own schemas."""
    from ipexpert import __version__
    from ipexpert._reading import schemas as _schemas

    problem_ref = {"$ref": "#/components/schemas/ProblemDetails"}

    def problem(description):
        return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}}

    def profile_body(description):
        schema = {"$ref": "#/components/schemas/FirmProfile"}
        return {
            "required": True,
            "description": f"{description} At most {limits.body_bytes:,} bytes, UTF-8.",
            "content": {media_type: {"schema": schema} for media_type in MEDIA_TYPES},
        }

    body_errors = {
        "400": problem("The body is not a readable YAML or JSON document (or as_of is not a date)."),
        "408": problem("The request headers or body did not arrive in time; the connection is closed."),
        "413": problem(f"The body is larger than {limits.body_bytes:,} bytes."),
        "415": problem("The Content-Type is not JSON or YAML, or the charset is not UTF-8."),
        "422": problem("The profile breaks the profile schema or its consistency checks; every problem is listed."),
        "503": {
            "description": "The server is at its concurrency limit; try again.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
    }

    def agenda_operation(media_type, schema):
        return {
            "summary": "The client book's agenda (`ipexpert serve --book DIR`), read from disk for each request"
            + (": an iCalendar (RFC 5545) feed to subscribe to" if media_type == "text/calendar" else ""),
            "parameters": [
                {
                    "name": "as_of",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "format": "date", "pattern": AS_OF_PATTERN},
                    "description": "The first day of the window (default: today), YYYY-MM-DD between 1800-01-01 and 2200-12-31.",
                },
                {
                    "name": "days",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "pattern": "^[0-9]+$", "default": "90"},
                    "description": f"How many days after as_of to look: a whole number from 0 to {MAX_AGENDA_DAYS}.",
                },
                {
                    "name": "lang",
                    "in": "query",
                    "required": False,
                    "schema": {"enum": list(REPORT_OPTIONS["lang"]), "default": "en"},
                    "description": "The language of titles and labels; ids, dates and UIDs stay the same.",
                },
            ],
            "responses": {
                "200": {
                    "description": "Every dated item due in the window, overdue first.",
                    "content": {media_type: {"schema": schema}},
                },
                "400": problem("A query parameter is not one of its choices or not in its range."),
                "404": problem("The service was started without a client book (--book)."),
                "413": problem(f"The agenda would pass {limits.outline_items:,} entries or {limits.outline_bytes:,} bytes."),
                "500": problem("The client book cannot be read, or an internal error occurred."),
                "503": body_errors["503"],
            },
        }

    limits_text = (
        f"Limits: a request body of at most {limits.body_bytes:,} bytes; an outline of at most "
        f"{limits.outline_items:,} items (recommendations, risks and timeline entries together) and "
        f"{limits.outline_bytes:,} bytes of JSON, else 413; as_of between 1800-01-01 and 2200-12-31. "
        "The server's connection limits and timeouts are the options of `ipexpert serve`."
    )
    components: dict = {}
    _component("FirmProfile", _schemas.schema("profile"), components)
    _component("Outline", _schemas.schema("outline"), components)
    components.update(
        {
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
                    "valid": {"const": True},
                    "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
                },
            },
            "Rules": {
                "type": "object",
                "required": ["packs"],
                "properties": {
                    "packs": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name", "version", "title", "rules"],
                            "properties": {
                                "name": {"type": "string"},
                                "version": {"type": "string"},
                                "title": {"type": "string"},
                                "rules": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "key": {"type": "string"},
                                            "id": {"type": "string"},
                                            "title": {"type": "string"},
                                            "category": {"type": ["string", "null"]},
                                            "concludes": {"enum": ["recommend", "risk", "derive", None]},
                                        },
                                    },
                                },
                            },
                        },
                    }
                },
            },
            "AgendaEntry": {
                "type": "object",
                "description": "One dated item of one client: a step on a recommendation's timeline, or its due date.",
                "required": [
                    "client",
                    "file",
                    "date",
                    "overdue",
                    "item",
                    "recommendation",
                    "rule",
                    "priority",
                    "title",
                    "markets",
                ],
                "properties": {
                    "client": {"type": "string", "description": "The firm's name."},
                    "file": {"type": "string", "description": "The client's profile in the book."},
                    "date": {"type": "string", "format": "date"},
                    "overdue": {"type": "boolean", "description": "Due on or before as_of."},
                    "item": {"type": "string", "description": "The recommendation's id, with #N for its N-th step or #due."},
                    "recommendation": {"type": "string"},
                    "rule": {"type": "string"},
                    "priority": {"enum": ["critical", "high", "medium", "low"]},
                    "title": {"type": "string"},
                    "markets": {"type": "array", "items": {"type": "string"}},
                    "actions": {"type": "array", "items": {"type": "string"}},
                    "because": {"type": "string"},
                },
            },
            "Agenda": {
                "type": "object",
                "required": ["as_of", "days", "entries", "problems"],
                "properties": {
                    "as_of": {"type": "string", "format": "date"},
                    "days": {"type": "integer"},
                    "entries": {"type": "array", "items": {"$ref": "#/components/schemas/AgendaEntry"}},
                    "problems": {
                        "type": "array",
                        "description": "The problems of each profile of the book that could not be evaluated.",
                        "items": {"$ref": "#/components/schemas/Problem"},
                    },
                },
            },
            "Health": {
                "type": "object",
                "required": ["status", "rules", "packs"],
                "properties": {"status": {"const": "ok"}, "rules": {"type": "integer"}, "packs": {"type": "integer"}},
            },
        }
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ipexpert",
            "version": __version__,
            "description": "A justified IP-protection strategy outline for a cross-border e-commerce firm. " + limits_text,
            "x-limits": dataclasses.asdict(limits),
        },
        "paths": {
            "/v1/evaluate": {
                "post": {
                    "summary": "Evaluate a profile into its strategy outline",
                    "parameters": [
                        {
                            "name": "as_of",
                            "in": "query",
                            "required": False,
                            "description": "The date the advice is computed for (default: today), YYYY-MM-DD "
                            "between 1800-01-01 and 2200-12-31.",
                            "schema": {"type": "string", "format": "date", "pattern": AS_OF_PATTERN},
                        }
                    ],
                    "requestBody": profile_body("A firm profile, as YAML or JSON."),
                    "responses": {
                        "200": {
                            "description": "The outline.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Outline"}}},
                        },
                        **body_errors,
                        "413": problem(
                            f"The body is larger than {limits.body_bytes:,} bytes, or the outline would pass "
                            f"{limits.outline_items:,} items or {limits.outline_bytes:,} bytes."
                        ),
                        "500": problem("The rules failed on this profile, or an internal error occurred."),
                    },
                }
            },
            "/v1/report": {
                "post": {
                    "summary": "The client report of a profile: HTML or PDF, in English or Simplified Chinese",
                    "parameters": [
                        {
                            "name": "as_of",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "format": "date", "pattern": AS_OF_PATTERN},
                            "description": "The date the advice is computed for (default: today), YYYY-MM-DD "
                            "between 1800-01-01 and 2200-12-31.",
                        },
                        {
                            "name": "format",
                            "in": "query",
                            "required": False,
                            "schema": {"enum": list(REPORT_OPTIONS["format"]), "default": "html"},
                            "description": "html: one self-contained page; pdf: the same report as PDF; json: the outline.",
                        },
                        {
                            "name": "lang",
                            "in": "query",
                            "required": False,
                            "schema": {"enum": list(REPORT_OPTIONS["lang"]), "default": "en"},
                            "description": "The language of every text; ids and codes stay the same.",
                        },
                        {
                            "name": "paper",
                            "in": "query",
                            "required": False,
                            "schema": {"enum": list(REPORT_OPTIONS["paper"]), "default": "A4"},
                            "description": "The page size of a PDF.",
                        },
                    ],
                    "requestBody": profile_body("A firm profile, as YAML or JSON."),
                    "responses": {
                        "200": {
                            "description": "The report, or the outline for format=json.",
                            "content": {
                                "text/html": {"schema": {"type": "string"}},
                                "application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}},
                                "application/json": {"schema": {"$ref": "#/components/schemas/Outline"}},
                            },
                        },
                        "400": problem("The body is not readable, or a query parameter is not one of its choices."),
                        **body_errors,
                        "413": problem(
                            f"The body is larger than {limits.body_bytes:,} bytes, or the outline would pass "
                            f"{limits.outline_items:,} items or {limits.outline_bytes:,} bytes."
                        ),
                        "422": problem("The profile breaks the profile schema or its consistency checks."),
                        "500": problem("The rules failed on this profile, or an internal error occurred."),
                        "501": problem("PDF was asked for but the server lacks the ipexpert[pdf] extra."),
                    },
                }
            },
            "/v1/validate": {
                "post": {
                    "summary": "Check a profile: 200 when it is valid, 422 with every problem (line and column) when not",
                    "requestBody": profile_body("A firm profile, as YAML or JSON."),
                    "responses": {
                        "200": {
                            "description": "The profile is valid.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Validation"}}},
                        },
                        **body_errors,
                        "500": problem("An internal error occurred."),
                    },
                }
            },
            "/v1/rules": {
                "get": {
                    "summary": "The loaded rule packs and their rules",
                    "responses": {
                        "200": {
                            "description": "Packs and rules.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Rules"}}},
                        }
                    },
                }
            },
            "/v1/agenda": {"get": agenda_operation("application/json", {"$ref": "#/components/schemas/Agenda"})},
            "/v1/agenda.ics": {"get": agenda_operation("text/calendar", {"type": "string"})},
            "/healthz": {
                "get": {
                    "summary": "Liveness: the service is up and its rules are loaded",
                    "responses": {
                        "200": {
                            "description": "Up.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}},
                        }
                    },
                }
            },
        },
        "components": {"schemas": components},
    }
