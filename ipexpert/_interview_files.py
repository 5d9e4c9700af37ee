"""What an interview hands over: the profile as commented YAML, and the outline in each format."""

from __future__ import annotations

import yaml

from . import _render, _schemas

SCHEMA_MODELINE = "# yaml-language-server: $schema=https://ipexpert.dev/schemas/firm-profile.schema.json"
# The outline formats on offer, with file name suffix and media type; one place to add more.
OUTLINE_FORMATS = {
    "text": ("txt", "text/plain; charset=utf-8"),
    "markdown": ("md", "text/markdown; charset=utf-8"),
    "json": ("json", "application/json"),
}


def profile_yaml(profile: dict) -> str:
    """*profile* as YAML an editor checks against the schema, each section under its description."""
    schema = _schemas.schema("profile")
    lines = [
        SCHEMA_MODELINE,
        "# A firm profile written by `ipexpert interview`. Check it with `ipexpert validate FILE`;",
        "# `ipexpert schema profile` prints the schema the line above refers to.",
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
    return f"ip-outline.{suffix}", media_type, _render.render(outline, fmt)
