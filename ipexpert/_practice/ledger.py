"""The ledger: every recorded evaluation of a client, so a review can say what changed since the last.

A ledger is a SQLite file (a book keeps its own in BOOK/.ipexpert/ledger.sqlite) or a
PostgreSQL database that a firm's consultants share (`postgresql://...`, through psycopg,
the `ipexpert[postgres]` extra). Each record keeps the client, its file, the profile's hash,
the as-of date, the ipexpert version, the rule packs and their versions, the outline's JSON
and when it was recorded. A review writes all its records in one transaction, so two reviews
of one book at once each land whole, one after the other.
"""

from __future__ import annotations

import datetime
import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ipexpert._errors import IPExpertError, Problem

TABLE = "ipexpert_evaluations"
COLUMNS = ("client", "file", "profile_hash", "as_of", "ipexpert_version", "rule_packs", "outline", "recorded_at")
SQLITE_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  client TEXT NOT NULL, file TEXT NOT NULL, profile_hash TEXT NOT NULL, as_of TEXT NOT NULL,
  ipexpert_version TEXT NOT NULL, rule_packs TEXT NOT NULL, outline TEXT NOT NULL, recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS {TABLE}_client ON {TABLE} (client, id);
"""
POSTGRES_SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  client TEXT NOT NULL, file TEXT NOT NULL, profile_hash TEXT NOT NULL, as_of TEXT NOT NULL,
  ipexpert_version TEXT NOT NULL, rule_packs TEXT NOT NULL, outline TEXT NOT NULL, recorded_at TEXT NOT NULL
)""",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_client ON {TABLE} (client, id)",
)
SCHEMA_LOCK = 0x69706578  # a PostgreSQL advisory lock, so two first reviews do not both create the table
RECORD_LOCK = 0x69706579  # and one held while a review records, so two reviews record one after the other
BUSY_SECONDS = 60  # how long SQLite waits for another review's transaction before giving up


@dataclass(frozen=True)
class Record:
    """One recorded evaluation of one client."""

    client: str
    file: str
    profile_hash: str
    as_of: str
    ipexpert_version: str
    rule_packs: list
    outline: dict
    recorded_at: str

    def row(self) -> tuple:
        packs = json.dumps(self.rule_packs, ensure_ascii=False)
        outline = json.dumps(self.outline, ensure_ascii=False, sort_keys=True)
        return (self.client, self.file, self.profile_hash, self.as_of, self.ipexpert_version, packs, outline, self.recorded_at)

    @classmethod
    def from_row(cls, row) -> Record:
        client, file, digest, as_of, version, packs, outline, recorded_at = row
        return cls(client, file, digest, as_of, version, json.loads(packs), json.loads(outline), recorded_at)


def now() -> str:
    """The time a record is made, in UTC to the second."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def is_postgres(url: str) -> bool:
    return str(url).startswith(("postgresql://", "postgres://"))


def shown(url) -> str:
    """The ledger's URL as it may be printed: without a password."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", str(url))


def open_ledger(url, create: bool = True) -> Ledger:
    """The ledger at *url*: `postgresql://...`, `sqlite:///path`, or a path to a SQLite file (created if missing and *create*)."""
    if is_postgres(url):
        return PostgresLedger(str(url))
    path = Path(str(url).removeprefix("sqlite://") if str(url).startswith("sqlite:///") else str(url))
    if not create and not path.exists():
        raise IPExpertError(
            Problem(str(path), None, None, "$", "no ledger here yet: `ipexpert review BOOK` records the first evaluations")
        )
    return SQLiteLedger(path)


class Ledger:
    """What both databases do, in SQL they both read; `?` marks a parameter."""

    placeholder = "?"
    where: str

    def _sql(self, text: str) -> str:
        return text.replace("?", self.placeholder)

    def _fail(self, exc: Exception):
        message = " ".join(str(exc).split()) or type(exc).__name__
        return IPExpertError(Problem(shown(self.where), None, None, "$", f"the ledger cannot be used: {message}"))

    def _rows(self, sql: str, params: tuple) -> list:
        raise NotImplementedError

    def last(self, client: str, file: str) -> Record | None:
        """The last recorded evaluation of *client*; of the same file when the client's name is in several."""
        rows = self._rows(
            f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE client = ? ORDER BY CASE WHEN file = ? THEN 0 ELSE 1 END, id DESC LIMIT 1",
            (client, file),
        )
        return Record.from_row(rows[0]) if rows else None

    def history(self, client: str) -> list[Record]:
        """Every recorded evaluation of *client*, oldest first."""
        return [
            Record.from_row(row)
            for row in self._rows(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE client = ? ORDER BY id", (client,))
        ]

    def count(self) -> int:
        return int(self._rows(f"SELECT COUNT(*) FROM {TABLE}", ())[0][0])

    def record(self, records: list[Record]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _insert_sql(self) -> str:
        return self._sql(f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})")


class SQLiteLedger(Ledger):
    """A ledger in one SQLite file (write-ahead log, so readers never wait for a writer)."""

    def __init__(self, path: Path):
        self.where = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise self._fail(exc) from None
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(SQLITE_SCHEMA)
        except sqlite3.Error as exc:
            self.db.close()  # not a ledger (another kind of file, or locked): let go of it before saying so
            raise self._fail(exc) from None

    def _rows(self, sql: str, params: tuple) -> list:
        try:
            return self.db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def record(self, records: list[Record]) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.executemany(self._insert_sql(), [r.row() for r in records])
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def close(self) -> None:
        self.db.close()


class PostgresLedger(Ledger):
    """A ledger in a PostgreSQL database, shared by a firm's consultants."""

    placeholder = "%s"

    def __init__(self, url: str):
        self.where = url
        try:
            import psycopg
        except ImportError:
            raise IPExpertError(
                Problem(shown(url), None, None, "$", "a PostgreSQL ledger needs psycopg: pip install 'ipexpert[postgres]'")
            ) from None
        self.errors = (psycopg.Error,)
        try:
            self.db = psycopg.connect(url, autocommit=False)
        except psycopg.Error as exc:
            raise self._fail(exc) from None
        try:
            with self.db.transaction():
                self.db.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                for statement in POSTGRES_SCHEMA:
                    self.db.execute(statement)
        except psycopg.Error as exc:
            self.db.close()
            raise self._fail(exc) from None

    def _rows(self, sql: str, params: tuple) -> list:
        try:
            with self.db.transaction():
                return self.db.execute(self._sql(sql), params).fetchall()
        except self.errors as exc:
            raise self._fail(exc) from None

    def record(self, records: list[Record]) -> None:
        try:
            with self.db.transaction(), self.db.cursor() as cursor:
                # One review's records after another's, as SQLite's BEGIN IMMEDIATE gives: ids never interleave.
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (RECORD_LOCK,))
                cursor.executemany(self._insert_sql(), [r.row() for r in records])
        except self.errors as exc:
            raise self._fail(exc) from None

    def close(self) -> None:
        self.db.close()
