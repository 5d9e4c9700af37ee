"""The one place that imports experta, so that it works on Python 3.10 and later.

experta 1.9.4, its last release, pins frozendict 1.2, whose class statement reads
`collections.Mapping`, an alias Python 3.10 removed. If frozendict fails to import for
that reason, the alias is put back for the duration of that one import and removed
again; experta itself only uses `collections.abc`. With frozendict 2.x installed
nothing is patched. Everything else imports experta from here.
"""

import collections
import collections.abc

try:
    import frozendict  # noqa: F401
except AttributeError:  # frozendict 1.2 on Python >= 3.10
    collections.Mapping = collections.abc.Mapping
    try:
        import frozendict  # noqa: F401
    finally:
        del collections.Mapping

import logging

_root_handlers = list(logging.getLogger().handlers)
import experta  # noqa: E402
from experta import AND, AS, EXISTS, MATCH, NOT, TEST, Fact, KnowledgeEngine, P, Rule  # noqa: E402
from experta.strategies import DepthStrategy  # noqa: E402

# experta's engine module calls logging.basicConfig() on import; undo that side effect.
for _handler in list(logging.getLogger().handlers):
    if _handler not in _root_handlers:
        logging.getLogger().removeHandler(_handler)

__all__ = ["AND", "AS", "EXISTS", "MATCH", "NOT", "TEST", "DepthStrategy", "Fact", "KnowledgeEngine", "P", "Rule", "experta"]
