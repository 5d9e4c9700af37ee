"""Evaluating many profiles in one run: one JSON line per input, in input order, written atomically.

The inputs are the non-blank lines of a JSON Lines file, or the *.yaml, *.yml and *.json
files of a folder sorted by name. Each input yields exactly one record, on one line:

    {"input": "profiles.jsonl:17", "outline": {...the outline's to_dict()...}}
    {"input": "profiles.jsonl:18", "error": {"kind": "invalid_profile", "problems": [{...}, ...]}}

With more than one job the profiles are evaluated in worker processes, each compiling the
rule base once and ending with the batch; only plain tuples, bytes and strings cross between
processes. Only regular files are read from a folder: any other entry gets an error record.
"""

from __future__ import annotations

import collections
import itertools
import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from ipexpert import _api
from ipexpert._batch import resume as _resume
from ipexpert._common import processes as _processes
from ipexpert._common import values as _values
from ipexpert._common.output import atomic_file
from ipexpert._errors import EvaluationError, InvalidProfileError, IPExpertError, Problem, ProfileTooLargeError, one_line
from ipexpert._reading import document as _document
from ipexpert._reading import profile as _profile

SUFFIXES = (".yaml", ".yml", ".json")
ERROR_KINDS = {
    InvalidProfileError: "invalid_profile",
    EvaluationError: "evaluation_failed",
    ProfileTooLargeError: "profile_too_large",
}
IN_FLIGHT_PER_JOB = 4
WORKER_LOST = "the process evaluating this profile died (out of memory, or killed), and again when it was tried alone"


@dataclass(frozen=True)
class Summary:
    """What a batch did, for the line printed at its end."""

    evaluated: int
    invalid: int
    seconds: float
    kept: int = 0  # records kept from an earlier run (--resume), counted in evaluated and invalid too

    def format(self) -> str:
        total = self.evaluated + self.invalid
        rate = (total - self.kept) / self.seconds if self.seconds > 0 else 0.0
        kept = f"; {self.kept} kept from an earlier run" if self.kept else ""
        return (
            f"{total} inputs: {self.evaluated} evaluated, {self.invalid} invalid in {self.seconds:.1f} s"
            f" ({rate:.0f} profiles/s{kept})"
        )


def collect(source) -> list[tuple]:
    """The inputs in *source* (a JSON Lines file or a folder), in order, as plain tuples.

    A folder gives ("file", path); a JSON Lines file gives ("line", path, line number, bytes);
    `-` is JSON Lines read from standard input, its lines named `<stdin>:N`.
    """
    if str(source) == "-":
        return list(json_lines(sys.stdin.buffer, "<stdin>"))
    path = Path(source)
    try:
        if path.is_dir():
            # Every entry with a profile's suffix: one that is not a regular file gets an error record.
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and not p.name.startswith("."))
            return [("file", str(p)) for p in files]
        with open(path, "rb") as handle:
            return list(json_lines(handle, str(path)))
    except OSError as exc:
        raise IPExpertError(Problem(str(path), None, None, "$", f"cannot read: {exc.strerror or exc}")) from None


def json_lines(handle, name: str):
    """("line", name, line number, bytes) for each non-blank line of a JSON Lines stream, local or remote."""
    for number, raw in enumerate(handle, 1):
        if raw.strip():
            yield ("line", name, number, raw)


def input_name(item: tuple) -> str:
    """`folder/a.yaml`, or `profiles.jsonl:17` for a line; a ("text", name, text) item is named by itself."""
    return item[1] if item[0] in ("file", "text") else f"{item[1]}:{item[2]}"


def run(items, output, *, rule_paths=(), defaults=True, as_of=None, jobs=1, progress=None, resume=False) -> Summary:
    """Evaluate *items* (from `collect`) and write one record per item to *output*.

    *output* is written atomically when it is a regular file; `-` is standard output, and a
    pipe or a device is written through (see `_output.atomic_file`).

    The rule packs are compiled here first, so a broken pack stops the batch before any work;
    *progress*, if given, is called with the number of inputs just finished. With *resume*,
    the records an earlier run wrote for the leading inputs are kept (see `resume`).
    """
    start = time.monotonic()
    as_of = _api.parse_date(as_of)  # one date for the whole batch, even across midnight
    rules = _api.load_rules(*rule_paths, defaults=defaults)
    items = list(items)
    kept = _resume.kept_records([input_name(i) for i in items], output, as_of, rules) if resume else []
    evaluated = invalid = 0
    with atomic_file(output) as out:
        results = _results(items[len(kept) :], rules, (tuple(map(str, rule_paths)), defaults, as_of), jobs)
        for ok, line in itertools.chain(kept, results):
            out.write(line)
            evaluated += ok
            invalid += not ok
            if progress is not None:
                progress(1)
    return Summary(evaluated, invalid, time.monotonic() - start, len(kept))


