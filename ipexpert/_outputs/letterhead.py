"""Who prepared a client report: the consultant, their firm and an optional logo.

It comes from command-line options or a small YAML file (`consultant:`, `consultancy:`,
`logo:` a PNG, JPEG or SVG file named relative to the YAML file), options winning. The logo
is embedded in the page as a data: URI, so the report still fetches nothing.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from pathlib import Path

from ipexpert._errors import IPExpertError, Problem
from ipexpert._reading import document as _document
from ipexpert._reading import profile as _profile

KEYS = ("consultant", "consultancy", "logo")
LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}
MAX_LOGO_BYTES = 512 * 1024


@dataclass(frozen=True)
class Letterhead:
    """The "prepared by" part of a report; every field may be missing."""

    consultant: str | None = None
    consultancy: str | None = None
    logo: str | None = None  # a data: URI

    def __bool__(self) -> bool:
        return bool(self.consultant or self.consultancy or self.logo)

    def prepared_by(self) -> str:
        return ", ".join(part for part in (self.consultant, self.consultancy) if part)

    @classmethod
    def from_file(cls, path: str | Path) -> Letterhead:
        """The letterhead a YAML file describes (consultant, consultancy, logo)."""
        return read(path)

    @classmethod
    def from_options(
        cls, file: str | None = None, consultant: str | None = None, consultancy: str | None = None, logo: str | None = None
    ) -> Letterhead:
        """The letterhead of *file* (if given), each option given replacing its value."""
        return combine(file, consultant, consultancy, logo)


def read(path: str | Path) -> Letterhead:
    """The letterhead a YAML file describes; IPExpertError with FILE:LINE:COL for a mistake."""
    path = Path(path)
    doc = _load(path)
    data = doc.data
    if not isinstance(data, dict):
        raise IPExpertError(doc.problem((), "a letterhead is a mapping with consultant, consultancy and logo"))
    problems = [doc.problem((key,), f"unknown key {key!r}; use {', '.join(KEYS)}", key=True) for key in data if key not in KEYS]
    problems += [
        doc.problem((key,), f"{key} is text")
        for key in KEYS
        if key in data and not (isinstance(data[key], str) and data[key].strip())
    ]
    if problems:
        raise IPExpertError(problems)
    logo = None
    if "logo" in data:
        try:
            logo = logo_uri(path.parent / data["logo"])
        except ValueError as exc:
            raise IPExpertError(doc.problem(("logo",), str(exc))) from None
    return Letterhead(data.get("consultant"), data.get("consultancy"), logo)


def combine(file: str | None, consultant: str | None, consultancy: str | None, logo: str | None) -> Letterhead:
    """The letterhead of *file* (if given) with each option given replacing its value."""
    base = read(file) if file else Letterhead()
    if logo:
        try:
            base = replace(base, logo=logo_uri(Path(logo)))
        except ValueError as exc:
            raise IPExpertError(Problem(logo, None, None, "$", str(exc))) from None
    return replace(base, consultant=consultant or base.consultant, consultancy=consultancy or base.consultancy)


def logo_uri(path: Path) -> str:
    """*path* (PNG, JPEG or SVG) as a data: URI; ValueError saying why it cannot be."""
    kind = LOGO_TYPES.get(path.suffix.lower())
    if kind is None:
        raise ValueError(f"the logo {path.name} is not PNG, JPEG or SVG")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read the logo {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_LOGO_BYTES:
        raise ValueError(f"the logo is {len(data):,} bytes; the limit is {MAX_LOGO_BYTES:,}")
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def _load(path: Path) -> _document.Document:
    raw = _profile.read_file(path, IPExpertError)
    try:
        return _document.load(raw, str(path))
    except _document.YAMLInputError as exc:
        raise IPExpertError(exc.problem) from None
