"""A cache of checked rule packs, so a pack is parsed and validated once, not on every run.

Reading the bundled packs was two thirds of a cold `evaluate`, nearly all of it YAML parsing
and JSON Schema validation of files that do not change between runs. A pack that passed
both is kept in the user's cache folder as plain JSON (its data and the line and column of
every value), named by the SHA-256 of the ipexpert version, the rule-pack schema, the ISO
country list the codes are checked against, and the pack's bytes: an edited pack, schema,
country list or release never finds an old entry. Entries hold data only (no pickle,
nothing that runs): each carries the SHA-256 of its own body, and one that does not match,
does not parse or has the wrong shape is ignored and written again. A folder that cannot be
written (a read-only home) means no cache, with the same result. `IPEXPERT_NO_CACHE=1`
turns the cache off.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

from ipexpert._common import resources as _resources
from ipexpert._reading.document import Document

FORMAT = 1
KEEP = 256  # entries kept in the folder (the bundled packs of a release are 11); the oldest go first


def enabled() -> bool:
    """False when IPEXPERT_NO_CACHE is set (to anything but 0)."""
    return os.environ.get("IPEXPERT_NO_CACHE", "") in ("", "0")


def folder() -> Path:
    """The folder of cached packs inside the user's cache directory (platformdirs)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("ipexpert", appauthor=False)) / "packs"


def key(raw: bytes) -> str:
    """The name of the entry for a pack's bytes, under this release, rule-pack schema and country list."""
    from ipexpert import __version__

    digest = hashlib.sha256()
    for part in (b"ipexpert packs", str(FORMAT).encode(), __version__.encode(), _schema_bytes(), _code_list(), raw):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


@functools.cache
def _code_list() -> bytes:
    """The size and time of pycountry's ISO 3166-1 file, which packs' codes are checked against (found without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec("pycountry")
    if spec is None or spec.origin is None:
        return b"no pycountry"
    try:
        info = os.stat(Path(spec.origin).parent / "databases" / "iso3166-1.json")
    except OSError:
        return b"no ISO 3166-1 file"
    return f"{info.st_size} {info.st_mtime_ns}".encode()


@functools.cache
def _schema_bytes() -> bytes:
    return _resources.schema_path("rule-pack.schema.json").read_bytes()


def read(raw: bytes, name: str) -> Document | None:
    """The checked Document of a pack's bytes, named *name*, if a sound entry is cached; else None."""
    if not enabled():
        return None
    entry = key(raw)
    try:
        stored = (folder() / f"{entry}.json").read_bytes()
    except OSError:
        return None
    try:
        return _document(stored, entry, name)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None  # damaged or not ours: rebuilt by the caller


def _document(stored: bytes, entry: str, name: str) -> Document:
    head, _, body = stored.partition(b"\n")
    header = json.loads(head)
    if header != {"format": FORMAT, "key": entry, "sha256": hashlib.sha256(body).hexdigest()}:
        raise ValueError("not the entry for these bytes")
    content = json.loads(body)
    if not isinstance(content["data"], dict):
        raise ValueError("a pack is a mapping")
    return Document(content["data"], name, _positions(content["positions"]), _positions(content["key_positions"]))


def _positions(rows) -> dict:
    # The body's checksum already says ipexpert wrote it; this only refuses a wrong shape.
    return {tuple(path): (line, col) for path, line, col in rows}


def write(raw: bytes, doc: Document) -> None:
    """Keep the checked Document of a pack's bytes; a folder that cannot be written is left alone."""
    if not enabled():
        return
    entry = key(raw)
    content = {
        "data": doc.data,
        "positions": [[list(path), line, col] for path, (line, col) in doc.positions.items()],
        "key_positions": [[list(path), line, col] for path, (line, col) in doc.key_positions.items()],
    }
    try:
        body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError):
        return
    header = json.dumps({"format": FORMAT, "key": entry, "sha256": hashlib.sha256(body).hexdigest()}).encode()
    import tempfile

    temporary = None
    try:
        where = folder()
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=where, prefix=".", suffix=".tmp", delete=False) as handle:
            temporary = handle.name
            handle.write(header + b"\n" + body)
        os.replace(temporary, where / f"{entry}.json")
        temporary = None
        _prune(where)
    except OSError:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def _prune(where: Path) -> None:
    """Remove the oldest entries beyond KEEP (each edit of a pack leaves one behind)."""
    entries = list(where.glob("*.json"))
    if len(entries) <= KEEP:
        return
    entries.sort(key=lambda p: p.stat().st_mtime)
    for old in entries[: len(entries) - KEEP]:
        old.unlink(missing_ok=True)
