"""ipexpert: a justified IP-protection strategy outline for a cross-border e-commerce firm.

    >>> import ipexpert
    >>> rules = ipexpert.load_rules()                 # compile once, share freely
    >>> outline = ipexpert.evaluate("examples/spinwell-trending.yaml", rules, as_of="2026-11-25")
    >>> outline.recommendations[0].title
"""

from ._api import evaluate, load_rules, validate
from ._engine import RuleBase
from ._errors import EvaluationError, InvalidProfileError, InvalidRulePackError, IPExpertError, Problem
from ._outline import Justification, Outline, Recommendation, Risk, Source, Stage, TimelineEntry

__version__ = "0.1.0"

__all__ = [
    "EvaluationError",
    "IPExpertError",
    "InvalidProfileError",
    "InvalidRulePackError",
    "Justification",
    "Outline",
    "Problem",
    "Recommendation",
    "Risk",
    "RuleBase",
    "Source",
    "Stage",
    "TimelineEntry",
    "evaluate",
    "load_rules",
    "validate",
]
