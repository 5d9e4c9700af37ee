"""The evaluating processes: reading, checking, evaluating and serialising a profile, off the event loop.

A new operation is a function in OPERATIONS (run in the evaluating process); a new request
option is a checked keyword passed to `Evaluator.answer` and on to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import json
import logging
import os
import signal
import threading
from collections.abc import Callable

from starlette.responses import Response

from ipexpert import _api
from ipexpert._common import processes as _processes
from ipexpert._errors import EvaluationError, InvalidProfileError, IPExpertError, Problem, ProfileTooLargeError
from ipexpert._service.options import MB, REPORT_MEDIA_TYPES, Options
from ipexpert._service.problems import PROBLEM_MEDIA_TYPE, Refused, dumps, problem_body

REQUEST_NAME = "<request>"
log = logging.getLogger("ipexpert.serve")

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


class _OverTime(BaseException):
    """The request has used its CPU seconds (raised by the timer's signal in the evaluating process).

    A BaseException, like KeyboardInterrupt, so that no `except Exception` on the way turns it into a failed rule.
    """


def _over_time(signum, frame):
    raise _OverTime


def _answer(operation: str, raw: bytes, params: dict) -> tuple[int, str, bytes, dict, int]:
    """(status, media type, body, headers, this process's RSS) for one request; runs in the evaluating process.

    *operation* names a function of OPERATIONS; *params* are the request's checked options
    (such as as_of), passed to it as keywords. Past the limit's CPU seconds the work stops with
    503, and the process is replaced (OVER_TIME), whatever it was holding.
    """
    limits = _child["limits"]
    headers: dict = {}
    signal.signal(signal.SIGPROF, _over_time)
    signal.setitimer(signal.ITIMER_PROF, limits.seconds)
    try:
        try:
            if operation == "agenda":  # no body: the book is read from disk
                status, media_type, body, *more = _agenda(_child["book"], _child["rules"], limits, **params)
            else:
                status, media_type, body, *more = OPERATIONS[operation](raw, _child["rules"], limits, **params)
            headers = more[0] if more else {}
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
    except _OverTime:
        status, media_type, headers = OVER_TIME, PROBLEM_MEDIA_TYPE, {"Retry-After": "1"}
        body = dumps(
            problem_body(OVER_TIME, f"the request took more than the limit of {limits.seconds:g} s of work; it was stopped")
        )
    except Refused as exc:
        status, media_type = exc.status, PROBLEM_MEDIA_TYPE
        body = dumps(problem_body(exc.status, exc.detail, exc.problems))
    return status, media_type, body, headers, _rss()


TOO_LARGE = "the profile is too large to evaluate at once; split it into smaller profiles"
OVER_TIME = 503  # only a request stopped at its time limit is answered 503 by the evaluating process


def _read(raw: bytes):
    """The profile document in a request body; 400 when it is not YAML or JSON."""
    try:
        return _api.parse_profile(raw, REQUEST_NAME)
    except InvalidProfileError as exc:
        raise Refused(400, "the body cannot be read as a YAML or JSON document", exc.problems) from None


def _validate(raw, rules, limits) -> tuple[int, str, bytes]:
    problems = _api.profile_problems(_read(raw))
    if problems:
        raise Refused(422, "the profile is not valid", problems)
    return 200, "application/json", dumps({"valid": True, "problems": []})


def _evaluate(raw, rules, limits, as_of=None, lang=None) -> tuple[int, str, bytes]:
    return _evaluated(_read(raw), rules, limits, as_of, lang)


def _evaluated(doc, rules, limits, as_of=None, lang=None) -> tuple[int, str, bytes]:
    with _refused_as_problems():
        outline = _api.evaluate(doc, rules, as_of, None, lang)
    _check_size(outline, limits)
    return _outline_json(outline, limits)


@contextlib.contextmanager
def _refused_as_problems(invalid: str = "the profile is not valid"):
    """An evaluation's errors as the service answers them: 422 invalid, 413 too large, 500 the rules failed."""
    try:
        yield
    except InvalidProfileError as exc:
        raise Refused(422, invalid, exc.problems) from None
    except ProfileTooLargeError as exc:
        raise Refused(413, TOO_LARGE, exc.problems) from None
    except EvaluationError as exc:  # a runaway rule, too many partial matches, a date past 9999...
        raise Refused(500, "the rules failed on this profile", exc.problems) from None


def _outline_json(outline, limits) -> tuple[int, str, bytes]:
    text = outline.to_json().encode("utf-8")
    if len(text) > limits.outline_bytes:
        raise Refused(413, f"the outline would be {len(text):,} bytes; the limit is {limits.outline_bytes:,} bytes")
    return 200, "application/json", text


def _check_size(outline, limits, most=None, what="the outline") -> None:
    """413 for an outline with more items than *most* (the outline limit), before any of it is serialised."""
    most = limits.outline_items if most is None else most
    items = len(outline.recommendations) + len(outline.risks) + len(outline.timeline)
    if items > most:
        raise Refused(
            413,
            (
                f"{what} would have {items:,} items (recommendations, risks and timeline entries); "
                f"the limit is {most:,}: evaluate fewer markets or assets per request"
            ),
        )


def _report(raw, rules, limits, as_of=None, fmt="html", lang=None, paper="A4") -> tuple:
    """The client report (HTML, PDF or DOCX) of a profile, or its outline JSON in *lang*, from one evaluation."""
    with _refused_as_problems():
        outline, run, doc = _api.evaluate_run(_read(raw), rules, as_of, None, lang)
    _check_size(outline, limits)  # the same limits as /v1/evaluate first
    if fmt == "json":
        return _outline_json(outline, limits)
    if fmt == "pdf":
        _check_size(outline, limits, limits.pdf_items, "a PDF report")
    try:
        body = _api.render_report(outline, run, doc, format=fmt, paper=paper)
    except IPExpertError as exc:  # the PDF or DOCX extra is not installed on the server
        raise Refused(501, exc.problems[0].message, exc.problems) from None
    headers = REPORT_HEADERS if fmt == "html" else {"X-Content-Type-Options": "nosniff"}
    return 200, REPORT_MEDIA_TYPES[fmt], body.encode("utf-8") if isinstance(body, str) else body, headers


# The report is one self-contained page: its styles are inline and it loads nothing, runs nothing.
REPORT_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _agenda(book_paths, rules, limits, as_of=None, days=90, lang=None, fmt="json") -> tuple[int, str, bytes]:
    """The client book's agenda, read from disk for this request: JSON, or an iCalendar feed (ipexpert/_practice/)."""
    from ipexpert._practice import agenda, book, calendar

    if not book_paths:
        raise Refused(404, "this service has no client book: start it with `ipexpert serve --book DIR`")
    as_of = _api.parse_date(as_of)
    try:
        clients = book.evaluate(book_paths, as_of=as_of, lang=lang, rules=rules)
    except IPExpertError as exc:
        raise Refused(500, "the client book cannot be read", exc.problems) from None
    entries = agenda.build(clients, as_of, days)
    if len(entries) > limits.outline_items:
        raise Refused(
            413, f"the agenda would have {len(entries):,} entries; the limit is {limits.outline_items:,}: ask for fewer days"
        )
    if fmt == "ics":
        media_type, body = "text/calendar; charset=utf-8", calendar.render(entries, clients, as_of, lang or "en")
    else:
        problems = [p.to_dict() for p in book.failures(clients)]
        data = {"as_of": as_of.isoformat(), "days": days, "entries": [e.to_dict() for e in entries], "problems": problems}
        media_type, body = "application/json", dumps(data)
    if len(body) > limits.outline_bytes:
        raise Refused(
            413, f"the agenda would be {len(body):,} bytes; the limit is {limits.outline_bytes:,} bytes: ask for fewer days"
        )
    return 200, media_type, body


def _interview(raw, rules, limits, route="start", query_lang=None, content_type="") -> tuple[int, str, bytes, dict]:
    """A page or download of the web interview, from its form's bytes: ipexpert/_interview/pages.py."""
    from ipexpert._interview import pages as _pages

    return _pages.respond(route, raw, query_lang, rules, content_type=content_type)


def _explain(raw, rules, limits, as_of=None, target="") -> tuple[int, str, bytes]:
    """How *target* (a recommendation or risk id, or a rule) was concluded for the profile, or why not: `ipexpert explain`."""
    doc = _read(raw)
    try:
        with _refused_as_problems():
            data = _api.explain(doc, target, rules, as_of)
    except IPExpertError as exc:  # no such recommendation, risk or rule: the message suggests the nearest
        problems = [Problem("<query>", None, None, "$.target", p.message) for p in exc.problems]
        raise Refused(404, f"the profile's outline has no {target!r} and no rule of that name is loaded", problems) from None
    return 200, "application/json", json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def _diff(raw, rules, limits, as_of=None, assignments=()) -> tuple[int, str, bytes]:
    """What appears, disappears or changes level when the profile is changed by *assignments*: `ipexpert diff --set`."""
    before = _read(raw)
    try:
        after = _api.apply_assignments(before, list(assignments))
    except IPExpertError as exc:
        problems = [Problem("<query>", None, None, "$.set", p.message) for p in exc.problems]
        raise Refused(400, "a set query parameter cannot be applied to this profile", problems) from None
    with _refused_as_problems("the profile is not valid (before or after the changes)"):
        data = _api.diff(_api.evaluate(before, rules, as_of), _api.evaluate(after, rules, as_of))
    data["before"], data["after"] = REQUEST_NAME, f"{REQUEST_NAME} with {', '.join(assignments)}"
    return 200, "application/json", dumps(data)


# What the evaluating process can do: each takes the request body, the rules and the limits, and the request's options.
OPERATIONS: dict[str, Callable[..., tuple]] = {
    "evaluate": _evaluate,
    "validate": _validate,
    "report": _report,
    "explain": _explain,
    "diff": _diff,
    "interview": _interview,
}


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
            status, media_type, body, headers, rss = await self._call(pool, operation, raw, params)
        except asyncio.CancelledError:  # the client left: work no one will read is stopped, if it is the only work there
            if pool in self._pools and self._busy[pool] == 1:
                log.info("stopping an evaluating process: its client left before the answer")
                self._replace(pool)
            raise
        except BrokenProcessPool:
            if pool in self._pools:  # the first of its requests to fail says so; the others need not
                log.error("an evaluating process died (out of memory?); it has been replaced")
                self._replace(pool)
            raise Refused(500, "the evaluating process died on this request (out of memory?)") from None
        else:
            # Only the first answer over the mark replaces the process; others sent to it still finish there.
            if status == OVER_TIME and pool in self._pools:
                self._replace(pool)  # whatever the stopped work left behind goes with the process
            elif self._baseline and rss > self._baseline + RECYCLE_ABOVE_BYTES and pool in self._pools:
                log.info("replacing an evaluating process: %d MB after a large request", rss // MB)
                self._replace(pool)
        finally:
            self._busy[pool] -= 1
            self._stop_if_idle(pool)
        return Response(body, status_code=status, media_type=media_type, headers=headers)

    def _replace(self, pool) -> None:
        if pool in self._pools:
            new = self._new_pool()
            new.submit(_rss)  # start it now (about 1.3 s), not when the next request comes
            self._pools[self._pools.index(pool)] = new  # requests already sent to the old one finish there

    def _stop_if_idle(self, pool) -> None:
        """Stop *pool* once it is replaced and no request sent to it is still in hand (the last one out stops it)."""
        if pool not in self._pools and self._busy.get(pool) == 0:
            self._stop(pool)

    def _stop(self, pool) -> None:
        """End a replaced pool's process now: a normal exit would first free every object it holds."""
        self._busy.pop(pool, None)
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        self._old.append(pool)  # joined at close
        threading.Thread(target=_retire, args=(pool,), name="ipexpert-retire", daemon=True).start()

    async def close(self) -> None:
        """Stop the evaluating processes, waiting at most the graceful timeout for them to end."""
        pools, self._old, self._pools = [*self._pools, *self._old], [], []
        # One shutdown(wait=True) per pool: a first shutdown(wait=False) would forget the thread to join.
        wait_all = functools.partial(_shut_all, pools)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, wait_all), self.options.graceful_timeout)
        del pools, wait_all
        gc.collect()  # the pools' semaphores are released now, not reported as leaked at exit


def _shut_all(pools) -> None:
    """Shut each pool down and wait for it; a retire thread (`_retire`) may be closing a pool's queues at
    that moment, and Python 3.13 then reports their pipe as already closed: the pool is ending either way."""
    for pool in pools:
        try:
            pool.shutdown(wait=True, cancel_futures=True)
        except OSError:
            pass


def _retire(pool) -> None:
    """Shut down a pool whose processes were killed; at server shutdown `close` may be ending it at the same time."""
    with contextlib.suppress(Exception):  # the processes are gone either way: a clash here is not worth a traceback
        pool.shutdown()
