"""The vendored experta 1.9.4 runs on this Python, next to any installed experta, without side effects."""

import subprocess
import sys


def test_the_vendored_experta_is_used_and_leaves_no_trace():
    # No top-level `experta` module is imported (an application's own experta is left alone),
    # and experta's logging.basicConfig() on import is undone.
    code = (
        "import logging, sys\n"
        "from ipexpert._engine import experta as _experta\n"
        "print(_experta.experta.__version__, _experta.experta.__name__)\n"
        "print('experta' in sys.modules, len(logging.getLogger().handlers))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["1.9.4 ipexpert._vendor.experta", "False 0"]


def test_an_engine_runs_a_rule():
    from ipexpert._engine.experta import MATCH, Fact, KnowledgeEngine, Rule

    seen = []

    class Engine(KnowledgeEngine):
        @Rule(Fact(code=MATCH.code))
        def record(self, code):
            seen.append(code)

    engine = Engine()
    engine.reset()
    engine.declare(Fact(code="US"))
    engine.run()
    assert seen == ["US"]


def test_the_vendored_files_are_experta_1_9_4_but_for_the_renamed_imports():
    # tests/fixtures/experta-1.9.4.RECORD lists the released wheel's files and their hashes;
    # with the one documented rename undone, every vendored file must hash the same.
    import base64
    import hashlib

    from conftest import ROOT

    vendor = ROOT / "ipexpert" / "_vendor"
    expected = {}
    for line in (ROOT / "tests" / "fixtures" / "experta-1.9.4.RECORD").read_text().splitlines():
        name, digest, _size = line.split(",")
        expected[name] = digest
    found = {str(p.relative_to(vendor)) for p in vendor.glob("experta/**/*.py")}
    assert found == set(expected)
    for name, digest in expected.items():
        source = (vendor / name).read_bytes().replace(b"ipexpert._vendor.experta", b"experta")
        actual = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(source).digest()).rstrip(b"=").decode()
        assert actual == digest, f"{name} differs from experta 1.9.4 beyond the renamed imports"
