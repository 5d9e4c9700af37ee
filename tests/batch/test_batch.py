"""`ipexpert batch`: one output line per input, in order, errors as records, written atomically."""

import json
import os
import pty
import random
import re
import signal
import subprocess
import sys
import time

import profilegen
import pytest
from conftest import AS_OF, SPINWELL

import ipexpert


def records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def thousand(tmp_path_factory):
    """1,000 generated profiles (100 invalid, 20 of them not even JSON) as a JSON Lines file."""
    pairs = profilegen.generate(1000)
    path = tmp_path_factory.mktemp("batch") / "profiles.jsonl"
    path.write_text(profilegen.jsonl(pairs), encoding="utf-8")
    return path, pairs


@pytest.mark.slow
def test_a_thousand_profiles_give_a_thousand_lines_in_order(invoke, thousand, tmp_path):
    source, pairs = thousand
    out = tmp_path / "out.jsonl"
    result = invoke("batch", source, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 1  # some inputs were invalid
    assert result.stdout == ""
    assert result.stderr.startswith("1000 inputs: 900 evaluated, 100 invalid in ")
    got = records(out)
    assert [r["input"] for r in got] == [f"{source}:{n}" for n in range(1, 1001)]
    assert [("outline" in r) for r in got] == [valid for _, valid in pairs]
    rules = ipexpert.load_rules()
    for record, (profile, valid) in zip(got[::37], pairs[::37]):
        if valid:
            assert record["outline"]["firm"]["name"] == profile["firm"]["name"]
            expected = ipexpert.evaluate(profile, rules, as_of=AS_OF).to_dict()
            assert [r["id"] for r in record["outline"]["recommendations"]] == [r["id"] for r in expected["recommendations"]]
            assert record["outline"]["timeline"] == expected["timeline"]


@pytest.mark.slow
def test_two_jobs_write_the_same_bytes_as_one(invoke, thousand, tmp_path):
    source, _ = thousand
    head = tmp_path / "head.jsonl"
    head.write_text("".join(source.read_text(encoding="utf-8").splitlines(keepends=True)[:150]), encoding="utf-8")
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert invoke("batch", head, "-o", one, "--as-of", AS_OF).exit_code == 1
    result = invoke("batch", head, "-o", two, "--as-of", AS_OF, "--jobs", "2")
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("150 inputs: 135 evaluated, 15 invalid")
    assert two.read_bytes() == one.read_bytes()


def test_error_records_name_the_line_and_column(invoke, tmp_path):
    good = json.dumps(profilegen.profile(random.Random(1), 1))
    source = tmp_path / "in.jsonl"
    source.write_text(
        good
        + "\n"
        + "\n"  # blank lines are not inputs
        + '{"firm": {"name": "X", "home_country": "usa"}, "markets": [{"code": "US", "status": "active"}]}\n'
        + '{"firm": \n'
        + "[1, 2]\n"
        + '{"a": 1, "a": 2}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = invoke("batch", source, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 1
    got = records(out)
    assert [r["input"] for r in got] == [f"{source}:{n}" for n in (1, 3, 4, 5, 6)]
    assert "outline" in got[0]
    schema_error = got[1]["error"]
    assert schema_error["kind"] == "invalid_profile"
    (problem,) = schema_error["problems"]
    assert (problem["file"], problem["line"], problem["column"], problem["path"]) == (str(source), 3, 40, "$.firm.home_country")
    not_json = got[2]["error"]["problems"][0]
    assert (not_json["line"], not_json["message"].startswith("not valid JSON")) == (4, True)
    assert got[3]["error"]["problems"][0]["message"] == "a profile is a JSON object, not list"
    assert "duplicate key 'a'" in got[4]["error"]["problems"][0]["message"]


def test_json_that_yaml_would_read_differently_is_still_read_as_json(invoke, tmp_path):
    profile = profilegen.profile(random.Random(4), 4)
    profile["firm"]["name"] = "Smile \U0001f600 Co."
    line = json.dumps(profile).replace(": ", ":\t")  # tabs and an escaped surrogate pair: JSON, not YAML
    source = tmp_path / "in.jsonl"
    source.write_text(line + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert invoke("batch", source, "-o", out, "--as-of", AS_OF).exit_code == 0
    (record,) = records(out)
    assert record["outline"]["firm"]["name"] == "Smile \U0001f600 Co."


def test_a_folder_is_read_in_name_order_and_files_of_other_kinds_are_ignored(invoke, tmp_path):
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "b.yaml").write_text(SPINWELL.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "a.json").write_text(json.dumps(profilegen.profile(random.Random(2), 2)), encoding="utf-8")
    (folder / "c.yml").write_text("firm: {name: C}\nmarkets: []\n", encoding="utf-8")
    (folder / "notes.txt").write_text("not a profile", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = invoke("batch", folder, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 1
    assert result.stderr.startswith("3 inputs: 2 evaluated, 1 invalid")
    got = records(out)
    assert [r["input"] for r in got] == [str(folder / n) for n in ("a.json", "b.yaml", "c.yml")]
    expected = ipexpert.evaluate(folder / "b.yaml", as_of=AS_OF)
    assert got[1]["outline"] == expected.to_dict()
    assert {p["line"] for p in got[2]["error"]["problems"]} == {1, 2}


def test_all_valid_exits_zero_and_prints_only_the_summary(invoke, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(profilegen.jsonl(profilegen.generate(5, invalid_every=0)), encoding="utf-8")
    result = invoke("batch", source, "-o", tmp_path / "out.jsonl", "--as-of", AS_OF)
    assert result.exit_code == 0
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("5 inputs: 5 evaluated, 0 invalid")


def test_a_broken_rule_pack_stops_the_batch_and_leaves_the_output_alone(invoke, tmp_path):
    packs = tmp_path / "packs"
    packs.mkdir()
    (packs / "bad.yaml").write_text("pack: bad\nversion: 1.0.0\nrules:\n  - id: x\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    result = invoke("batch", SPINWELL.parent, "-o", out, "--rules", packs)
    assert result.exit_code == 1
    assert "bad.yaml:" in result.stderr
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "packs"]


def test_an_interrupted_batch_leaves_the_old_output_or_the_whole_new_one(thousand, tmp_path):
    source, _ = thousand
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipexpert", "batch", str(source), "-o", str(out), "--as-of", AS_OF],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    text = out.read_text(encoding="utf-8")
    assert text == "previous\n" or text.count("\n") == 1000
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temporary file left behind
    if proc.returncode == 130:
        assert err.decode().strip() == "ipexpert: interrupted"


def test_a_progress_bar_shows_only_on_a_terminal(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(profilegen.jsonl(profilegen.generate(3, invalid_every=0)), encoding="utf-8")
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "ipexpert", "batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--as-of", AS_OF],
            stdout=subprocess.DEVNULL,
            stderr=terminal,
            timeout=120,
        )
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    assert proc.returncode == 0
    assert b"evaluating" in shown and b"100%" in shown
    assert b"3 inputs: 3 evaluated, 0 invalid" in shown


def children_of(pid):
    """The pids whose parent is *pid*, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_a_two_job_batch_leaves_no_process_and_the_next_run_no_stale_file(thousand, tmp_path):
    source, _ = thousand
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipexpert", "batch", str(source), "-o", str(out), "--as-of", AS_OF, "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".ipexpert-*.tmp")) or len(children_of(proc.pid)) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, "the batch never started its workers"
        time.sleep(0.05)
    workers = children_of(proc.pid)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if alive(pid)], "workers outlived the killed batch"
    assert len(list(tmp_path.glob(".ipexpert-*.tmp"))) == 1  # what a killed run leaves
    assert not out.exists()

    small = tmp_path / "small.jsonl"
    small.write_text(profilegen.jsonl(profilegen.generate(2, invalid_every=0)), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "ipexpert", "batch", str(small), "-o", str(out), "--as-of", AS_OF],
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "small.jsonl"]
    assert len(records(out)) == 2


def spawned_workers(pid):
    """The batch's worker processes (multiprocessing's spawned children, not its resource tracker)."""
    found = []
    for child in children_of(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as handle:
                if b"spawn_main" in handle.read():
                    found.append(child)
        except OSError:
            pass
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_a_worker_still_gives_every_input_its_record(invoke, thousand, tmp_path):
    source, _ = thousand
    head = tmp_path / "head.jsonl"
    head.write_text("".join(source.read_text(encoding="utf-8").splitlines(keepends=True)[:200]), encoding="utf-8")
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert invoke("batch", head, "-o", one, "--as-of", AS_OF).exit_code == 1
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipexpert", "batch", str(head), "-o", str(two), "--as-of", AS_OF, "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while len(spawned_workers(proc.pid)) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, "the batch never started its workers"
        time.sleep(0.05)
    os.kill(spawned_workers(proc.pid)[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1, stderr  # some inputs are invalid; none was lost
    assert stderr.decode().startswith("200 inputs: 180 evaluated, 20 invalid")
    assert two.read_bytes() == one.read_bytes()  # the lost profiles were evaluated again, alone


def die_on_the_third(items):
    """A worker's task that kills its own process on the third profile of the file, as running out of memory would."""
    from ipexpert._batch import local

    if any(item[0] == "line" and item[2] == 3 for item in items):
        os._exit(9)
    return local._evaluate_chunk(items)


def test_the_profile_that_kills_its_worker_gets_an_error_record_and_the_others_their_outlines(tmp_path):
    from ipexpert._batch import local

    source = tmp_path / "five.jsonl"
    source.write_text(profilegen.jsonl(profilegen.generate(5, invalid_every=0)), encoding="utf-8")
    items = local.collect(source)
    rules = ipexpert.load_rules()
    spec = ((), True, ipexpert._api.parse_date(AS_OF))
    alone = [json.loads(line) for _, line in local._results(items, rules, spec, 1)]
    got = [json.loads(line) for _, line in local._results(items, rules, spec, 2, work=die_on_the_third)]
    assert [r["input"] for r in got] == [f"{source}:{n}" for n in range(1, 6)]
    assert got[2]["error"]["kind"] == "worker_lost" and "died" in got[2]["error"]["problems"][0]["message"]
    assert got[:2] + got[3:] == alone[:2] + alone[3:]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_resume_after_kill_9_keeps_what_the_killed_run_wrote_and_ends_with_the_same_bytes(invoke, thousand, tmp_path):
    source, _ = thousand
    head = tmp_path / "head.jsonl"
    head.write_text("".join(source.read_text(encoding="utf-8").splitlines(keepends=True)[:120]), encoding="utf-8")
    clean, out = tmp_path / "clean" / "out.jsonl", tmp_path / "out.jsonl"
    clean.parent.mkdir()
    assert invoke("batch", head, "-o", clean, "--as-of", AS_OF).exit_code == 1
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipexpert", "batch", str(head), "-o", str(out), "--as-of", AS_OF],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while sum(p.stat().st_size for p in tmp_path.glob(".ipexpert-*.tmp")) < 200_000:
        assert proc.poll() is None and time.monotonic() < deadline, "the batch ended before it could be killed"
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert not out.exists()
    result = invoke("batch", head, "-o", out, "--as-of", AS_OF, "--resume")
    assert result.exit_code == 1, result.output
    kept = int(re.search(r"; (\d+) kept from an earlier run\)", result.stderr).group(1))
    assert 0 < kept < 120 and result.stderr.startswith("120 inputs: 108 evaluated, 12 invalid")
    assert out.read_bytes() == clean.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean", "head.jsonl", "out.jsonl"]  # the killed run's file is gone


def test_resume_extends_a_finished_run_over_added_lines_but_not_across_another_date(invoke, thousand, tmp_path):
    source, _ = thousand
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    inputs, out, clean = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "clean.jsonl"
    inputs.write_text("".join(lines[:30]), encoding="utf-8")
    assert invoke("batch", inputs, "-o", out, "--as-of", AS_OF).exit_code == 1
    inputs.write_text("".join(lines[:40]), encoding="utf-8")
    result = invoke("batch", inputs, "-o", out, "--as-of", AS_OF, "--resume")
    assert "; 30 kept from an earlier run)" in result.stderr
    assert invoke("batch", inputs, "-o", clean, "--as-of", AS_OF).exit_code == 1
    assert out.read_bytes() == clean.read_bytes()
    later = invoke("batch", inputs, "-o", out, "--as-of", "2027-01-04", "--resume")
    assert "kept" not in later.stderr  # outlines of another date are evaluated again
    assert all(r["outline"]["as_of"] == "2027-01-04" for r in records(out) if "outline" in r)


def test_resume_is_refused_where_there_is_nothing_to_resume_from(invoke, tmp_path):
    result = invoke("batch", tmp_path, "-o", "-", "--resume")
    assert result.exit_code == 2 and "--resume works with the local engine writing JSON Lines to a file" in result.stderr


def test_a_live_runs_temporary_file_is_not_taken_for_stale(tmp_path):
    from ipexpert._common.output import atomic_file

    with atomic_file(tmp_path / "a.jsonl") as first:
        first.write("a\n")
        with atomic_file(tmp_path / "b.jsonl") as second:  # cleans the folder while the first is open
            second.write("b\n")
    assert (tmp_path / "a.jsonl").read_text() == "a\n" and (tmp_path / "b.jsonl").read_text() == "b\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "b.jsonl"]


def test_a_named_pipe_in_the_folder_gets_an_error_record_not_a_hang(tmp_path):
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "a.yaml").write_text(SPINWELL.read_text(encoding="utf-8"), encoding="utf-8")
    os.mkfifo(folder / "b.yaml")
    (folder / "c.yaml").mkdir()
    out = tmp_path / "out.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "ipexpert", "batch", str(folder), "-o", str(out), "--as-of", AS_OF],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 1
    got = records(out)
    assert "outline" in got[0]
    assert "not a regular file (a named pipe)" in got[1]["error"]["problems"][0]["message"]
    assert "not a regular file (a folder)" in got[2]["error"]["problems"][0]["message"]


def test_dash_writes_json_lines_to_stdout(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(profilegen.jsonl(profilegen.generate(3, invalid_every=0)), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "ipexpert", "batch", str(source), "-o", "-", "--as-of", AS_OF],
        capture_output=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode("utf-8").splitlines()
    assert [json.loads(line)["input"] for line in lines] == [f"{source}:{n}" for n in (1, 2, 3)]
    assert result.stderr.decode().startswith("3 inputs: 3 evaluated")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # no file called "-"


def test_dash_as_input_reads_json_lines_from_stdin_and_gives_the_same_outlines(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(profilegen.jsonl(profilegen.generate(4, invalid_every=3)).encode("utf-8"))
    from_file = subprocess.run(
        [sys.executable, "-m", "ipexpert", "batch", str(source), "-o", "-", "--as-of", AS_OF], capture_output=True, timeout=120
    )
    from_stdin = subprocess.run(
        [sys.executable, "-m", "ipexpert", "batch", "-", "-o", "-", "--as-of", AS_OF, "--jobs", "2"],
        input=source.read_bytes(),
        capture_output=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert from_stdin.returncode == from_file.returncode == 1  # one invalid profile in four
    got = [json.loads(line) for line in from_stdin.stdout.decode("utf-8").splitlines()]
    assert [r["input"] for r in got] == [f"<stdin>:{n}" for n in (1, 2, 3, 4)]
    named = from_file.stdout.decode("utf-8").replace(json.dumps(str(source))[1:-1], "<stdin>")  # the facts cite <stdin>
    expected = [json.loads(line) for line in named.splitlines()]
    assert [r.get("outline") for r in got] == [r.get("outline") for r in expected]
    assert "error" in got[2] and got[2]["error"]["problems"][0]["file"] == "<stdin>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # no file called "-"


def test_output_goes_through_a_symlink_and_into_a_named_pipe(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(profilegen.jsonl(profilegen.generate(2, invalid_every=0)), encoding="utf-8")
    target = tmp_path / "real.jsonl"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    command = [sys.executable, "-m", "ipexpert", "batch", str(source), "--as-of", AS_OF, "-o"]
    assert subprocess.run([*command, str(link)], capture_output=True, timeout=120).returncode == 0
    assert link.is_symlink() and len(records(target)) == 2

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    proc = subprocess.Popen([*command, str(fifo)], stderr=subprocess.DEVNULL)
    with open(fifo, "rb") as reader:
        received = reader.read()
    assert proc.wait(timeout=120) == 0
    assert fifo.is_fifo() and len(received.decode("utf-8").splitlines()) == 2

    piped = subprocess.run(f"{' '.join(command)} /dev/stdout | cat", shell=True, capture_output=True, timeout=120)
    assert piped.returncode == 0 and len(piped.stdout.decode("utf-8").splitlines()) == 2
    assert os.path.islink("/dev/stdout") or os.path.exists("/dev/stdout")


@pytest.mark.parametrize("as_of", ["20261125", "2026-W48-3", "2026-11-25T00:00"])
def test_as_of_is_exactly_yyyy_mm_dd(invoke, tmp_path, as_of):
    source = tmp_path / "in.jsonl"
    source.write_text(profilegen.jsonl(profilegen.generate(1, invalid_every=0)), encoding="utf-8")
    result = invoke("batch", source, "-o", tmp_path / "out.jsonl", "--as-of", as_of)
    assert result.exit_code == 2
    assert "is not a date (YYYY-MM-DD)" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_integers_are_integers_in_json_lines(invoke, tmp_path):
    profile = profilegen.profile(random.Random(4), 4)
    lines = [
        json.dumps(profile).replace(f'"employees": {profile["firm"]["employees"]}', f'"employees": {value}')
        for value in ("2000.0", "1e308", "9" * 30)
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert invoke("batch", source, "-o", out, "--as-of", AS_OF).exit_code == 1
    messages = [r["error"]["problems"][0]["message"] for r in records(out)]
    assert "2000.0 should be of type integer" in messages[0]
    assert "should be of type integer" in messages[1]
    assert "has 30 digits; an integer has at most 18" in messages[2]
