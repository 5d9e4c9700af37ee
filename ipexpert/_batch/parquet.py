"""Batch inputs and outputs beyond local JSON Lines: Parquet tables and fsspec URLs (needs the [dask] extra).

Inputs: a Parquet file with one profile per row, as JSON or YAML text in a named column
(row N is named `profiles.parquet#N`, counting from 1), or a JSON Lines file or a folder at
an fsspec URL (`s3://bucket/profiles.jsonl`). Local JSON Lines files and folders are read
by `local.collect` as before.

Outputs: two Parquet files in a folder, for pandas or DuckDB:

- `inputs.parquet`, one row per input in input order: id, status (`evaluated` or the error
  kind), error (the problems, one `FILE:LINE:COL: message (at $.path)` per line; null if none);
- `recommendations.parquet`, one row per recommendation in outline order: input_id, id,
  rule, category, priority, due (a date, or null), markets and assets (lists of text), title.
"""

from __future__ import annotations

import datetime
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ipexpert._batch import local as _local
from ipexpert._common import output as _output
from ipexpert._errors import IPExpertError, Problem

PARQUET_SUFFIXES = (".parquet", ".pq")
TABLE_FILES = ("inputs.parquet", "recommendations.parquet")
MANIFEST = "manifest.json"
ROWS_PER_GROUP = 20_000


def missing_extra(exc: ImportError) -> IPExpertError:
    """The one-line error for a missing optional package of the [dask] extra."""
    return IPExpertError(
        Problem(
            "<batch>",
            None,
            None,
            "$",
            f"this needs the optional Dask packages ({exc.name} is missing): pip install 'ipexpert[dask]'",
        )
    )


def _require():
    try:
        import fsspec  # noqa: F401
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError as exc:
        raise missing_extra(exc) from None


def is_url(source) -> bool:
    """True for an fsspec URL such as s3://bucket/key or memory://x (file:// too)."""
    return "://" in str(source)


def is_parquet(source) -> bool:
    return str(source).lower().endswith(PARQUET_SUFFIXES)


@dataclass
class Inputs:
    """The inputs of a batch, read lazily in order; *count* is known before reading when it is cheap."""

    count: int | None
    items: Callable[[], Iterator[tuple]]

    def __iter__(self):
        return self.items()


def open_inputs(source, column: str = "profile") -> Inputs:
    """The inputs in *source*: a local JSON Lines file or folder, a Parquet file, or any of these at a URL."""
    source = str(source)
    if not is_url(source) and not is_parquet(source):
        items = _local.collect(source)
        return Inputs(len(items), lambda: iter(items))
    _require()
    if is_parquet(source):
        return _parquet_inputs(source, column)
    return _url_inputs(source)


def _cannot_read(source, exc) -> IPExpertError:
    message = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return IPExpertError(Problem(str(source), None, None, "$", f"cannot read: {message}"))


def _parquet_inputs(source: str, column: str) -> Inputs:
    import fsspec
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with fsspec.open(source, "rb") as handle:
            parquet = pq.ParquetFile(handle)
            schema, count = parquet.schema_arrow, parquet.metadata.num_rows
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise _cannot_read(source, exc) from None
    if column not in schema.names:
        names = ", ".join(schema.names) or "none"
        raise IPExpertError(
            Problem(source, None, None, "$", f"no column {column!r} (columns: {names}); name the profile column with --column")
        )
    kind = schema.field(column).type
    if not (
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind)
    ):
        raise IPExpertError(
            Problem(source, None, None, "$", f"column {column!r} holds {kind}, not the JSON or YAML text of a profile")
        )

    def items():
        number = 0
        try:
            with fsspec.open(source, "rb") as handle:
                for batch in pq.ParquetFile(handle).iter_batches(batch_size=4096, columns=[column]):
                    for text in batch.column(0).to_pylist():
                        number += 1
                        yield ("text", f"{source}#{number}", "" if text is None else text)
        except (OSError, pa.ArrowException) as exc:
            raise _cannot_read(source, exc) from None

    return Inputs(count, items)


