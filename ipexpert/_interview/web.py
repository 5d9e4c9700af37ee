"""The interview in the browser: server-rendered forms, one question a page, the outline beside it.

Nothing is kept on the server: the answers so far travel in each form as a hidden field
(ipexpert/_interview/pages.py does the work of each route). Pages work without JavaScript,
load nothing from elsewhere, and are sent with a Content-Security-Policy that allows only
this server's stylesheet and forms. Here the routes only read the form's bytes, refused with
413 past MAX_FORM_BYTES, and hand them to a runner: in a thread for the interview alone, in
the evaluating processes under the service's limits for `ipexpert serve`.

    GET  /                      the current question (a new interview), ?lang=zh-CN for Chinese
    POST /interview             answer or skip the question, go back, change an answer, confirm the review; the next page
    POST /interview/resume      start from a saved partial profile, uploaded (multipart) or pasted
    POST /interview/save        download the answers so far (a partial profile), to resume later
    POST /interview/profile     download the profile (YAML)
    POST /interview/report      download the report in the page's language (format= html, pdf)
    POST /interview/outline     download the outline in the page's language (format= text, markdown, json)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ipexpert._interview import pages as _pages

_DIR = Path(__file__).parent
MAX_FORM_BYTES = 2 * 1024 * 1024
# The request, a route's name in pages.ROUTES (or "start"), the form's bytes and the query's lang -> the response.
Runner = Callable[[Request, str, bytes, "str | None"], Awaitable[Response]]
PATHS = {
    "step": "/interview",
    "resume": "/interview/resume",
    "save": "/interview/save",
    "profile": "/interview/profile",
    "report": "/interview/report",
    "outline": "/interview/outline",
}


def create_app(rules=None, as_of=None) -> Starlette:
    """The interview alone as an ASGI app (`ipexpert serve` adds its routes to the service)."""
    return Starlette(routes=routes(in_thread(rules, as_of)))


def in_thread(rules=None, as_of=None) -> Runner:
    """A runner that does each route's work in a thread of this process; *as_of* fixes the date (default: each day's)."""

    async def run(request: Request, route: str, raw: bytes, query_lang: str | None) -> Response:
        content_type = request.headers.get("content-type", "")
        status, media_type, body, headers = await run_in_threadpool(
            _pages.respond, route, raw, query_lang, rules, as_of, content_type
        )
        return Response(body, status_code=status, media_type=media_type, headers=headers)

    return run


def routes(run: Runner) -> list[Route]:
    """The interview's routes, each doing its work through *run*."""

    async def start(request: Request) -> Response:
        return await run(request, "start", b"", request.query_params.get("lang"))

    def posting(route: str):
        async def post(request: Request) -> Response:
            return await run(request, route, await read_form(request), None)

        return post

    async def stylesheet(request: Request) -> Response:
        return Response(
            (_DIR / "interview.css").read_text(encoding="utf-8"),
            media_type="text/css",
            headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    return [
        Route("/", start, methods=["GET"]),
        *(Route(path, posting(route), methods=["POST"]) for route, path in PATHS.items()),
        Route("/interview.css", stylesheet, methods=["GET"]),
    ]


async def read_form(request: Request) -> bytes:
    """The form body (urlencoded, or multipart for an upload), unparsed; 413 as soon as it is known to pass MAX_FORM_BYTES."""
    too_large = f"the form is larger than the limit of {MAX_FORM_BYTES:,} bytes"
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > MAX_FORM_BYTES:
        raise HTTPException(413, too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise HTTPException(413, too_large)
        chunks.append(chunk)
    return b"".join(chunks)
