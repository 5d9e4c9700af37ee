"""The one place that imports experta, and every adjustment ipexpert makes to it.

experta 1.9.4, its last release, pins `frozendict==1.2` (which does not import on Python
3.10+) and `schema==0.6.7`, so an application using newer versions could not install
ipexpert. ipexpert therefore ships experta's code unchanged under `ipexpert/_vendor/experta`
(LGPL-3.0; only its imports renamed, see `ipexpert/_vendor/README.md`) and requires
`frozendict>=2.4` and `schema>=0.7` itself. The one adjustment left is here: experta's
engine module calls `logging.basicConfig()` on import, which this module undoes.
Everything else imports experta from here.
"""

import logging

_root_handlers = list(logging.getLogger().handlers)
from ipexpert._vendor import experta  # noqa: E402
from ipexpert._vendor.experta import AND, AS, EXISTS, MATCH, NOT, TEST, Fact, KnowledgeEngine, P, Rule  # noqa: E402
from ipexpert._vendor.experta.strategies import DepthStrategy  # noqa: E402

# experta's engine module calls logging.basicConfig() on import; undo that side effect.
for _handler in list(logging.getLogger().handlers):
    if _handler not in _root_handlers:
        logging.getLogger().removeHandler(_handler)

__all__ = ["AND", "AS", "EXISTS", "MATCH", "NOT", "TEST", "DepthStrategy", "Fact", "KnowledgeEngine", "P", "Rule", "experta"]
