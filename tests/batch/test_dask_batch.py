"""`ipexpert batch --engine dask`: the local engine's bytes from a Dask cluster, Parquet in and out.

The clusters here are small and on loopback only: a local cluster of 2 workers started by
the batch itself, and a `dask scheduler` with `dask worker` processes started by the test
(always stopped at the end), one of which the last test kills mid-run.
"""

import contextlib
import hashlib
import json
import os
import pty
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import profilegen
import pytest
from conftest import AS_OF, ROOT

try:
    import distributed
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError as exc:  # the [dask] extra is installed by .ci/run; only a bare local setup lacks it
    if os.environ.get("CI"):
        raise
    pytest.skip(f"the [dask] extra is not installed ({exc.name})", allow_module_level=True)

PACKS = ROOT / "tests" / "fixtures" / "packs" / "consultant-bundled"
DASK = Path(sys.executable).parent / "dask"


@pytest.fixture(scope="module")
def profiles(tmp_path_factory):
    """300 generated profiles (30 invalid, 6 of them not JSON), and the local engine's output for them."""
    folder = tmp_path_factory.mktemp("dask")
    source = folder / "profiles.jsonl"
    source.write_text(profilegen.jsonl(profilegen.generate(300, seed=17)), encoding="utf-8")
    expected = folder / "local.jsonl"
    command = [sys.executable, "-m", "ipexpert", "batch", source, "-o", expected, "--as-of", AS_OF, "--rules", PACKS]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 1, done.stderr  # some inputs are invalid on purpose
    return source, expected.read_bytes()


@pytest.mark.slow
def test_a_local_cluster_of_two_workers_writes_the_local_engines_bytes(invoke, profiles, tmp_path, monkeypatch):
    source, expected = profiles
    monkeypatch.chdir(ROOT)  # the same working folder as the local run: rule pack names are relative to it
    out = tmp_path / "dask.jsonl"
    result = invoke(
        "batch", source, "-o", out, "--as-of", AS_OF, "--rules", PACKS, "--engine", "dask", "-j", "2", "--partition-size", "16"
    )
    assert result.exit_code == 1, result.stderr
    assert "Dask dashboard: http://127.0.0.1:" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("300 inputs: 270 evaluated, 30 invalid in ")
    assert out.read_bytes() == expected
    lines = [json.loads(line) for line in expected.decode().splitlines()]
    assert "my-rules" in {pack["name"] for pack in lines[0]["outline"]["rule_packs"]}  # the --rules pack took part


@pytest.mark.parametrize(
    ("page", "advertised"),
    [(b"<html>the dashboard</html>", True), (b"<p>Dask needs bokeh>=3.1.0 for the dashboard.</p>", False), (None, False)],
)
def test_the_dashboard_is_linked_only_when_it_works(page, advertised):
    import http.server
    import threading
    import types

    from ipexpert._batch import on_dask

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Page)
    link = f"http://127.0.0.1:{server.server_address[1]}/status"
    if page is None:
        server.server_close()  # a port the scheduler lists but nothing answers on
    else:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    client = types.SimpleNamespace(scheduler_info=lambda: {"services": {"dashboard": 1}}, dashboard_link=link)
    try:
        assert on_dask._dashboard(client) == (link if advertised else None)
    finally:
        if page is not None:
            server.shutdown()
            server.server_close()