def _url_inputs(source: str) -> Inputs:
    """A JSON Lines file or a folder of profiles at an fsspec URL, named by their URLs."""
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(source)
        folder = fs.isdir(path)
        if folder:
            names = sorted(
                name
                for name in fs.ls(path, detail=False)
                if name.lower().endswith(_local.SUFFIXES) and not os.path.basename(name).startswith(".") and fs.isfile(name)
            )
    except (OSError, ValueError, ImportError) as exc:
        raise _cannot_read(source, exc) from None
    if folder:
        urls = [fs.unstrip_protocol(name) for name in names]

        def files():
            for url in urls:
                try:
                    with fsspec.open(url, "rb") as handle:
                        raw = handle.read()
                except OSError as exc:
                    raise _cannot_read(url, exc) from None
                yield ("text", url, raw)

        return Inputs(len(urls), files)

    def lines():
        try:
            with fsspec.open(source, "rb") as handle:
                yield from _local.json_lines(handle, source)
        except OSError as exc:
            raise _cannot_read(source, exc) from None

    return Inputs(None, lines)


# ---------------------------------------------------------------- output tables


def _schemas():
    import pyarrow as pa

    inputs = pa.schema([("id", pa.string()), ("status", pa.string()), ("error", pa.string())])
    recommendations = pa.schema(
        [
            ("input_id", pa.string()),
            ("id", pa.string()),
            ("rule", pa.string()),
            ("category", pa.string()),
            ("priority", pa.string()),
            ("due", pa.date32()),
            ("markets", pa.list_(pa.string())),
            ("assets", pa.list_(pa.string())),
            ("title", pa.string()),
        ]
    )
    return inputs, recommendations


def rows(record: dict) -> tuple[tuple, list[tuple]]:
    """(the inputs row, the recommendation rows) of one batch record."""
    name = record["input"]
    if "error" in record:
        error = record["error"]
        text = "\n".join(Problem(**problem).format() for problem in error["problems"])
        return (name, error["kind"], text or None), []
    recommendations = [
        (
            name,
            item["id"],
            item["rule"],
            item["category"],
            item["priority"],
            datetime.date.fromisoformat(item["due"]) if item.get("due") else None,
            list(item.get("markets", [])),
            list(item.get("assets", [])),
            item.get("title"),
        )
        for item in record["outline"]["recommendations"]
    ]
    return (name, "evaluated", None), recommendations


def _is_local(fs) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in ("file", "local")


def _sha256(fs, path: str) -> str:
    import hashlib

    digest = hashlib.sha256()
    with fs.open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _locked_open(path: str):
    """A new file at *path*, locked as `_output`'s temporary files are, so only a dead run's is taken for stale."""
    handle = open(path, "wb")  # noqa: SIM115 - closed by TableWriter.close or abort
    if _output.fcntl is not None:
        _output.fcntl.flock(handle.fileno(), _output.fcntl.LOCK_EX)
    return handle


