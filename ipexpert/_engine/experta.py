"""The one place that imports experta, and the list of every adjustment ipexpert makes to it.

experta 1.9.4, its last release, pins `frozendict==1.2` (which does not import on Python
3.10+) and `schema==0.6.7`, so an application using newer versions could not install
ipexpert. ipexpert therefore ships experta's code unchanged under `ipexpert/_vendor/experta`
(LGPL-3.0; only its imports renamed, see `ipexpert/_vendor/README.md`) and requires
`frozendict>=2.4` and `schema>=0.7` itself.

The adjustments, all of them:

1. Vendored with its imports renamed, and without its frozendict/schema pins (above).
2. experta's engine module calls `logging.basicConfig()` on import; this module undoes it.
3. `ChangedNodesMatcher` (`ipexpert/_engine/matcher.py`) replaces `ReteMatcher`'s runtime:
   experta builds the network, ipexpert runs it (same activations, same order, faster).
4. `ExactDepthStrategy` (same module) replaces `DepthStrategy`, whose removal of an
   activation a later fact blocks looked in only two places and let a rule fire past its `not`.

Everything else in ipexpert imports experta from here.
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
