"""experta 1.9.4 imports and runs on this Python, and the compatibility fix leaves no trace."""

import collections
import sys


def test_experta_imports_and_collections_is_left_clean():
    from ipexpert import _experta

    assert _experta.experta.__version__ == "1.9.4"
    assert not hasattr(collections, "Mapping") or sys.version_info < (3, 10)


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
