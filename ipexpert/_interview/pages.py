"""The work behind each interview route: a form's bytes in, a page or a download out.

Plain functions with no server in them, so the service runs them in its evaluating processes
under the limits of /v1/* (the form is parsed there too, off the event loop) and the
interview alone runs them in a thread. The answers so far travel in each form as a hidden
field and are checked again on every request: a state that does not read starts afresh.
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from urllib.parse import parse_qs

import jinja2
import python_multipart

from ipexpert import _api
from ipexpert._errors import IPExpertError
from ipexpert._interview import files as _files
from ipexpert._interview import questions as _questions
from ipexpert._interview import review as _review
from ipexpert._interview.texts import LANGUAGES, texts
from ipexpert._knowledge import i18n as _i18n
from ipexpert._reading import profile as _profile

_DIR = Path(__file__).parent
CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
HTML = "text/html; charset=utf-8"

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(_DIR)),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)

Answer = tuple[int, str, bytes, dict]  # status, media type, body, headers


def respond(route: str, raw: bytes, query_lang: str | None, rules=None, as_of=None, content_type: str = "") -> Answer:
    """The answer to the interview *route* (a name in ROUTES) for the form body *raw*
    (urlencoded, or multipart/form-data when *content_type* says so: a saved profile uploaded)."""
    engine = _questions.engine(rules, _api.parse_date(as_of))
    if route == "start":
        return _page(engine, _questions.State(), _lang(query_lang))
    if content_type.startswith("multipart/form-data"):
        form = _multipart(raw, content_type)
    else:
        form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        form.pop(UPLOAD, None)  # only a file uploaded in a multipart form is one
    lang = _lang(_one(form, "lang"))
    return ROUTES[route](engine, form, lang)


def _step(engine: _questions.Engine, form: dict, lang: str) -> Answer:
    state = _state(form)
    if state is None:
        return _afresh(engine, lang)
    action = _one(form, "action")
    if action == "back":
        return _page(engine, _review.back(state), lang)
    if action == "confirm":
        return _page(engine, _review.confirm(state), lang)
    if _one(form, "edit"):
        return _edit(engine, state, _one(form, "edit"), lang)
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


def _edit(engine: _questions.Engine, state: _questions.State, where: str, lang: str) -> Answer:
    """The question of the answer at *where* (a JSON list: its profile path), asked again with the old answer filled in."""
    try:
        path = json.loads(where)
    except ValueError:
        path = None
    if not isinstance(path, list):
        return _page(engine, state, lang)
    opened, question, old = _review.reopen(engine, state, tuple(path))
    if question is None:
        return _page(engine, state, lang)
    entered = {} if old is _review.SKIPPED else {"value": _form_value(old)}
    return _page(engine, opened, lang, question=question, entered=entered)


def _form_value(value):
    """An answer as the form shows it: yes/no, a list of values, or text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


def _multipart(raw: bytes, content_type: str) -> dict:
    """A multipart form as parse_qs gives an urlencoded one, an uploaded file under UPLOAD as (its name, its bytes)."""
    form: dict = {}

    def on_field(field) -> None:
        if field.field_name:
            form.setdefault(field.field_name.decode("utf-8", "replace"), []).append(
                (field.value or b"").decode("utf-8", "replace")
            )

    files: list = []  # closed once the parser is done with them (older python-multipart flushes them after on_file)

    def on_file(file) -> None:
        files.append(file)
        name = (file.file_name or b"").decode("utf-8", "replace").replace("\\", "/").rsplit("/", 1)[-1]
        file.file_object.seek(0)
        if name and file.field_name == b"file":
            form[UPLOAD] = [(name, file.file_object.read())]

    headers = {"Content-Type": content_type.encode("latin-1", "replace"), "Content-Length": str(len(raw)).encode()}
    try:
        python_multipart.parse_form(headers, io.BytesIO(raw), on_field, on_file)
    except (python_multipart.exceptions.FormParserError, ValueError):
        return {}  # not a form this page sent: read as an empty one
    finally:
        for file in files:
            file.close()
    return form


UPLOAD = "\0upload"  # a form key no urlencoded field can have: the uploaded file


def _resume(engine: _questions.Engine, form: dict, lang: str) -> Answer:
    """Start from a partial profile: the file uploaded, or else the YAML pasted."""
    name, text = form[UPLOAD][0] if UPLOAD in form else ("<pasted profile>", _one(form, "profile").encode("utf-8"))
    try:
        state = _questions.from_document(_profile.parse(text, name))
    except IPExpertError as exc:
        return _page(engine, _questions.State(), lang, [_i18n.problem_line(p, lang) for p in exc.problems], status=422)
    return _page(engine, state, lang)


