"""Problem answers: every refusal is an RFC 9457 problem details body (application/problem+json)."""

from __future__ import annotations

import http
import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

PROBLEM_MEDIA_TYPE = "application/problem+json"
TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}  # RFC 9110 names, on every Python


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


class Refused(Exception):
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


def dumps(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def accepted_language(request: Request) -> str:
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
    from ipexpert import _api

    body = json.loads(response.body)
    body["detail"] = _api.translate(lang, body["detail"])
    for problem in body.get("problems", []):
        problem["message"] = _api.translate(lang, problem["message"])
    translated = Response(dumps(body), status_code=response.status_code, media_type=PROBLEM_MEDIA_TYPE)
    for name, value in response.headers.items():
        if name.lower() not in ("content-length", "content-type"):
            translated.headers.append(name, value)
    translated.headers["Content-Language"] = lang
    return translated
