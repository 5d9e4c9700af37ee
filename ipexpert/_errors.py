"""Problems and the exceptions that carry them.

    IPExpertError                 base of every error this package raises on purpose
    ├── InvalidProfileError       the profile cannot be read or breaks the schema
    ├── InvalidRulePackError      a rule pack cannot be read, breaks the schema, or cannot compile
    ├── EvaluationError           the rules ran away (firing limit) or failed while firing
    │   └── ProfileTooLargeError  a legitimate profile needs more rule firings than one evaluation allows
    ├── MissingExtraError         an optional extra (serve, pdf, docx, dask) is not installed
    └── ProblemsReported          a command already printed the problems it found (exit 1)
        └── Cancelled             the user stopped an interactive command (exit 130)

Each carries `problems`: a list of Problem (file, line, column, path, message).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, with where it is."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    severity: str = "error"

    def format(self) -> str:
        """`FILE:LINE:COL: message (at $.path)`, on one line."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        label = "" if self.severity == "error" else f"{self.severity}: "
        at = f" (at {self.path})" if self.path and self.path != "$" else ""
        return one_line(f"{where}: {label}{self.message}{at}")

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "severity": self.severity,
        }


def one_line(text: object) -> str:
    """Collapse whitespace and make control characters visible, so a message stays one line."""
    text = " ".join(str(text).split())
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


class IPExpertError(Exception):
    """Base class: an input or rule problem that a user can fix."""

    exit_code = 1

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, Problem):
            problems = [problems]
        elif isinstance(problems, str):
            problems = [Problem("<input>", None, None, "$", problems)]
        self.problems = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


class InvalidProfileError(IPExpertError):
    """The profile could not be read, or it breaks the schema or the profile's own consistency."""


class InvalidRulePackError(IPExpertError):
    """A rule pack could not be read, breaks the rule-pack schema, or does not compile."""


class EvaluationError(IPExpertError):
    """The rules failed while running (for instance, a rule kept firing past the limit)."""


class ProfileTooLargeError(EvaluationError):
    """The profile is valid but its lists multiply into more rule firings than one evaluation allows.

    Not a fault of the rules (none of the rules that fired can feed itself): the message names
    the profile's largest lists, so that the user can split it.
    """


class ProblemsReported(IPExpertError):
    """A command found problems and has printed them itself (validate, rules test/check, batch)."""

    def __init__(self) -> None:
        super().__init__([])


class MissingExtraError(IPExpertError):
    """A command needs an optional extra that is not installed; the message names the pip command."""

    def __init__(self, message: str) -> None:
        super().__init__(Problem("ipexpert", None, None, "$", message))


class Cancelled(ProblemsReported):
    """The user stopped an interactive command (Ctrl-C, end of input); it has said so itself."""

    exit_code = 130