def evaluate_item(item: tuple, rules, as_of, lang=None) -> tuple[bool, str]:
    """(True, outline record) or (False, error record) for one input, as one JSON line."""
    ok, record = evaluate_record(item, rules, as_of, lang)
    return ok, json_line(record)


def evaluate_record(item: tuple, rules, as_of, lang=None) -> tuple[bool, dict]:
    """(True, outline record) or (False, error record) for one input, as a dict."""
    name = input_name(item)
    try:
        outline = _api.evaluate(_item_document(item), rules, as_of, lang=lang)
        record, ok = {"input": name, "outline": outline.to_dict()}, True
    except IPExpertError as exc:
        record, ok = _error(name, ERROR_KINDS.get(type(exc), "invalid_profile"), exc.problems), False
    except Exception as exc:  # noqa: BLE001 - a bug met by one profile must not stop the batch
        message = f"internal error: {type(exc).__name__}: {one_line(exc)}"
        record, ok = _error(name, "internal_error", [Problem(name, None, None, "$", message)]), False
    return ok, record


def worker_lost(item: tuple) -> dict:
    """The error record of an input whose evaluation killed its process each time it was tried."""
    name = input_name(item)
    return _error(name, "worker_lost", [Problem(name, None, None, "$", WORKER_LOST)])


def json_line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False) + "\n"


def _error(name: str, kind: str, problems) -> dict:
    return {"input": name, "error": {"kind": kind, "problems": [p.to_dict() for p in problems]}}


def records(items, *, rule_paths=(), defaults=True, as_of=None, lang=None, jobs=1, rules=None):
    """(ok, record) for each of *items* (from `collect`), in input order, evaluated as a batch evaluates them.

    For callers that want the records rather than a file (the consultant's agenda, review and
    pack-release diff); *rules*, when given, must be the packs *rule_paths* and *defaults* load.
    """
    as_of = _api.parse_date(as_of)
    rules = rules if rules is not None else _api.load_rules(*rule_paths, defaults=defaults)
    for ok, line in _results(list(items), rules, (tuple(map(str, rule_paths)), defaults, as_of, lang), jobs):
        yield ok, json.loads(line)