class TableWriter:
    """Writes the two tables into the folder *output* (a path or URL); they appear only on `close`.

    Both are written under temporary names first (on a local disk, locked, so that a run killed
    part-way leaves files the next run in that folder removes, and a live run's are left alone).
    On `close` the old `manifest.json` goes first, then both tables move into place, then a new
    manifest gives each table's rows and SHA-256: a folder with a manifest holds the two tables it
    describes, written by one run, and one without is being replaced (or a run died doing it).
    """

    def __init__(self, output):
        _require()
        import fsspec

        self.output = str(output)
        try:
            self.fs, self.folder = fsspec.core.url_to_fs(self.output)
            self.fs.makedirs(self.folder, exist_ok=True)
        except (OSError, ValueError) as exc:
            raise IPExpertError(
                Problem(self.output, None, None, "$", f"cannot write: {getattr(exc, 'strerror', None) or exc}")
            ) from None
        self.local = _is_local(self.fs)
        if self.local:
            _output.remove_stale(self.folder)
        tag = uuid.uuid4().hex[:12]
        self.temporary = [self.fs.sep.join([self.folder, f".ipexpert-{tag}-{name}.tmp"]) for name in TABLE_FILES]
        self.final = [self.fs.sep.join([self.folder, name]) for name in TABLE_FILES]
        self.buffers: tuple[list, list] = ([], [])
        self.rows = [0, 0]
        self.handles: list = []
        self.writers: list = []
        try:
            import pyarrow.parquet as pq

            for path, schema in zip(self.temporary, _schemas()):
                handle = _locked_open(path) if self.local else self.fs.open(path, "wb")
                self.handles.append(handle)
                self.writers.append(pq.ParquetWriter(handle, schema))
        except OSError as exc:
            self.abort()
            raise IPExpertError(Problem(self.output, None, None, "$", f"cannot write: {exc.strerror or exc}")) from None

    def add(self, input_row: tuple, recommendation_rows: list[tuple]) -> None:
        self.buffers[0].append(input_row)
        self.buffers[1].extend(recommendation_rows)
        if len(self.buffers[0]) >= ROWS_PER_GROUP:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        for index, (writer, buffer) in enumerate(zip(self.writers, self.buffers)):
            if buffer:
                schema = writer.schema
                columns = list(zip(*buffer))
                writer.write_table(
                    pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, schema)], schema=schema)
                )
                self.rows[index] += len(buffer)
                buffer.clear()

    def close(self) -> None:
        """Write what is left, then replace the old manifest and tables by the new tables and manifest."""
        manifest = self.fs.sep.join([self.folder, MANIFEST])
        try:
            self._flush()
            for writer in self.writers:
                writer.close()
            for handle in self.handles:
                if self.local:
                    handle.flush()
                else:
                    handle.close()  # a remote file is sent when it is closed
            digests = [_sha256(self.fs, tmp) for tmp in self.temporary]
            if self.fs.exists(manifest):
                self.fs.rm(manifest)
            for tmp, path in zip(self.temporary, self.final):
                self.fs.mv(tmp, path)  # still locked on a local disk: no other run takes it for stale
            for handle in self.handles:
                handle.close()
            tables = {name: {"rows": rows, "sha256": digest} for name, rows, digest in zip(TABLE_FILES, self.rows, digests)}
            text = json.dumps({"tables": tables}, indent=2, sort_keys=True) + "\n"
            if self.local:
                _output.write_atomic(manifest, text)
            else:
                with self.fs.open(manifest, "w") as out:
                    out.write(text)
        except OSError as exc:
            self.abort()
            raise IPExpertError(Problem(self.output, None, None, "$", f"cannot write: {exc.strerror or exc}")) from None

    def abort(self) -> None:
        """Remove the temporary files; nothing half-written is left behind."""
        for writer in self.writers:
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - already failing; the files are removed next
                pass
        for handle in self.handles:
            try:
                handle.close()
            except Exception:  # noqa: BLE001
                pass
        for tmp in self.temporary:
            try:
                self.fs.rm(tmp)
            except (OSError, FileNotFoundError):
                pass

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.close()
        else:
            self.abort()
        return False


def jsonl_to_tables(jsonl_path, output) -> None:
    """The two tables from a batch's JSON Lines file (to compare the formats' sizes, as bench/dask_scale.py does)."""
    with TableWriter(output) as writer, open(jsonl_path, encoding="utf-8") as lines:
        for line in lines:
            writer.add(*rows(json.loads(line)))


def local_tables(inputs, output, *, rule_paths=(), defaults=True, as_of=None, jobs=1, progress=None) -> _local.Summary:
    """The local engine into two tables, each record added as it comes: nothing is written anywhere else first."""
    import time

    from ipexpert import _api

    _require()
    start = time.monotonic()
    as_of = _api.parse_date(as_of)
    rules = _api.load_rules(*rule_paths, defaults=defaults)  # a broken pack stops here, before any file is made
    evaluated = invalid = 0
    with TableWriter(output) as writer:
        for ok, record in _local.records(
            list(inputs), rule_paths=rule_paths, defaults=defaults, as_of=as_of, jobs=jobs, rules=rules
        ):
            writer.add(*rows(record))
            evaluated += ok
            invalid += not ok
            if progress is not None:
                progress(1)
    return _local.Summary(evaluated, invalid, time.monotonic() - start)