def test_parquet_in_and_two_tables_out(invoke, tmp_path):
    good = profilegen.generate(4, seed=3, invalid_every=0)
    texts = [json.dumps(good[0][0]), _yaml_text(good[1][0]), None, "firm: [unclosed", json.dumps(good[2][0])]
    source = tmp_path / "sellers.parquet"
    pq.write_table(pa.table({"seller": ["a", "b", "c", "d", "e"], "doc": texts}), source)

    result = invoke("batch", source, "-o", tmp_path / "x", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"{source}: no column 'profile' (columns: seller, doc); name the profile column with --column"

    out = tmp_path / "tables"
    result = invoke(
        "batch",
        source,
        "-o",
        out,
        "--column",
        "doc",
        "--output-format",
        "parquet",
        "--as-of",
        AS_OF,
        "--engine",
        "dask",
        "-j",
        "1",
    )
    assert result.exit_code == 1, result.stderr
    assert sorted(os.listdir(out)) == ["inputs.parquet", "manifest.json", "recommendations.parquet"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["tables"]
    for name in ("inputs.parquet", "recommendations.parquet"):  # the manifest describes the two tables beside it
        assert manifest[name]["sha256"] == hashlib.sha256((out / name).read_bytes()).hexdigest()
        assert manifest[name]["rows"] == pq.read_metadata(out / name).num_rows
    inputs = pq.read_table(out / "inputs.parquet").to_pylist()
    assert [row["id"] for row in inputs] == [f"{source}#{n}" for n in range(1, 6)]
    assert [row["status"] for row in inputs] == ["evaluated", "evaluated", "invalid_profile", "invalid_profile", "evaluated"]
    assert inputs[0]["error"] is None
    assert inputs[3]["error"].startswith(f"{source}#4:1:")  # the row, then the line and column in its text

    recommendations = pq.read_table(out / "recommendations.parquet")
    assert recommendations.column_names == ["input_id", "id", "rule", "category", "priority", "due", "markets", "assets", "title"]
    assert recommendations.schema.field("due").type == pa.date32()
    import ipexpert

    rules = ipexpert.load_rules()
    for n, (profile, _) in ((1, good[0]), (2, good[1]), (5, good[2])):
        mine = [row for row in recommendations.to_pylist() if row["input_id"] == f"{source}#{n}"]
        outline = ipexpert.evaluate(profile, rules, as_of=AS_OF).to_dict()
        assert [(r["rule"], r["priority"], r["markets"], r["assets"]) for r in mine] == [
            (r["rule"], r["priority"], r["markets"], r["assets"]) for r in outline["recommendations"]
        ]
        assert [r["due"].isoformat() if r["due"] else None for r in mine] == [r.get("due") for r in outline["recommendations"]]

    # The local engine writes the same tables.
    local = tmp_path / "local-tables"
    assert invoke("batch", source, "-o", local, "--column", "doc", "--output-format", "parquet", "--as-of", AS_OF).exit_code == 1
    for name in ("inputs.parquet", "recommendations.parquet"):
        assert pq.read_table(local / name).equals(pq.read_table(out / name))
    assert [p for p in os.listdir(out) if p.startswith(".")] == []  # no temporary file left


def _yaml_text(data):
    import yaml

    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_a_parquet_run_leaves_the_old_tables_and_the_next_run_no_temporary_file(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(profilegen.jsonl(profilegen.generate(400, seed=5)), encoding="utf-8")
    out = tmp_path / "tables"
    command = [sys.executable, "-m", "ipexpert", "batch", str(source), "-o", str(out), "--output-format", "parquet"]
    first = subprocess.run(command + ["--as-of", AS_OF], capture_output=True, timeout=300)
    assert first.returncode == 1, first.stderr  # some profiles are invalid
    before = {name: (out / name).read_bytes() for name in os.listdir(out)}
    proc = subprocess.Popen(command + ["--as-of", "2027-01-04"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not [p for p in out.iterdir() if p.name.endswith(".tmp") and p.stat().st_size > 0]:
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert {name: (out / name).read_bytes() for name in before} == before  # the old tables and manifest, untouched
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ipexpert-")] == []  # no folder of its own elsewhere
    again = subprocess.run(command + ["--as-of", AS_OF], capture_output=True, timeout=300)
    assert again.returncode == 1, again.stderr
    assert sorted(os.listdir(out)) == [
        "inputs.parquet",
        "manifest.json",
        "recommendations.parquet",
    ]  # the killed run's files are gone
    assert {name: (out / name).read_bytes() for name in before} == before  # the same inputs and date: the same bytes


def test_json_lines_from_an_fsspec_url(invoke, tmp_path):
    import fsspec

    text = profilegen.jsonl(profilegen.generate(20, seed=5))
    with fsspec.open("memory://sellers/profiles.jsonl", "w") as handle:
        handle.write(text)
    local = tmp_path / "profiles.jsonl"
    local.write_text(text, encoding="utf-8")
    from_url, from_file = tmp_path / "url.jsonl", tmp_path / "file.jsonl"
    assert invoke("batch", "memory://sellers/profiles.jsonl", "-o", from_url, "--as-of", AS_OF).exit_code == 1
    assert invoke("batch", local, "-o", from_file, "--as-of", AS_OF).exit_code == 1
    assert from_url.read_text(encoding="utf-8") == from_file.read_text(encoding="utf-8").replace(
        str(local), "memory://sellers/profiles.jsonl"
    )


def test_without_the_extra_a_one_line_error_names_it(tmp_path):
    source = tmp_path / "one.jsonl"
    source.write_text(profilegen.jsonl(profilegen.generate(1)), encoding="utf-8")
    code = "import sys; sys.modules['distributed'] = None; from ipexpert.cli import main; main()"
    args = ["batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--engine", "dask"]
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 1
    assert (
        done.stderr == "<batch>: this needs the optional Dask packages (distributed is missing): pip install 'ipexpert[dask]'\n"
    )
    assert not (tmp_path / "out.jsonl").exists()


# ---------------------------------------------------------------- a cluster of separate processes


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def dask_cluster(folder: Path, workers: int):
    """A `dask scheduler` and *workers* `dask worker` processes on 127.0.0.1, started in *folder*, always stopped."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes = []
    log = open(folder / "dask.log", "wb")

    def start(*args):
        processes.append(
            subprocess.Popen([str(DASK), *args], cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )
        return processes[-1]

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", "127.0.0.1:0")
        for _ in range(workers):
            start(
                "worker",
                address,
                "--host",
                "127.0.0.1",
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--death-timeout",
                "60",
            )
        with distributed.Client(address, timeout="60s", set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=120)
            yield address, client, processes[1:]
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)
        log.close()


@pytest.mark.slow
def test_against_a_separate_scheduler_and_worker_with_progress_on_a_terminal(profiles, tmp_path):
    source, expected = profiles
    out = tmp_path / "out.jsonl"
    with dask_cluster(tmp_path, workers=1) as (address, client, _):
        dashboard = client.scheduler_info()["services"]["dashboard"]
        command = _batch_on(source, out, address, partition_size=25)
        status, screen = _run_in_pty(command, cwd=ROOT, timeout=300)
        # A folder named relative to this process's working folder, which the worker does not share.
        folder = ["batch", "tests/hostile/profiles", "--as-of", AS_OF, "--partition-size", "7"]
        hostile = [
            _ipexpert(*folder, "-o", tmp_path / name, *more)
            for name, more in (("local.jsonl", ()), ("dask.jsonl", ("--engine", "dask", "--scheduler", address)))
        ]
    assert [done.returncode for done in hostile] == [1, 1], hostile[1].stderr
    assert hostile[0].stderr.splitlines()[-1].split(" in ")[0] == hostile[1].stderr.splitlines()[-1].split(" in ")[0]
    assert (tmp_path / "dask.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    assert os.waitstatus_to_exitcode(status) == 1, screen
    assert "evaluating" in screen and "100%" in screen  # the progress bar, drawn on the terminal
    assert "300 inputs: 270 evaluated, 30 invalid" in screen
    assert screen.startswith(f"Dask dashboard: http://127.0.0.1:{dashboard}/status\r\n")  # the link, then the bar
    assert out.read_bytes() == expected  # the worker ran in another folder: the packs' names travelled with the job


def _ipexpert(*args):
    return subprocess.run(
        [sys.executable, "-m", "ipexpert", *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def _run_in_pty(command, cwd, timeout):
    pid, fd = pty.fork()
    if pid == 0:  # the child: run the command on the terminal
        os.chdir(cwd)
        os.execv(command[0], command)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the terminal closed: the command has finished
                break
            if not data:
                break
            chunks.append(data)
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return status, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_killing_a_worker_mid_run_loses_no_record(profiles, tmp_path):
    source, expected = profiles
    out = tmp_path / "out.jsonl"
    with dask_cluster(tmp_path, workers=2) as (address, client, workers):
        command = _batch_on(source, out, address, partition_size=5)
        batch = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            victim = _busy_worker(client, timeout=120)
            assert batch.poll() is None, "the batch finished before a worker could be killed"
            os.kill(victim, signal.SIGKILL)
            stdout, stderr = batch.communicate(timeout=300)
        finally:
            if batch.poll() is None:
                batch.kill()
                batch.wait()
        assert victim in {process.pid for process in workers}
        assert len(client.scheduler_info()["workers"]) == 1  # the scheduler saw it go
    assert batch.returncode == 1, stderr
    assert "300 inputs: 270 evaluated, 30 invalid" in stderr
    assert out.read_bytes() == expected


def die_on_the_third(name, version, as_of, items, tables):
    """A partition's task that kills its worker when it meets the file's third profile, as running out of memory would."""
    import os

    from ipexpert._batch import on_dask

    if any(item[0] == "line" and item[2] == 3 for item in items):
        os._exit(9)
    return on_dask.evaluate_partition(name, version, as_of, items, tables)


@pytest.mark.slow
def test_the_profile_that_kills_every_worker_gets_an_error_record_and_the_others_their_outlines(tmp_path):
    import cloudpickle
    import dask

    from ipexpert._batch import local, on_dask

    source = tmp_path / "six.jsonl"
    source.write_text(profilegen.jsonl(profilegen.generate(6, invalid_every=0)), encoding="utf-8")
    alone, out = tmp_path / "alone.jsonl", tmp_path / "out.jsonl"
    local.run(local.collect(source), alone, as_of=AS_OF)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
    try:
        with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
            summary = on_dask.run(local.collect(source), out, as_of=AS_OF, workers=2, partition_size=3, work=die_on_the_third)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    expected = [json.loads(line) for line in alone.read_text(encoding="utf-8").splitlines()]
    assert (summary.evaluated, summary.invalid) == (5, 1)
    assert [r["input"] for r in got] == [f"{source}:{n}" for n in range(1, 7)]
    assert got[2]["error"]["kind"] == "worker_lost"
    assert got[:2] + got[3:] == expected[:2] + expected[3:]


def _busy_worker(client, timeout) -> int:
    """The pid of a worker once it is evaluating a partition of the batch."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for address, keys in client.processing().items():
            if any(str(key).startswith("ipexpert-") for key in keys):
                return client.run(os.getpid, workers=[address])[address]
        time.sleep(0.05)
    raise AssertionError("no worker took up the batch")


@pytest.mark.slow
def test_the_dask_benchmark_prints_its_figures_and_finds_the_same_bytes():
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "dask_scale.py"), "--count", "60"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    for row in (
        "local, 1 job(s)",
        "local, 2 job(s)",
        "dask, 1 worker(s)",
        "dask, 2 worker(s)",
        "load average before",
        "dask speed-up, 2 workers over 1",
        "dask path overhead per profile",
        "largest worker RSS",
        "output per profile",
    ):
        assert row in done.stdout
    assert "every run wrote the same bytes: yes" in done.stdout


def _batch_on(source, out, address, partition_size) -> list[str]:
    """The command line of a batch of *source* into *out* on the cluster at *address*."""
    return [
        sys.executable,
        "-m",
        "ipexpert",
        "batch",
        str(source),
        "-o",
        str(out),
        "--as-of",
        AS_OF,
        "--rules",
        str(PACKS),
        "--engine",
        "dask",
        "--scheduler",
        address,
        "--partition-size",
        str(partition_size),
    ]