def _download_profile(engine: _questions.Engine, form: dict, lang: str) -> Answer:
    state = _state(form)
    if state is None:
        return _afresh(engine, lang)
    return _attachment(_files.profile_yaml(state.profile).encode("utf-8"), "application/yaml; charset=utf-8", _files.PROFILE_NAME)


def _save(engine: _questions.Engine, form: dict, lang: str) -> Answer:
    """The answers so far as a partial profile, to upload later and go on."""
    state = _state(form)
    if state is None:
        return _afresh(engine, lang)
    return _attachment(_files.profile_yaml(state.profile).encode("utf-8"), "application/yaml; charset=utf-8", _files.PARTIAL_NAME)


def _download_report(engine: _questions.Engine, form: dict, lang: str) -> Answer:
    state, fmt = _state(form), _one(form, "format")
    if state is None:
        return _afresh(engine, lang)
    if fmt not in _files.REPORT_FORMATS or not engine.is_valid(state.profile):
        return _refusal(400, texts(lang).ui("outline_empty"), lang)
    try:
        name, media_type, body = _files.report_file(engine, state.profile, lang, fmt)
    except IPExpertError as exc:  # no PDF extra or no Pango on this server
        return _refusal(501, texts(lang).ui("report_pdf_missing") + f" ({exc.problems[0].message})", lang)
    return _attachment(body, media_type, name)


def _download_outline(engine: _questions.Engine, form: dict, lang: str) -> Answer:
    state, fmt = _state(form), _one(form, "format")
    if state is None:
        return _afresh(engine, lang)
    outline = engine.outline(state.profile, lang)
    if fmt not in _files.OUTLINE_FORMATS or outline is None:
        return _refusal(400, texts(lang).ui("outline_empty"), lang)
    name, media_type, body = _files.outline_file(outline, fmt)
    return _attachment(body.encode("utf-8"), media_type, name)


ROUTES = {
    "step": _step,
    "resume": _resume,
    "save": _save,
    "profile": _download_profile,
    "report": _download_report,
    "outline": _download_outline,
}


def _state(form: dict) -> _questions.State | None:
    """The answers a form sends back, or None when they do not read or hold a wrong answer (tampered)."""
    state = _questions.State.read(_one(form, "state"))
    return _questions.trusted(state) if state is not None else None


def _afresh(engine, lang: str) -> Answer:
    """400: the answers sent back do not read; a new interview, saying so in the page's language."""
    return _page(engine, _questions.State(), lang, [texts(lang).ui("state_unreadable")], status=400)


def _attachment(body: bytes, media_type: str, name: str) -> Answer:
    return 200, media_type, body, {**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}


def _refusal(status: int, message: str, lang: str) -> Answer:
    """A short page saying why a download cannot be made (the message is escaped)."""
    page = f'<!doctype html><html lang="{lang}"><meta charset="utf-8"><title>{status}</title><p>{html.escape(message)}</p></html>'
    return status, HTML, page.encode("utf-8"), HEADERS


def _lang(value) -> str:
    return value if value in LANGUAGES else "en"


def _one(form: dict, name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def _raw_answer(question, form: dict) -> dict:
    if question.kind == "item":
        return {sub.path[-1]: _one(form, sub.path[-1]) for sub in question.fields}
    if question.multiple:
        picked = [v for v in form.get("value", []) if v]
        typed = [v.strip() for v in _one(form, "other").split(",") if v.strip()]
        return {"value": picked + typed}
    return {"value": _one(form, "value")}


def _page(engine, state, lang, problems=(), question=None, entered=None, status=200) -> Answer:
    t = texts(lang)
    if question is None:
        question = engine.next_question(state)
    outline = engine.outline(state.profile, lang)
    review = [] if question is not None or state.reviewed else _review_rows(engine, state, t)
    page = _templates.get_template("page.html").render(
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
        why=engine.why_sentence(question, lang, state.profile) if question is not None else "",
        answered=len(state.settled) + _count(state.profile),
        more=question is not None and question.kind == "item" and _questions.has_items(state.profile, question.path),
        can_go_back=bool(state.steps),
        review=review,
    )
    return status, HTML, page.encode("utf-8"), HEADERS


def _review_rows(engine, state, t) -> list[dict]:
    """The review page's rows: each answer (or skipped question) with what it says and where it is."""
    rows = []
    for answer in _review.answers(engine, state):
        label = t.label(answer.question)
        about = t.about(answer.question) if answer.question.about and t.about(answer.question) not in label else ""
        about = _i18n.label(t.lang, "parenthesis", text=about) if about else ""  # " (US)", or （美国） in Chinese
        rows.append(
            {
                "label": label,
                "about": about,
                "value": t.ui("skipped") if answer.skipped else _review.shown(answer.value, answer.question, t),
                "skipped": answer.skipped,
                "path": json.dumps(list(answer.path), ensure_ascii=False),
            }
        )
    return rows


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
