"""The interview in the browser: server-rendered forms, one question a page, the outline beside it.

Nothing is kept on the server: the answers so far travel in each form as a hidden field and
are checked again on every request (a tampered state starts afresh). Pages work without
JavaScript, load nothing from elsewhere, and are sent with a Content-Security-Policy that
allows only this server's stylesheet and forms.

    GET  /                      the current question (a new interview), ?lang=zh-CN for Chinese
    POST /interview             answer or skip the question; the next page
    POST /interview/resume      start from a pasted partial profile
    POST /interview/profile     download the profile (YAML)
    POST /interview/report      download the report in the page's language (format= html, pdf)
    POST /interview/outline     download the outline in the page's language (format= text, markdown, json)
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ipexpert import _api
from ipexpert._interview import files as _files
from ipexpert._reading import profile as _profile
from ipexpert._interview import questions as _questions
from ipexpert._errors import IPExpertError
from ipexpert._knowledge import i18n as _i18n
from ipexpert._interview.texts import LANGUAGES, texts

_DIR = Path(__file__).parent
CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
MAX_FORM_BYTES = 2 * 1024 * 1024
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(_DIR)),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def create_app(rules=None, as_of=None) -> Starlette:
    """The interview alone as an ASGI app (`ipexpert serve` adds its routes to the service)."""
    return Starlette(routes=routes(rules, as_of))


def routes(rules=None, as_of=None) -> list[Route]:
    """The interview's routes; *as_of* fixes the evaluation date (default: each day's date)."""

    def engine() -> _questions.Engine:
        return _questions.engine(rules, _api.parse_date(as_of))

    async def start(request: Request) -> Response:
        lang = _lang(request.query_params.get("lang"))
        return await run_in_threadpool(_page, engine(), _questions.State(), lang)

    async def step(request: Request) -> Response:
        form = await _form(request)
        lang = _lang(_one(form, "lang"))
        return await run_in_threadpool(_step, engine(), form, lang)

    async def resume(request: Request) -> Response:
        form = await _form(request)
        lang = _lang(_one(form, "lang"))
        try:
            state = _questions.from_document(_profile.parse(_one(form, "profile").encode("utf-8"), "<pasted profile>"))
        except IPExpertError as exc:
            problems = [_i18n.problem_line(p, lang) for p in exc.problems]
            return await run_in_threadpool(_page, engine(), _questions.State(), lang, problems)
        return await run_in_threadpool(_page, engine(), state, lang)

    async def download_profile(request: Request) -> Response:
        lang, _, state = await _download_request(request)
        if state is None:
            return await run_in_threadpool(_afresh, engine(), lang)
        body = _files.profile_yaml(state.profile)
        return _attachment(body, "application/yaml; charset=utf-8", _files.PROFILE_NAME)

    async def download_report(request: Request) -> Response:
        lang, fmt, state = await _download_request(request)
        the_engine = engine()
        if state is None:
            return await run_in_threadpool(_afresh, the_engine, lang)
        if fmt not in _files.REPORT_FORMATS or not the_engine.is_valid(state.profile):
            return _refusal(400, texts(lang).ui("outline_empty"), lang)
        try:
            name, media_type, body = await run_in_threadpool(_files.report_file, the_engine, state.profile, lang, fmt)
        except IPExpertError as exc:  # no PDF extra or no Pango on this server
            return _refusal(501, texts(lang).ui("report_pdf_missing") + f" ({exc.problems[0].message})", lang)
        return _attachment(body, media_type, name)

    async def download_outline(request: Request) -> Response:
        lang, fmt, state = await _download_request(request)
        if state is None:
            return await run_in_threadpool(_afresh, engine(), lang)
        outline = await run_in_threadpool(engine().outline, state.profile, lang)
        if fmt not in _files.OUTLINE_FORMATS or outline is None:
            return _refusal(400, texts(lang).ui("outline_empty"), lang)
        name, media_type, body = _files.outline_file(outline, fmt)
        return _attachment(body, media_type, name)

    async def stylesheet(request: Request) -> Response:
        return Response(
            (_DIR / "interview.css").read_text(encoding="utf-8"),
            media_type="text/css",
            headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    return [
        Route("/", start, methods=["GET"]),
        Route("/interview", step, methods=["POST"]),
        Route("/interview/resume", resume, methods=["POST"]),
        Route("/interview/profile", download_profile, methods=["POST"]),
        Route("/interview/report", download_report, methods=["POST"]),
        Route("/interview/outline", download_outline, methods=["POST"]),
        Route("/interview.css", stylesheet, methods=["GET"]),
    ]


async def _download_request(request: Request) -> tuple[str, str, _questions.State | None]:
    """(language, format, answers) a download form sends; the answers are None when they do not read."""
    form = await _form(request)
    return _lang(_one(form, "lang")), _one(form, "format"), _state(form)


def _state(form: dict) -> _questions.State | None:
    """The answers a form sends back, or None when they do not read or hold a wrong answer (tampered)."""
    state = _questions.State.read(_one(form, "state"))
    return _questions.trusted(state) if state is not None else None


def _afresh(engine, lang: str) -> Response:
    """400: the answers sent back do not read; a new interview, saying so in the page's language."""
    return _page(engine, _questions.State(), lang, [texts(lang).ui("state_unreadable")], status=400)


