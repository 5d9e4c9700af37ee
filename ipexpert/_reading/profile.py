"""Reading a firm profile: from a path, stdin text, a string or a dict, to a checked Document."""

from __future__ import annotations

import datetime
import json
import os
import stat
from pathlib import Path
from typing import NoReturn

from ipexpert._errors import InvalidProfileError, Problem
from ipexpert._reading import document as _document
from ipexpert._reading import schemas as _schemas


def read(source, name: str | None = None) -> _document.Document:
    """Parse *source* (a dict, a YAML/JSON string or bytes, or a path) into a Document.

    Raises InvalidProfileError when it cannot be read; the schema is not checked here.
    """
    if isinstance(source, _document.Document):
        return source
    if isinstance(source, dict):
        return _from_dict(source, name or "<profile>")
    if isinstance(source, os.PathLike) or (isinstance(source, str) and _looks_like_path(source)):
        path = Path(source)
        return parse(read_file(path, InvalidProfileError), name or str(path))
    if isinstance(source, (str, bytes)):
        return parse(source, name or "<profile>")
    raise TypeError(f"a profile is a dict, a YAML/JSON string or a path, not {type(source).__name__}")


def read_file(path, error_class, *, only_regular: bool = False) -> bytes:
    """The bytes of *path* within the size limit, or *error_class* with one problem.

    With *only_regular* (the entries of a folder), the file is opened without blocking and checked
    on the open descriptor, so an entry swapped for a named pipe or a device after the folder was
    listed gives an error, not a hang. Otherwise a pipe (`<(cat p.yaml)`) is read as given.
    """
    name = str(path)

    def fail(message) -> NoReturn:
        raise error_class(Problem(name, None, None, "$", message))

    try:
        fd = os.open(path, os.O_RDONLY | (getattr(os, "O_NONBLOCK", 0) if only_regular else 0))
    except OSError as exc:
        fail(f"cannot read: {exc.strerror or exc}")
    info = os.fstat(fd)
    if only_regular and not stat.S_ISREG(info.st_mode):
        os.close(fd)
        fail(f"not a regular file ({_KINDS.get(stat.S_IFMT(info.st_mode), 'a special file')}); only files are read from a folder")
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > _document.MAX_BYTES:
            fail(f"file is {info.st_size:,} bytes; the limit is {_document.MAX_BYTES:,} bytes")
        try:
            return handle.read(_document.MAX_BYTES + 1)
        except OSError as exc:
            fail(f"cannot read: {exc.strerror or exc}")


_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def parse(text, name: str) -> _document.Document:
    try:
        return _document.load(text, name)
    except _document.YAMLInputError as exc:
        raise InvalidProfileError(exc.problem) from None


def _looks_like_path(text: str) -> bool:
    return "\n" not in text and len(text) < 4096 and text.strip() == text and text.endswith((".yaml", ".yml", ".json"))


def _looks_like_a_file_name(text: str) -> bool:
    """A one-word string with a dot or a slash (`P.txt`, `profiles/acme`): a path meant, not a value."""
    return len(text) < 4096 and not any(c.isspace() for c in text) and ("." in text or "/" in text or os.sep in text)


def _from_dict(data: dict, name: str) -> _document.Document:
    # A dict from a program has no lines; round-trip through JSON to reject what JSON cannot hold.
    try:
        text = json.dumps(data, allow_nan=False, default=_date_text)
    except (TypeError, ValueError) as exc:
        raise InvalidProfileError(Problem(name, None, None, "$", f"not JSON-like data: {exc}")) from None
    doc = parse(text, name)
    doc.positions.clear()
    doc.key_positions.clear()
    return doc


def _date_text(value):
    import datetime

    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not allowed")


def problems(doc: _document.Document) -> list[Problem]:
    """Everything wrong with a parsed profile: schema first, then consistency."""
    if isinstance(doc.data, str) and _looks_like_a_file_name(doc.data):
        message = (
            f"took {doc.data!r} for YAML text, which reads as a single value; a file is read when its name ends"
            " in .yaml, .yml or .json, or when it is given as a pathlib.Path"
        )
        return [doc.problem((), message)]
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else "a single value"
        return [doc.problem((), f"a profile is a mapping with firm: and markets:, not {kind}")]
    found = _schemas.check(doc, "profile")
    if found:
        return found
    return consistency(doc)


def check(doc: _document.Document) -> _document.Document:
    """Return *doc* if it is a valid profile, else raise InvalidProfileError with every problem."""
    found = problems(doc)
    if found:
        raise InvalidProfileError(found)
    return doc


