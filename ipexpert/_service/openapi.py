"""The OpenAPI 3.1 document of the service; the profile and outline are the project's own schemas."""

from __future__ import annotations

import dataclasses
import json

from ipexpert._practice.agenda import MAX_DAYS as MAX_AGENDA_DAYS
from ipexpert._service.options import DOCX_MEDIA_TYPE, MAX_ASSIGNMENTS, MAX_QUERY_TEXT, MEDIA_TYPES, REPORT_OPTIONS, Limits
from ipexpert._service.problems import PROBLEM_MEDIA_TYPE

AS_OF_PATTERN = r"^(18[0-9]{2}|19[0-9]{2}|20[0-9]{2}|21[0-9]{2}|2200)-[0-9]{2}-[0-9]{2}$"


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
    from ipexpert import __version__, _api

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
            "description": f"The request took more than {limits.seconds:g} s of work and was stopped (a problem), "
            "or the server is at its concurrency limit (plain text); try again.",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}, "text/plain": {"schema": {"type": "string"}}},
        },
    }

    as_of_parameter = {
        "name": "as_of",
        "in": "query",
        "required": False,
        "description": "The date the advice is computed for (default: today), YYYY-MM-DD between 1800-01-01 and 2200-12-31.",
        "schema": {"type": "string", "format": "date", "pattern": AS_OF_PATTERN},
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
        f"{limits.outline_bytes:,} bytes of JSON, else 413; a PDF report of at most {limits.pdf_items:,} items, "
        f"else 413; at most {limits.seconds:g} s of work per request, else 503; as_of between 1800-01-01 and 2200-12-31. "
        "The server's connection limits and timeouts are the options of `ipexpert serve`."
    )
    components: dict = {}
    _component("FirmProfile", _api.schema("profile"), components)
    _component("Outline", _api.schema("outline"), components)
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
                            f"{limits.outline_items:,} items or {limits.outline_bytes:,} bytes, or the profile's lists "
                            "multiply into more rule firings than one evaluation allows."
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
                            "description": "html: one self-contained page; pdf: the same report as PDF; docx: the same "
                            "report as a Word document to edit; json: the outline.",
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
                                DOCX_MEDIA_TYPE: {"schema": {"type": "string", "contentMediaType": DOCX_MEDIA_TYPE}},
                                "application/json": {"schema": {"$ref": "#/components/schemas/Outline"}},
                            },
                        },
                        "400": problem("The body is not readable, or a query parameter is not one of its choices."),
                        **body_errors,
                        "413": problem(
                            f"The body is larger than {limits.body_bytes:,} bytes, or the outline would pass "
                            f"{limits.outline_items:,} items or {limits.outline_bytes:,} bytes, or a PDF would pass {limits.pdf_items:,} items, "
                            "or the profile's lists multiply into more rule firings than one evaluation allows."
                        ),
                        "422": problem("The profile breaks the profile schema or its consistency checks."),
                        "500": problem("The rules failed on this profile, or an internal error occurred."),
                        "501": problem(
                            "PDF or DOCX was asked for but the server lacks the ipexpert[pdf] or ipexpert[docx] extra."
                        ),
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
            "/v1/explain": {
                "post": {
                    "summary": "How a recommendation, risk or rule of the profile's outline was concluded, or why a rule did not fire",
                    "parameters": [
                        {
                            "name": "target",
                            "in": "query",
                            "required": True,
                            "description": "A recommendation or risk id of the outline (register-brand:acme:de), or a rule "
                            "(pack/id or id), as `ipexpert explain` takes it.",
                            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_TEXT},
                        },
                        as_of_parameter,
                    ],
                    "requestBody": profile_body("A firm profile, as YAML or JSON."),
                    "responses": {
                        "200": {
                            "description": "The explanation, as `ipexpert explain --format json` prints it.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **body_errors,
                        "400": problem("The body is not readable, or target is missing or too long, or as_of is not a date."),
                        "404": problem("The outline has no such recommendation or risk and no rule of that name is loaded."),
                        "413": problem(
                            f"The body is larger than {limits.body_bytes:,} bytes, or the profile's lists multiply into "
                            "more rule firings than one evaluation allows."
                        ),
                        "500": problem("The rules failed on this profile, or an internal error occurred."),
                    },
                }
            },
            "/v1/diff": {
                "post": {
                    "summary": "What appears, disappears or changes level when the profile is changed (what-if)",
                    "parameters": [
                        {
                            "name": "set",
                            "in": "query",
                            "required": True,
                            "description": f"A change PATH=VALUE (firm.stage=stable), as `ipexpert diff --set` takes it; "
                            f"repeat for more, at most {MAX_ASSIGNMENTS}.",
                            "schema": {
                                "type": "array",
                                "items": {"type": "string", "pattern": "=", "maxLength": MAX_QUERY_TEXT},
                                "minItems": 1,
                                "maxItems": MAX_ASSIGNMENTS,
                            },
                            "style": "form",
                            "explode": True,
                        },
                        as_of_parameter,
                    ],
                    "requestBody": profile_body("A firm profile, as YAML or JSON."),
                    "responses": {
                        "200": {
                            "description": "The differences, as `ipexpert diff --format json` prints them.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **body_errors,
                        "400": problem(
                            "The body is not readable, or a set parameter is missing, malformed or cannot be applied."
                        ),
                        "413": problem(
                            f"The body is larger than {limits.body_bytes:,} bytes, or the profile's lists multiply into "
                            "more rule firings than one evaluation allows."
                        ),
                        "500": problem("The rules failed on this profile, or an internal error occurred."),
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
            **interview_paths(problem),
        },
        "components": {"schemas": {**components, **INTERVIEW_SCHEMAS}},
    }


INTERVIEW_SCHEMAS = {
    "InterviewForm": {
        "type": "object",
        "description": "The fields of an interview page's form; every field is optional and checked on arrival.",
        "properties": {
            "state": {"type": "string", "description": "The answers so far, as the previous page wrote them (JSON)."},
            "lang": {"type": "string", "description": "zh-CN for Simplified Chinese; anything else is English."},
            "action": {"type": "string", "description": "answer, skip, back (the step before) or confirm (the review)."},
            "edit": {"type": "string", "description": "On the review page: the profile path of an answer to change (JSON)."},
            "question": {"type": "string", "description": "The id of the question answered, as markets[0].code."},
            "value": {"type": "string", "description": "The answer (repeated for a list)."},
            "other": {"type": "string", "description": "More values of a list, separated by commas."},
            "format": {"type": "string", "description": "Of a download: html or pdf (report); text, markdown or json (outline)."},
            "profile": {"type": "string", "description": "A pasted partial profile, YAML or JSON (resume)."},
        },
    },
    "InterviewUpload": {
        "type": "object",
        "description": "The resume form with a saved partial profile uploaded; without a file, the pasted one is read.",
        "properties": {
            "lang": {"type": "string", "description": "zh-CN for Simplified Chinese; anything else is English."},
            "file": {"type": "string", "format": "binary", "description": "A saved partial profile, YAML or JSON."},
            "profile": {"type": "string", "description": "A pasted partial profile, YAML or JSON."},
        },
    },
}


def interview_paths(problem) -> dict:
    """The web interview's routes: HTML pages and downloads, from urlencoded forms (ipexpert/_interview/web.py)."""
    from ipexpert._interview import web as _web

    page = {"text/html": {"schema": {"type": "string"}}}
    urlencoded = {"application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/InterviewForm"}}}
    form = {
        "required": True,
        "description": f"The page's form. At most {_web.MAX_FORM_BYTES:,} bytes.",
        "content": urlencoded,
    }
    unreadable = {"description": "The state sent back does not read: a new interview, saying so.", "content": page}
    refused = {
        "413": problem(f"The form is larger than {_web.MAX_FORM_BYTES:,} bytes."),
        "500": problem("An internal error occurred."),
        "503": {
            "description": "The page took more than the time limit of work and was stopped (a problem), "
            "or the server is at its concurrency limit (plain text); try again.",
            "content": {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        },
    }

    upload = {
        "required": True,
        "description": f"The resume form, pasted or with a file. At most {_web.MAX_FORM_BYTES:,} bytes.",
        "content": {
            **urlencoded,
            "multipart/form-data": {"schema": {"$ref": "#/components/schemas/InterviewUpload"}},
        },
    }

    def post(summary: str, ok: dict, body: dict = form, **more) -> dict:
        return {"post": {"summary": summary, "requestBody": body, "responses": {"200": ok, "400": unreadable, **more, **refused}}}

    return {
        "/": {
            "get": {
                "summary": "The web interview's first question",
                "parameters": [
                    {
                        "name": "lang",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "zh-CN for Simplified Chinese; anything else is English.",
                    }
                ],
                "responses": {"200": {"description": "The page.", "content": page}, **refused},
            }
        },
        "/interview": post(
            "Answer or skip a question: the next page",
            {"description": "The next page.", "content": page},
            **{"422": {"description": "The answer is not valid: the same question, saying why.", "content": page}},
        ),
        "/interview/resume": post(
            "Start from a saved partial profile, uploaded or pasted",
            {"description": "The first question the profile leaves open.", "content": page},
            upload,
            **{"422": {"description": "The profile does not read or holds a wrong answer: every problem.", "content": page}},
        ),
        "/interview/profile": post(
            "Download the answers as a profile (YAML)",
            {
                "description": "The answers as a partial firm profile, commented (only comments while nothing is answered).",
                "content": {"application/yaml": {"schema": {"type": ["object", "null"]}}},
            },
        ),
        "/interview/save": post(
            "Download the answers so far as a partial profile (YAML), to upload later and go on",
            {
                "description": "The answers as a partial firm profile, commented, named firm-profile-unfinished.yaml.",
                "content": {"application/yaml": {"schema": {"type": ["object", "null"]}}},
            },
        ),
        "/interview/report": post(
            "Download the report (HTML or PDF) in the page's language",
            {
                "description": "The report.",
                "content": {"text/html": {"schema": {"type": "string"}}, "application/pdf": {"schema": {"type": "string"}}},
            },
            **{"501": {"description": "PDF was asked for but the server cannot make it.", "content": page}},
        ),
        "/interview/outline": post(
            "Download the outline (text, Markdown or JSON) in the page's language",
            {
                "description": "The outline.",
                "content": {
                    "text/plain": {"schema": {"type": "string"}},
                    "text/markdown": {"schema": {"type": "string"}},
                    "application/json": {"schema": {"$ref": "#/components/schemas/Outline"}},
                },
            },
        ),
        "/interview.css": {
            "get": {
                "summary": "The interview's stylesheet",
                "responses": {"200": {"description": "CSS.", "content": {"text/css": {"schema": {"type": "string"}}}}},
            }
        },
    }