def _attachment(body, media_type: str, name: str) -> Response:
    return Response(body, media_type=media_type, headers={**_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


def _refusal(status: int, message: str, lang: str) -> HTMLResponse:
    """A short page saying why a download cannot be made (the message is escaped)."""
    import html

    page = f'<!doctype html><html lang="{lang}"><meta charset="utf-8"><title>{status}</title><p>{html.escape(message)}</p></html>'
    return HTMLResponse(page, status_code=status, headers=_HEADERS)


def _lang(value) -> str:
    return value if value in LANGUAGES else "en"


async def _form(request: Request) -> dict[str, list[str]]:
    """The urlencoded form body (read here, so no multipart package is needed)."""
    from urllib.parse import parse_qs

    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            break
    return parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"), keep_blank_values=True)


def _one(form: dict, name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def _step(engine: _questions.Engine, form: dict, lang: str) -> Response:
    state = _state(form)
    if state is None:
        return _afresh(engine, lang)
    action = _one(form, "action")
    question = engine.find(state, _one(form, "question"))
    if question is None or action not in ("answer", "skip"):
        return _page(engine, state, lang)
    if action == "skip":
        return _page(engine, engine.skip(state, question), lang)
    raw = _raw_answer(question, form)
    new_state, problems = engine.answer(state, question, raw, lang)
    if problems:
        return _page(engine, state, lang, problems, question=question, entered=raw, status=422)
    return _page(engine, new_state, lang)


def _raw_answer(question, form: dict) -> dict:
    if question.kind == "item":
        return {sub.path[-1]: _one(form, sub.path[-1]) for sub in question.fields}
    if question.multiple:
        picked = [v for v in form.get("value", []) if v]
        typed = [v.strip() for v in _one(form, "other").split(",") if v.strip()]
        return {"value": picked + typed}
    return {"value": _one(form, "value")}


def _page(engine, state, lang, problems=(), question=None, entered=None, status=200) -> Response:
    t = texts(lang)
    if question is None:
        question = engine.next_question(state)
    outline = engine.outline(state.profile, lang)
    html = _templates.get_template("page.html").render(
        t=t,
        lang=lang,
        other_lang="zh-CN" if lang == "en" else "en",
        state=state.to_json(),
        question=question,
        problems=list(problems),
        entered=entered or {},
        outline=_outline_view(outline),
        formats=list(_files.OUTLINE_FORMATS),
        report_formats=_files.report_formats(),
        why=engine.why(question, lang) if question is not None else [],
        answered=len(state.settled) + _count(state.profile),
        more=question is not None and question.kind == "item" and _questions.has_items(state.profile, question.path),
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _count(profile) -> int:
    """How many answers a profile holds (each leaf value and each list of values)."""
    if isinstance(profile, dict):
        return sum(_count(v) for v in profile.values())
    if isinstance(profile, list) and profile and isinstance(profile[0], dict):
        return sum(_count(v) for v in profile)
    return 1


def _outline_view(outline):
    if outline is None:
        return None
    data = outline.to_dict()
    return {"stage": data["stage"]["value"], "recommendations": data["recommendations"], "risks": data["risks"]}
