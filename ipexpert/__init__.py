"""ipexpert: a justified IP-protection strategy outline for a cross-border e-commerce firm.

>>> import ipexpert
>>> rules = ipexpert.load_rules()                 # compile once, share freely
>>> outline = ipexpert.evaluate("examples/spinwell-trending.yaml", rules, as_of="2026-11-25")
>>> outline.recommendations[0].title
"""

__version__ = "0.1.0"

# The languages an outline, a report and the interview are written in (rule texts exist in each).
LANGUAGES = ("en", "zh-CN")

# Public names, imported on first use (PEP 562): `ipexpert --help` and `import ipexpert`
# stay quick, and experta and jsonschema load only when something needs them.
_LAZY = {
    "evaluate": "_api",
    "load_rules": "_api",
    "report": "_api",
    "validate": "_api",
    "RuleBase": "_engine.rulebase",
    "EvaluationError": "_errors",
    "InvalidProfileError": "_errors",
    "InvalidRulePackError": "_errors",
    "ProfileTooLargeError": "_errors",
    "IPExpertError": "_errors",
    "Problem": "_errors",
    "Letterhead": "_outputs.letterhead",
    "Justification": "_outline.assemble",
    "Outline": "_outline.assemble",
    "Recommendation": "_outline.assemble",
    "Risk": "_outline.assemble",
    "Source": "_outline.assemble",
    "Stage": "_outline.assemble",
    "TimelineEntry": "_outline.assemble",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ipexpert' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"ipexpert.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "EvaluationError",
    "IPExpertError",
    "InvalidProfileError",
    "InvalidRulePackError",
    "Justification",
    "LANGUAGES",
    "Letterhead",
    "Outline",
    "Problem",
    "ProfileTooLargeError",
    "Recommendation",
    "Risk",
    "RuleBase",
    "Source",
    "Stage",
    "TimelineEntry",
    "evaluate",
    "load_rules",
    "report",
    "validate",
]