def consistency(doc: _document.Document) -> list[Problem]:
    """What the schema cannot see: duplicates, products sold in unlisted markets, impossible dates."""
    data = doc.data
    found = []
    codes: dict = {}
    for i, market in enumerate(data["markets"]):
        code = market["code"]
        if code in codes:
            found.append(
                doc.problem(("markets", i, "code"), f"market {code} is listed twice (first at $.markets[{codes[code]}])")
            )
        codes.setdefault(code, i)
        found += _dates_in_range(doc, ("markets", i), market, ("launch_date",))
        if market["status"] == "active" and "launch_date" in market:
            found.append(
                doc.problem(
                    ("markets", i, "launch_date"),
                    "launch_date is for planned markets; this market is active (remove it, or set status: planned)",
                )
            )
    history = data.get("history", {})
    found += _dates_in_range(doc, ("history",), history, ("tro_served",))
    names: dict = {}
    for i, product in enumerate(data.get("products", [])):
        found += _dates_in_range(doc, ("products", i), product, ("first_disclosed",))
        if product["name"] in names:
            found.append(doc.problem(("products", i, "name"), f"product {product['name']!r} is listed twice"))
        names.setdefault(product["name"], i)
        for j, code in enumerate(product.get("markets", [])):
            if code not in codes:
                found.append(
                    doc.problem(
                        ("products", i, "markets", j),
                        f"product sold in {code}, which is not among the firm's markets ({', '.join(codes)})",
                    )
                )
    assets: dict = {}
    for i, asset in enumerate(data.get("ip_assets", [])):
        key = (asset["type"], asset["name"])
        if key in assets:
            found.append(doc.problem(("ip_assets", i, "name"), f"{asset['type']} {asset['name']!r} is listed twice"))
        assets.setdefault(key, i)
        for name in ("invented_in", "security_examination"):
            if name in asset and asset["type"] not in ("patent", "utility_model"):
                found.append(
                    doc.problem(("ip_assets", i, name), f"{name} is for patents and utility models, not a {asset['type']}")
                )
        for j, reg in enumerate(asset.get("registrations", [])):
            where = ("ip_assets", i, "registrations", j)
            found += _dates_in_range(doc, where, reg, ("filed", "registered", "expires"))
            if "filed" in reg and "expires" in reg and reg["expires"] <= reg["filed"]:
                found.append(
                    doc.problem(where + ("expires",), f"expires {reg['expires']}, not after it was filed ({reg['filed']})")
                )
            found += _registration_date(doc, where, asset["type"], reg)
            if reg.get("designations") and reg["jurisdiction"] != "WO":
                found.append(doc.problem(where + ("designations",), "designations are only for international (WO) registrations"))
    return found


FIRST_DATE, LAST_DATE = "1800-01-01", "2200-12-31"

# The shortest time from filing to registration an office allows, in months, with the law that sets it.
# China: examination, then publication and a 3-month opposition period before registration
# (Trademark Law arts. 28, 33, 34; http://www.npc.gov.cn/zgrdw/englishnpc/Law/2007-12/11/content_1383570.htm).
MIN_MONTHS_TO_REGISTER = {
    ("trademark", "CN"): (
        6,
        "a Chinese trademark is registered only after examination and a 3-month opposition period after publication (Trademark Law arts. 28, 33)",
    ),
}


def _registration_date(doc, where, asset_type, reg) -> list[Problem]:
    """A registration date must fit the status and the filing date, and the office's shortest procedure."""
    if "registered" not in reg:
        return []
    found = []
    if reg["status"] in ("pending", "opposed", "refused"):
        found.append(
            doc.problem(
                where + ("registered",),
                f"a registration date is given, but the status is {reg['status']} (set status: registered, or remove the date)",
            )
        )
    if "filed" not in reg:
        return found
    if reg["registered"] < reg["filed"]:
        found.append(
            doc.problem(where + ("registered",), f"registered {reg['registered']}, before it was filed ({reg['filed']})")
        )
        return found
    rule = MIN_MONTHS_TO_REGISTER.get((asset_type, reg["jurisdiction"]))
    if rule is not None:
        months, why = rule
        filed, registered = (datetime.date.fromisoformat(reg[k]) for k in ("filed", "registered"))
        elapsed = (registered.year - filed.year) * 12 + registered.month - filed.month - (registered.day < filed.day)
        if elapsed < months:
            found.append(
                doc.problem(
                    where + ("registered",),
                    f"registered {elapsed} month(s) after filing in {reg['jurisdiction']}, which is not possible: {why}; check both dates",
                )
            )
    return found


def _dates_in_range(doc, where, item: dict, names) -> list[Problem]:
    """Dates far outside the years of trade would overflow the rules' date arithmetic."""
    return [
        doc.problem(where + (name,), f"{item[name]} is out of range; a date here is between {FIRST_DATE} and {LAST_DATE}")
        for name in names
        if name in item and not FIRST_DATE <= item[name] <= LAST_DATE
    ]
