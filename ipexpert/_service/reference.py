"""The API reference at /docs: ReDoc, served from files inside the package, reading /openapi.json.

ReDoc (MIT, Rebilly; `static/redoc.LICENSE`, its bundled notices in
`static/redoc.standalone.js.LICENSE.txt`) renders OpenAPI 3.1 in one script, so the reference
works on a machine with no internet access and the page fetches nothing from elsewhere.
"""

from __future__ import annotations

import functools
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

STATIC = Path(__file__).parent / "static"
SCRIPT = "redoc.standalone.js"

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ipexpert HTTP API</title>
</head>
<body>
<redoc spec-url="/openapi.json" hide-download-button="false"></redoc>
<script src="/docs/redoc.standalone.js"></script>
</body>
</html>
"""

# Its own script and the document from this server only; ReDoc draws its search index in a blob: worker.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; worker-src blob:; connect-src 'self'; "
    "style-src 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@functools.lru_cache(maxsize=1)
def _script() -> bytes:
    return (STATIC / SCRIPT).read_bytes()


async def page(request: Request) -> Response:
    return HTMLResponse(PAGE, headers=HEADERS)


async def script(request: Request) -> Response:
    headers = {"Cache-Control": "max-age=86400", "X-Content-Type-Options": "nosniff"}
    return Response(_script(), media_type="text/javascript; charset=utf-8", headers=headers)


def routes() -> list[Route]:
    return [Route("/docs", page, methods=["GET"]), Route(f"/docs/{SCRIPT}", script, methods=["GET"])]
