"""The client book: the profiles in folders and files, each evaluated once, as batch evaluates them.

A client is one profile, named by its firm name. A profile that cannot be read or is invalid
is kept as a failed client with its problems, so a command can list it and answer the rest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ipexpert._batch import local as _batch
from ipexpert._errors import IPExpertError, Problem

LEDGER_PATH = Path(".ipexpert") / "ledger.sqlite"


@dataclass(frozen=True)
class Client:
    """One profile of the book and what its evaluation gave: an outline (as its JSON data) or problems."""

    file: str
    name: str  # the firm's name; the file's name when the profile could not be read
    profile_hash: str  # SHA-256 of the profile's bytes ("" when they could not be read)
    outline: dict | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outline is not None


def items(paths) -> list[tuple]:
    """The book's profiles as batch inputs: each folder's *.yaml, *.yml and *.json sorted by name, then each file."""
    out: list[tuple] = []
    for path in paths:
        if Path(path).is_dir():
            out.extend(_batch.collect(path))
        elif Path(path).exists():
            out.append(("file", str(path)))
        else:
            raise IPExpertError(Problem(str(path), None, None, "$", "no such file or folder"))
    return out


def evaluate(paths, *, rule_paths=(), defaults=True, as_of=None, lang=None, jobs=1, rules=None, progress=None) -> list[Client]:
    """Every client of the book in *paths*, evaluated with the packs *rule_paths* (after the bundled ones if *defaults*).

    *progress*, if given, is called with 1 after each client; *jobs* worker processes are used as in `batch`
    (0: one per core).
    """
    inputs = items(paths)
    jobs = jobs or _batch.default_jobs()
    clients = []
    records = _batch.records(inputs, rule_paths=rule_paths, defaults=defaults, as_of=as_of, lang=lang, jobs=jobs, rules=rules)
    for item, (ok, record) in zip(inputs, records):
        clients.append(_client(item[1], ok, record))
        if progress is not None:
            progress(1)
    return clients


def _client(file: str, ok: bool, record: dict) -> Client:
    digest = _hash(file)
    if ok:
        return Client(file, record["outline"]["firm"]["name"], digest, outline=record["outline"])
    problems = [Problem(**p) for p in record["error"]["problems"]]
    return Client(file, Path(file).stem, digest, problems=problems)


def _hash(file: str) -> str:
    try:
        return hashlib.sha256(Path(file).read_bytes()).hexdigest()
    except OSError:
        return ""


def failures(clients) -> list[Problem]:
    """The problems of every failed client, in book order, each once (a book evaluated twice lists them once)."""
    return list(dict.fromkeys(problem for client in clients for problem in client.problems))


def default_ledger(paths) -> Path:
    """Where a book keeps its own ledger: BOOK/.ipexpert/ledger.sqlite of the first folder given (or a file's folder)."""
    first = Path(paths[0])
    return (first if first.is_dir() else first.parent) / LEDGER_PATH