def _results(items, rules, spec, jobs, work=None):
    """(ok, line) for each item, in input order; in this process, or in *jobs* worker processes.

    When a worker process dies (killed, or out of memory), the profiles it and the others had in
    hand are evaluated again one at a time, each in a fresh process, so the one that kills its
    process gets a `worker_lost` error record and every other profile its outline.
    """
    if jobs <= 1 or len(items) <= 1:
        as_of, lang = spec[2], spec[3] if len(spec) > 3 else None
        for item in items:
            yield evaluate_item(item, rules, as_of, lang)
        return
    work = work or _evaluate_chunk
    size = max(1, min(16, len(items) // (jobs * IN_FLIGHT_PER_JOB)))
    chunks = collections.deque(items[i : i + size] for i in range(0, len(items), size))
    while chunks:
        lost = yield from _in_pool(chunks, spec, jobs, work)
        yield from _one_at_a_time(lost, spec, work)


def _pool(jobs, spec):
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
    return concurrent.futures.ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_start_worker, initargs=(os.getpid(), *spec)
    )


def _in_pool(chunks, spec, jobs, work):
    """Yield the results of *chunks* (taken from the left as sent) in order; return the items lost if the pool broke."""
    from concurrent.futures.process import BrokenProcessPool

    pending: collections.deque = collections.deque()  # (chunk, future), in input order
    try:
        with _pool(jobs, spec) as pool:
            while chunks or pending:
                while chunks and len(pending) < jobs * IN_FLIGHT_PER_JOB:
                    chunk = chunks.popleft()
                    pending.append([chunk, None])
                    pending[-1][1] = pool.submit(work, chunk)
                results = pending[0][1].result()
                pending.popleft()
                yield from results
    except BrokenProcessPool:
        return [item for chunk, _ in pending for item in chunk]
    return []


def _one_at_a_time(items, spec, work):
    """Each of *items* alone in a one-process pool, a fresh one after each death: the death is that item's."""
    from concurrent.futures.process import BrokenProcessPool

    pool = None
    try:
        for item in items:
            pool = pool or _pool(1, spec)
            try:
                yield from pool.submit(work, [item]).result()
            except BrokenProcessPool:
                pool.shutdown(wait=True)
                pool = None
                yield False, json_line(worker_lost(item))
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


_worker: dict = {}


def _start_worker(parent_pid, rule_paths, defaults, as_of, lang=None):
    """Runs once in each worker process: die with the batch, compile the rule base it will reuse."""
    _processes.die_with_parent(parent_pid)
    _worker["rules"] = _api.load_rules(*rule_paths, defaults=defaults)
    _worker["as_of"] = as_of
    _worker["lang"] = lang


def _evaluate_chunk(items):
    return [evaluate_item(item, _worker["rules"], _worker["as_of"], _worker["lang"]) for item in items]


def _item_document(item: tuple) -> _document.Document:
    if item[0] == "file":
        return _profile.parse(_profile.read_file(item[1], InvalidProfileError, only_regular=True), item[1])
    if item[0] == "text":  # a profile's YAML or JSON text read from elsewhere (a Parquet row, a URL)
        return _profile.parse(item[2], item[1])
    return _line_document(*item[1:])


class _DuplicateKey(ValueError):
    pass


def _line_document(path: str, number: int, raw: bytes) -> _document.Document:
    """One JSON Lines line as a profile Document whose problems point at that line of *path*."""

    def fail(column, message):
        raise InvalidProfileError(Problem(path, number, column, "$", message))

    if len(raw) > _document.MAX_BYTES:
        fail(None, f"line is {len(raw):,} bytes; the limit is {_document.MAX_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        fail(exc.start + 1, f"not UTF-8 text (byte 0x{raw[exc.start]:02x})")
    try:
        data = json.loads(text, object_pairs_hook=_object, parse_constant=_constant, parse_int=_values.parse_int)
    except json.JSONDecodeError as exc:
        fail(exc.colno, f"not valid JSON: {exc.msg}")
    except (_DuplicateKey, ValueError) as exc:
        fail(None, f"not valid JSON: {exc}")
    except RecursionError:
        fail(None, "not valid JSON: nested too deeply")
    if not isinstance(data, dict):
        fail(1, f"a profile is a JSON object, not {type(data).__name__}")
    if _depth(data) > _document.MAX_DEPTH:
        fail(None, f"nested more than {_document.MAX_DEPTH} levels deep")
    odd = _unsafe_value(data)
    if odd:
        fail(None, odd)
    values, keys = _columns(text)
    positions = {key: (number, column) for key, column in values.items()}
    positions.setdefault((), (number, None))
    return _document.Document(data, path, positions, {key: (number, column) for key, column in keys.items()})


def _depth(data) -> int:
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (value.values() if isinstance(value, dict) else value))
    return deepest


def _unsafe_value(data) -> str | None:
    """What the safe loader would refuse that json.loads lets through: infinities, lone surrogates."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, float) and not math.isfinite(value):
            return f"{value} is not a finite number"
        elif isinstance(value, str) and _SURROGATE.search(value):
            return "the text has an unpaired surrogate escape (\\uD800-\\uDFFF)"
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _columns(text: str) -> tuple[dict, dict]:
    """The column of every value and key of a one-line JSON text, by path; empty if libyaml cannot say.

    libyaml's composer is fast and keeps marks; the data itself always comes from the JSON parser.
    """
    loader = getattr(yaml, "CSafeLoader", None)
    try:
        root = yaml.compose(text, Loader=loader) if loader is not None else None
    except Exception:  # noqa: BLE001 - JSON that YAML reads differently: keep the line, lose the columns
        root = None
    values, keys = {}, {}
    stack: list[tuple[yaml.Node, tuple]] = [(root, ())] if root is not None else []
    while stack:
        node, path = stack.pop()
        values[path] = node.start_mark.column + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                keys[path + (key.value,)] = key.start_mark.column + 1
                stack.append((value, path + (key.value,)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((value, path + (index,)) for index, value in enumerate(node.value))
    return values, keys


def _object(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(f"duplicate key {key!r}")
        out[key] = value
    return out


def _constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)
