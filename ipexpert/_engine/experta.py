"""The one place that imports experta, and the list of every adjustment ipexpert makes to it.

experta 1.9.4, its last release, pins `frozendict==1.2` (which does not import on Python
3.10+) and `schema==0.6.7`, so an application using newer versions could not install
ipexpert. ipexpert therefore ships experta's code unchanged under `ipexpert/_vendor/experta`
(LGPL-3.0; only its imports renamed, see `ipexpert/_vendor/README.md`) and requires
`frozendict>=2.4` and `schema>=0.7` itself.

The adjustments, all of them:

1. Vendored with its imports renamed, and without its frozendict/schema pins (above).
2. experta's engine module calls `logging.basicConfig()` on import; this module undoes it.
3. `ChangedNodesMatcher` (`ipexpert/_engine/network.py`, `joins.py`) replaces `ReteMatcher`'s runtime:
   experta builds the network, ipexpert runs it (same activations, same order, faster).
4. `ExactDepthStrategy` (`ipexpert/_engine/agenda.py`) replaces `DepthStrategy`, whose removal of an
   activation a later fact blocks looked in only two places and let a rule fire past its `not`.
5. `new_fact` makes the fact `cls(**fields)` makes, without experta's per-field path
   (a declared-yet check and a single-dispatch `freeze` for every value): building the
   facts was a fifth of an evaluation.

Everything else in ipexpert imports experta from here.
"""

import logging

_root_handlers = list(logging.getLogger().handlers)
from ipexpert._vendor import experta  # noqa: E402
from ipexpert._vendor.experta import AND, AS, EXISTS, MATCH, NOT, TEST, Fact, KnowledgeEngine, P, Rule  # noqa: E402

# What ipexpert's Rete runtime (network, joins, agenda) builds on: experta's network, nodes and tokens.
from ipexpert._vendor.experta.activation import Activation  # noqa: E402
from ipexpert._vendor.experta.fieldconstraint import ANDFC, FieldConstraint, L, W  # noqa: E402
from ipexpert._vendor.experta.matchers.rete import ReteMatcher  # noqa: E402
from ipexpert._vendor.experta.matchers.rete.check import FactCapture, FeatureCheck, TypeCheck  # noqa: E402
from ipexpert._vendor.experta.matchers.rete.mixins import ChildNode  # noqa: E402
from ipexpert._vendor.experta.matchers.rete.nodes import (  # noqa: E402
    BusNode,
    FeatureTesterNode,
    NotNode,
    OrdinaryMatchNode,
    WhereNode,
)
from ipexpert._vendor.experta.matchers.rete.token import Token  # noqa: E402
from ipexpert._vendor.experta.strategies import DepthStrategy  # noqa: E402
from ipexpert._vendor.experta.utils import freeze  # noqa: E402

# experta's engine module calls logging.basicConfig() on import; undo that side effect.
for _handler in list(logging.getLogger().handlers):
    if _handler not in _root_handlers:
        logging.getLogger().removeHandler(_handler)

_PLAIN = frozenset((str, int, float, bool, type(None)))


def frozen_fields(fields: dict) -> dict:
    """*fields* with each value as a fact holds it (lists and mappings frozen, as experta's `freeze`)."""
    return {name: value if type(value) in _PLAIN else freeze(value) for name, value in fields.items()}


def new_fact(cls, fields: dict, frozen: bool = False):
    """The undeclared fact `cls(**fields)` would make: same items in the same order, same state.

    *frozen* says the values are already as `frozen_fields` gives them (kept and shared:
    frozen values never change).
    """
    fact = cls.__new__(cls)
    dict.update(fact, fields if frozen else frozen_fields(fields))
    fact._Fact__defaults = {}
    return fact


__all__ = [
    "AND",
    "ANDFC",
    "AS",
    "EXISTS",
    "MATCH",
    "NOT",
    "TEST",
    "Activation",
    "BusNode",
    "ChildNode",
    "DepthStrategy",
    "Fact",
    "FactCapture",
    "FeatureCheck",
    "FeatureTesterNode",
    "FieldConstraint",
    "KnowledgeEngine",
    "L",
    "NotNode",
    "OrdinaryMatchNode",
    "P",
    "ReteMatcher",
    "Rule",
    "Token",
    "TypeCheck",
    "W",
    "WhereNode",
    "experta",
    "frozen_fields",
    "new_fact",
]
