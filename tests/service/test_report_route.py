"""`POST /v1/report`: the client report and the outline in the asked-for language, over HTTP."""

import json

import pytest
from conftest import AS_OF, SPINWELL
from test_serve import request, run_server

import ipexpert


def test_the_service_serves_the_report_and_the_chinese_outline(tmp_path):
    pytest.importorskip("uvicorn")
    server = run_server(tmp_path)
    port = next(server)
    try:
        body = SPINWELL.read_bytes()
        status, headers, page = request(port, "POST", f"/v1/report?as_of={AS_OF}&lang=zh-CN", body, "application/yaml")
        assert status == 200 and headers["content-type"].startswith("text/html")
        assert page.decode("utf-8") == ipexpert.report(SPINWELL, as_of=AS_OF, lang="zh-CN")
        status, _, outline = request(port, "POST", f"/v1/report?as_of={AS_OF}&lang=zh-CN&format=json", body, "application/yaml")
        assert status == 200 and json.loads(outline)["language"] == "zh-CN"
        status, _, problem = request(port, "POST", "/v1/report?format=rtf", body, "application/yaml")
        assert status == 400 and json.loads(problem)["problems"][0]["path"] == "$.format"
        status, _, spec = request(port, "GET", "/openapi.json")
        assert "/v1/report" in json.loads(spec)["paths"]
    finally:
        next(server, None)
