"""Batch on Dask: the local engine's records, in the same order, evaluated on a local or an existing cluster.

The client compiles the rule packs first (a broken pack stops the batch before any work),
then sends their text (bundled packs included, under the names this process gives them)
to every worker in a worker plugin, which compiles the rule base once per worker. Inputs go
out in partitions of `partition_size`, a bounded number at a time; results come back in
input order and are written as they arrive. A partition lost with a dying worker is
recomputed by Dask from its task; one that kills every worker it is tried on is tried again
one profile per task, so the profile that kills its workers gets a `worker_lost` error
record and every other input its outline.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import time
import uuid
from pathlib import Path

from ipexpert import __version__, _api
from ipexpert._batch import local as _local
from ipexpert._batch import parquet as _parquet
from ipexpert._engine import rulebase as _rulebase
from ipexpert._errors import InvalidProfileError, IPExpertError, Problem
from ipexpert._knowledge import packs as _packs
from ipexpert._reading import profile as _profile

try:
    import distributed
except ImportError as _exc:  # the [dask] extra is not installed
    raise _parquet.missing_extra(_exc) from None

PARTITION_SIZE = 50
IN_FLIGHT_PER_WORKER = 4
CONNECT_TIMEOUT = "30s"

_RULES: dict = {}  # in a worker: compiled rule bases, by the name of the run's plugin


class RulesPlugin(distributed.WorkerPlugin):
    """Compiles the batch's rule packs once in each worker, current and joining ones."""

    def __init__(self, sources, name: str):
        self.sources = sources
        self.name = name

    def setup(self, worker):
        if self.name not in _RULES:
            _RULES[self.name] = _rulebase.RuleBase(_packs.load_sources(self.sources))

    def teardown(self, worker):
        _RULES.pop(self.name, None)


def evaluate_partition(name: str, version: str, as_of, items, tables: bool):
    """Runs on a worker: (evaluated count, JSON Lines text) or (evaluated count, table rows) for *items*."""
    if version != __version__:
        raise RuntimeError(f"this worker has ipexpert {__version__}, the client {version}; install the same version on both")
    rules = _RULES[name]
    evaluated = 0
    if tables:
        out = []
        for item in items:
            ok, record = _local.evaluate_record(item, rules, as_of)
            evaluated += ok
            out.append(_parquet.rows(record))
        return evaluated, out
    lines = []
    for item in items:
        ok, line = _local.evaluate_item(item, rules, as_of)
        evaluated += ok
        lines.append(line)
    return evaluated, "".join(lines)


def run(
    inputs,
    output,
    *,
    rule_paths=(),
    defaults=True,
    as_of=None,
    scheduler=None,
    workers=None,
    partition_size=PARTITION_SIZE,
    tables=False,
    progress=None,
    echo=None,
    work=None,
) -> _local.Summary:
    """Evaluate *inputs* (items, in order) on Dask and write JSON Lines to *output*, or two tables if *tables*.

    *scheduler* is the address of an existing cluster; without one a local cluster of
    *workers* processes is started for this run. *echo* receives one-line notes (the
    dashboard link); *progress* the number of inputs just finished. *work* stands in for
    `evaluate_partition` (tests give one that kills its worker).
    """
    start = time.monotonic()
    as_of = _api.parse_date(as_of)
    sources = _packs.sources(rule_paths, defaults)
    _packs.load_sources(sources)  # fail on a broken pack here, before any cluster starts
    name = f"ipexpert-rules-{uuid.uuid4().hex}"  # one per run: concurrent runs on one cluster never share
    with _client(scheduler, workers) as client:
        link = _dashboard(client)
        if echo is not None and link:
            echo(f"Dask dashboard: {link}")
        try:
            client.register_plugin(RulesPlugin(sources, name), name=name)
        except Exception as exc:  # noqa: BLE001 - e.g. a worker without ipexpert installed
            message = f"the workers could not compile the rules ({type(exc).__name__}: {exc}); install ipexpert[dask] {__version__} on every worker"
            raise IPExpertError(Problem(str(scheduler or "<local cluster>"), None, None, "$", message)) from None
        try:
            width = max(2, IN_FLIGHT_PER_WORKER * max(1, len(client.scheduler_info().get("workers", {}))))
            results = _ordered(client, inputs, name, as_of, partition_size, width, tables, work)
            evaluated, total = _write(results, output, tables, progress)
        finally:
            if scheduler is not None:  # a shared cluster: leave no compiled rules behind
                with contextlib.suppress(Exception):
                    client.unregister_worker_plugin(name)
    return _local.Summary(evaluated, total - evaluated, time.monotonic() - start)


