"""The vendored experta 1.9.4 runs on this Python, next to any installed experta, without side effects."""

import subprocess
import sys


def test_the_vendored_experta_is_used_and_leaves_no_trace():
    # No top-level `experta` module is imported (an application's own experta is left alone),
    # and experta's logging.basicConfig() on import is undone.
    code = (
        "import logging, sys\n"
        "from ipexpert import _experta\n"
        "print(_experta.experta.__version__, _experta.experta.__name__)\n"
        "print('experta' in sys.modules, len(logging.getLogger().handlers))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["1.9.4 ipexpert._vendor.experta", "False 0"]


def test_an_engine_runs_a_rule():
    from ipexpert._experta import MATCH, Fact, KnowledgeEngine, Rule

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
