"""What an interview hands over: the profile as commented YAML, the report, and the outline in each format."""

from __future__ import annotations

import yaml

from ipexpert import _api
from ipexpert._common import resources as _resources
from ipexpert._outputs import pdf as _pdf
from ipexpert._outputs import text as _text
from ipexpert._reading import schemas as _schemas

PROFILE_NAME = "firm-profile.yaml"  # the downloaded profile's file name
PARTIAL_NAME = "firm-profile-unfinished.yaml"  # the answers so far, saved to resume the interview later
# The report formats, with file name suffix and media type: the client report of `evaluate --format html|pdf`.
REPORT_FORMATS = {
    "html": ("html", "text/html; charset=utf-8"),
    "pdf": ("pdf", "application/pdf"),
}
# The outline formats on offer, with file name suffix and media type; one place to add more.
OUTLINE_FORMATS = {
    "text": ("txt", "text/plain; charset=utf-8"),
    "markdown": ("md", "text/markdown; charset=utf-8"),
    "json": ("json", "application/json"),
}


def schema_modeline() -> str:
    """The first line of a written profile: an editor's YAML language server checks it against the installed schema."""
    return f"# yaml-language-server: $schema={_resources.schema_path(_schemas.SCHEMA_FILES['profile'])}"


def profile_yaml(profile: dict) -> str:
    """*profile* as YAML an editor checks against the schema, each section under its description."""
    schema = _schemas.schema("profile")
    lines = [
        schema_modeline(),
        "# A firm profile written by `ipexpert interview`. Check it with `ipexpert validate FILE`.",
        "# The line above names the schema installed where this file was written; on another",
        "# machine, put there the path `ipexpert schema profile --path` prints.",
    ]
    for key, node in schema["properties"].items():
        if key not in profile or key == "$schema":
            continue
        lines.append("")
        lines.append(f"# {node.get('title', key)}: {node.get('description', '')}")
        lines.append(yaml.safe_dump({key: profile[key]}, allow_unicode=True, sort_keys=False, width=100).rstrip("\n"))
    return "\n".join(lines) + "\n"


def outline_file(outline, fmt: str) -> tuple[str, str, str]:
    """(file name, media type, text) of *outline* in *fmt* (one of OUTLINE_FORMATS)."""
    suffix, media_type = OUTLINE_FORMATS[fmt]
    return f"ip-outline.{suffix}", media_type, _text.render(outline, fmt)


def report_formats() -> list[str]:
    """The report formats this installation can make (PDF needs the `[pdf]` extra)."""
    return [fmt for fmt in REPORT_FORMATS if fmt != "pdf" or _pdf.available()]


def report_file(engine, profile: dict, lang: str, fmt: str, name: str = PROFILE_NAME) -> tuple[str, str, bytes]:
    """(file name, media type, bytes) of the report on *profile* in *lang*, as *fmt* (html or pdf).

    It is made from the profile file the interview hands over (called *name*), so the facts it
    cites point to that file's lines: the same report as `ipexpert evaluate NAME --format FMT
    --lang LANG`, with the interview's rules and evaluation date.
    """
    suffix, media_type = REPORT_FORMATS[fmt]
    body = _api.report(profile_yaml(profile), engine.rules, engine.as_of, name, lang=lang, format=fmt)
    return f"ip-report.{suffix}", media_type, body if isinstance(body, bytes) else body.encode("utf-8")