def _dashboard(client) -> str | None:
    """The dashboard's link if the scheduler serves a working one (it may list a port it never opened, or a page
    that only says the scheduler lacks bokeh)."""
    import urllib.error
    import urllib.request

    if "dashboard" not in client.scheduler_info().get("services", {}):
        return None
    link = client.dashboard_link
    try:
        with urllib.request.urlopen(link, timeout=2) as page:  # noqa: S310 - the scheduler's own http:// link
            if page.status == 200 and b"needs bokeh" not in page.read(4096):
                return link
    except (OSError, ValueError, urllib.error.URLError):
        pass
    return None


@contextlib.contextmanager
def _client(scheduler, workers):
    """A client of the cluster at *scheduler*, or of a local cluster that lives for this run."""
    try:
        if scheduler is not None:
            client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
            cluster = None
        else:
            cluster = distributed.LocalCluster(
                n_workers=workers or _local.default_jobs(),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
                silence_logs=50,
            )
            client = distributed.Client(cluster, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        where = scheduler or "a local Dask cluster"
        raise IPExpertError(Problem(str(where), None, None, "$", f"cannot connect: {exc}")) from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _ordered(client, inputs, name, as_of, partition_size, width, tables, work=None):
    """(count, evaluated, result) per partition in input order, with at most *width* partitions out."""
    work = work or evaluate_partition
    items = map(_portable, inputs)
    run_id = uuid.uuid4().hex[:12]
    pending: collections.deque = collections.deque()

    def submit(number):
        chunk = list(itertools.islice(items, partition_size))
        if not chunk:
            return False
        future = client.submit(work, name, __version__, as_of, chunk, tables, key=f"ipexpert-{run_id}-{number}", pure=False)
        pending.append((chunk, future))
        return True

    number = 0
    while len(pending) < width and submit(number):
        number += 1
    while pending:
        chunk, future = pending.popleft()
        try:
            evaluated, result = future.result()
        except distributed.KilledWorker:  # the partition killed every worker it was tried on: find the profile that did
            evaluated, result = _alone(client, work, name, as_of, chunk, tables, f"ipexpert-{run_id}-{number}")
        except distributed.client.FutureCancelledError:
            raise
        except Exception as exc:  # a task that failed on every worker it was tried on
            raise IPExpertError(
                Problem(
                    "<batch>",
                    None,
                    None,
                    "$",
                    f"a partition failed on the cluster ({type(exc).__name__}: {exc}); no output was written",
                )
            ) from None
        future.release()
        if submit(number):
            number += 1
        yield len(chunk), evaluated, result


def _alone(client, work, name, as_of, chunk, tables, key):
    """(evaluated, result) for a partition whose profiles go one task each, in turn; the one that kills its workers gets an error record."""
    evaluated, results = 0, []
    for index, item in enumerate(chunk):
        future = client.submit(work, name, __version__, as_of, [item], tables, key=f"{key}-alone-{index}", pure=False)
        try:
            ok, result = future.result()
        except distributed.KilledWorker:
            record = _local.worker_lost(item)
            ok, result = 0, ([_parquet.rows(record)] if tables else _local.json_line(record))
        future.release()
        evaluated += ok
        results.append(result)
    return evaluated, ([row for rows in results for row in rows] if tables else "".join(results))


def _portable(item: tuple) -> tuple:
    """A folder's file as its bytes, read here, so workers that cannot see the folder get the same profile."""
    if item[0] != "file":
        return item
    try:
        return ("text", item[1], _profile.read_file(Path(item[1]), InvalidProfileError))
    except InvalidProfileError:
        return item  # unreadable or too large: the worker meets the same problem and writes the same error record


def _write(results, output, tables, progress):
    evaluated = total = 0
    if tables:
        with _parquet.TableWriter(output) as writer:
            for count, ok, rows in results:
                for input_row, recommendation_rows in rows:
                    writer.add(input_row, recommendation_rows)
                evaluated, total = evaluated + ok, total + count
                if progress is not None:
                    progress(count)
        return evaluated, total
    from ipexpert._common.output import atomic_file

    with atomic_file(output) as out:
        for count, ok, text in results:
            out.write(text)
            evaluated, total = evaluated + ok, total + count
            if progress is not None:
                progress(count)
    return evaluated, total
