"""Where the packs' reference facts come from and how fresh they are (`ipexpert rules sources`).

A reference fact names its source and the date it was checked in pairs of fields:
`source`/`checked` (and `note`), or `PREFIX_source`/`PREFIX_checked` (and `PREFIX_note`) when one
fact holds several claims, as a jurisdiction fact does (tm_, ftf_, madrid_, term_, brand_registry_).
Each claim is official (its URL is on rules/sources/official-domains.yaml), an estimate (its note
says 'an estimate'), the paper, or secondary; the oldest checks come first, so a consultant sees
what to re-check.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import urlsplit

from ipexpert._common import resources as _resources
from ipexpert._reading import document as _document

OFFICIAL_FILE = ("sources", "official-domains.yaml")


@dataclass(frozen=True)
class Claim:
    """One sourced claim of one reference fact."""

    pack: str
    kind: str
    subject: str  # the code, channel, ... that says which fact this is
    claim: str  # the field prefix (tm, madrid, ...) or the fact kind
    source: str | None
    checked: str | None
    note: str
    location: str

    @property
    def is_url(self) -> bool:
        return isinstance(self.source, str) and self.source.startswith(("http://", "https://"))

    @property
    def estimate(self) -> bool:
        return "an estimate" in self.note or not self.source


@functools.cache
def official_list() -> dict:
    """The bundled list: {"domains": [...], "exceptions": {url: reason}}."""
    path = _resources.rules_dir().joinpath(*OFFICIAL_FILE)
    data = _document.load(path.read_bytes(), str(path)).data
    return {
        "domains": tuple(item["domain"] for item in data["domains"]),
        "exceptions": {item["url"]: item["reason"] for item in data.get("exceptions", [])},
    }


def is_official(url: str) -> bool:
    """True when *url*'s host is an official domain or a subdomain of one."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in official_list()["domains"])


def status(claim: Claim) -> str:
    """official, estimate, paper, excepted (a listed exception) or secondary."""
    if claim.estimate:
        return "estimate"
    if not claim.is_url:
        return "paper" if str(claim.source).startswith("paper") else "secondary"
    if is_official(str(claim.source)):
        return "official"
    return "excepted" if claim.source in official_list()["exceptions"] else "secondary"


_SUBJECT_FIELDS = ("code", "channel", "programme_key")


def claims(packs) -> list[Claim]:
    """Every sourced claim in the packs' reference facts, in pack order."""
    out = []
    for pack in packs:
        for fact in pack.facts:
            fields = fact.fields
            subject = next((str(fields[f]) for f in _SUBJECT_FIELDS if f in fields), "")
            line = fact.doc.position(fact.path)[0]
            for key in fields:
                if not key.endswith("source"):
                    continue
                prefix = key[: -len("source")]
                note = fields.get(prefix + "note") or ""
                if prefix == "tm_" and fields.get("tm_estimate") and "an estimate" not in note:
                    note += " (an estimate)"
                out.append(
                    Claim(
                        pack.name,
                        fact.kind,
                        subject,
                        prefix.rstrip("_"),
                        fields[key],
                        fields.get(prefix + "checked"),
                        str(note),
                        f"{fact.doc.source}:{line}",
                    )
                )
    return out


def oldest_first(found: list[Claim]) -> list[Claim]:
    """Never-checked claims first, then by check date; ties keep pack order."""
    return sorted(found, key=lambda c: (c.checked is not None, c.checked or ""))


def table(packs, limit: int | None = 20) -> list[str]:
    """What `rules sources` prints: a summary line, then the oldest checks with their status and source."""
    found = claims(packs)
    urls = [c for c in found if c.is_url]
    official = sum(is_official(str(c.source)) for c in urls)
    dates = sorted(c.checked for c in found if c.checked)
    share = f"{100 * official / len(urls):.0f}%" if urls else "-"
    lines = [
        f"{len(found)} sourced facts; {official} of {len(urls)} source URLs official ({share}); "
        f"{sum(c.estimate for c in found)} estimates; "
        f"oldest check {dates[0] if dates else 'never'}, newest {dates[-1] if dates else 'never'}"
        + (f"; {sum(c.checked is None for c in found)} never checked" if any(c.checked is None for c in found) else ""),
    ]
    rows = oldest_first(found)
    if limit is not None:
        rows = rows[:limit]
    head = ("CHECKED", "FACT", "STATUS", "SOURCE")
    cells = [
        (c.checked or "never", " ".join(p for p in (c.kind, c.subject, c.claim) if p), status(c), str(c.source)) for c in rows
    ]
    widths = [max(len(r[i]) for r in cells + [head]) for i in range(3)]
    for row in [head] + cells:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])
    if limit is not None and len(found) > limit:
        lines.append(f"... {len(found) - limit} more (--all lists every one)")
    return [line.rstrip() for line in lines]
