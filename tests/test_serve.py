"""`ipexpert serve`: the real server on a free loopback port, spoken to over HTTP."""

import concurrent.futures
import http.client
import json
import random
import socket
import subprocess
import sys
import time

import pytest

import ipexpert
import profilegen
from conftest import AS_OF, ROOT, SPINWELL

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

HOST = "127.0.0.1"
MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


LOOPING_PACK = """\
pack: loop
version: 1.0.0
title: A rule that keeps deriving new facts
rules:
  - id: next-day
    title: The next day
    when:
      - market: {code: ?c, launch_date: ?d}
    derive: {market: {code: ?c, status: planned, launch_date: {days_after: [?d, 1]}}}
    because: "{c} again"
    source: [paper §5.1]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`ipexpert serve` in a child process; its port. Stopped (SIGTERM) after the module's tests."""
    yield from run_server(tmp_path_factory.mktemp("serve"))


@pytest.fixture
def looping_server(tmp_path):
    """A server whose rules run away on any profile with a planned launch date."""
    (tmp_path / "loop.yaml").write_text(LOOPING_PACK, encoding="utf-8")
    yield from run_server(tmp_path, "--rules", str(tmp_path / "loop.yaml"))


def run_server(folder, *options):
    port = free_port()
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipexpert", "serve", "--host", HOST, "--port", str(port), *options],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the server did not start: {open(log.name).read()}")
        time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def request(port, method, path, body=None, content_type=None, headers=None):
    """(status, headers, body bytes) of one request on a fresh connection."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        sent = dict(headers or {})
        if content_type:
            sent["Content-Type"] = content_type
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def problem_details(status, headers, body, expected):
    assert status == expected, body
    assert headers["content-type"] == "application/problem+json"
    data = json.loads(body)
    assert data["status"] == expected
    assert {"type", "title", "detail", "problems"} <= set(data)
    assert b"Traceback" not in body and b'File "' not in body
    return data


def test_healthz(server):
    status, _, body = request(server, "GET", "/healthz")
    assert status == 200
    assert json.loads(body)["status"] == "ok"


def test_evaluate_yaml_gives_the_same_outline_as_the_library(server):
    status, headers, body = request(
        server, "POST", f"/v1/evaluate?as_of={AS_OF}", SPINWELL.read_bytes(), "application/yaml"
    )
    assert status == 200
    assert headers["content-type"] == "application/json"
    expected = ipexpert.evaluate(SPINWELL.read_text(encoding="utf-8"), as_of=AS_OF, name="<request>")
    assert body.decode("utf-8") == expected.to_json()


def test_evaluate_json_with_a_charset(server):
    profile = profilegen.profile(random.Random(3), 3)
    status, _, body = request(
        server, "POST", f"/v1/evaluate?as_of={AS_OF}", json.dumps(profile), "application/json; charset=utf-8"
    )
    assert status == 200
    outline = json.loads(body)
    assert outline["as_of"] == AS_OF
    assert outline["firm"]["name"] == profile["firm"]["name"]


def test_an_invalid_profile_is_422_with_its_problems(server):
    text = "firm:\n  name: X\n  home_country: usa\nmarkets: []\n"
    data = problem_details(*request(server, "POST", "/v1/evaluate", text, "application/yaml"), 422)
    where = {(p["line"], p["path"]) for p in data["problems"]}
    assert (3, "$.firm.home_country") in where and (4, "$.markets") in where
    assert request(server, "GET", "/healthz")[0] == 200


def test_unreadable_text_is_400(server):
    data = problem_details(*request(server, "POST", "/v1/evaluate", "firm: [\n", "text/yaml"), 400)
    assert data["problems"][0]["message"].startswith("not valid YAML")
    problem_details(*request(server, "POST", "/v1/evaluate", b"\xff\xfe", "application/json"), 400)


def test_a_bad_as_of_is_400(server):
    data = problem_details(
        *request(server, "POST", "/v1/evaluate?as_of=tomorrow", SPINWELL.read_bytes(), "application/yaml"), 400
    )
    assert data["problems"][0]["path"] == "$.as_of"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"])
def test_a_wrong_media_type_is_415(server, content_type):
    problem_details(*request(server, "POST", "/v1/evaluate", SPINWELL.read_bytes(), content_type), 415)
    assert request(server, "GET", "/healthz")[0] == 200


def test_a_50_mb_body_is_413_and_the_service_keeps_answering(server):
    body = b"#" * (50 * MB)
    data = problem_details(*request(server, "POST", "/v1/evaluate", body, "application/yaml"), 413)
    assert "5,242,880 bytes" in data["detail"]
    assert request(server, "GET", "/healthz")[0] == 200
    assert request(server, "POST", "/v1/validate", SPINWELL.read_bytes(), "application/yaml")[0] == 200


def test_a_streamed_body_is_cut_off_at_the_limit(server):
    chunks = (b"#" * (64 * 1024) for _ in range(200))  # 12.5 MB, chunked: no Content-Length to check
    conn = http.client.HTTPConnection(HOST, server, timeout=60)
    try:
        conn.request("POST", "/v1/validate", body=chunks, headers={"Content-Type": "application/yaml"}, encode_chunked=True)
        response = conn.getresponse()
        problem_details(response.status, dict(response.getheaders()), response.read(), 413)
    finally:
        conn.close()
    assert request(server, "GET", "/healthz")[0] == 200


def test_validate_answers_with_the_problems(server):
    status, _, body = request(server, "POST", "/v1/validate", SPINWELL.read_bytes(), "application/yaml")
    assert (status, json.loads(body)) == (200, {"valid": True, "problems": []})
    status, _, body = request(server, "POST", "/v1/validate", '{"firm": {"name": "X"}}', "application/json")
    answer = json.loads(body)
    assert status == 200 and answer["valid"] is False
    assert [p["message"] for p in answer["problems"]] == [p.message for p in ipexpert.validate('{"firm": {"name": "X"}}')]
    status, _, body = request(server, "POST", "/v1/validate", "a: [", "application/yaml")
    assert status == 200 and json.loads(body)["problems"][0]["message"].startswith("not valid YAML")


def test_rules_lists_every_loaded_rule(server):
    status, _, body = request(server, "GET", "/v1/rules")
    assert status == 200
    listed = [rule["key"] for pack in json.loads(body)["packs"] for rule in pack["rules"]]
    assert listed == [rule.key for rule in ipexpert.load_rules().rules]


def test_unknown_paths_and_methods_are_problem_details(server):
    problem_details(*request(server, "GET", "/v2/nothing"), 404)
    problem_details(*request(server, "GET", "/v1/evaluate"), 405)


def test_the_openapi_document_uses_the_project_schemas(server):
    status, _, body = request(server, "GET", "/openapi.json")
    assert status == 200
    doc = json.loads(body)
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {"/v1/evaluate", "/v1/report", "/v1/validate", "/v1/rules", "/healthz"}
    schemas = doc["components"]["schemas"]
    assert schemas["FirmProfile"] == json.loads((ROOT / "schemas" / "firm-profile.schema.json").read_text(encoding="utf-8"))
    assert schemas["Outline"] == json.loads((ROOT / "schemas" / "outline.schema.json").read_text(encoding="utf-8"))

    def refs(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and value.startswith("#/components/"):
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(doc["paths"]):
        assert ref.rsplit("/", 1)[1] in schemas, ref


def test_concurrent_requests_get_the_answers_of_sequential_ones(server):
    profiles = [json.dumps(p) for p, _ in profilegen.generate(40, seed=11)]

    def ask(text):
        status, _, body = request(server, "POST", f"/v1/evaluate?as_of={AS_OF}", text, "application/json")
        return status, body

    sequential = [ask(text) for text in profiles]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        concurrent_answers = list(pool.map(ask, profiles))
    assert concurrent_answers == sequential
    assert sorted({status for status, _ in sequential}) == [200, 422]


def test_rules_that_fail_on_a_profile_give_500_without_a_traceback(looping_server):
    data = problem_details(
        *request(looping_server, "POST", f"/v1/evaluate?as_of={AS_OF}", SPINWELL.read_bytes(), "application/yaml"), 500
    )
    assert "fired more than" in data["problems"][0]["message"]
    assert request(looping_server, "GET", "/healthz")[0] == 200


def test_serve_without_the_extra_says_what_to_install(invoke, monkeypatch):
    monkeypatch.setitem(sys.modules, "starlette", None)
    monkeypatch.delitem(sys.modules, "ipexpert._serve", raising=False)
    monkeypatch.delattr(ipexpert, "_serve", raising=False)
    result = invoke("serve", "--port", str(free_port()))
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "pip install 'ipexpert[serve]'" in result.stderr
