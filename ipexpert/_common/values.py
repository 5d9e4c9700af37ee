"""Dates and integers read strictly, and the same on every Python version.

`date.fromisoformat` accepts `20261125` and `2026-W48-3` from Python 3.11 on and refuses them
on 3.10, and `int()` refuses more than 4,300 digits from 3.11 on only: the project reads dates
and integers through here so that what a profile, `--as-of` or a request means never depends
on the interpreter.
"""

from __future__ import annotations

import datetime
import re

DATE_FORMAT = "YYYY-MM-DD"
# The dates a profile, --as-of and a request may hold: the rules' date arithmetic stays within what a date can hold.
EARLIEST, LATEST = datetime.date(1800, 1, 1), datetime.date(2200, 12, 31)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
MAX_INT_DIGITS = 18  # every integer a profile holds fits well within this; more is a mistake or an attack


def is_date_text(text) -> bool:
    """False for text that is not a real calendar date written exactly as YYYY-MM-DD.

    Like every JSON Schema format check, it passes what is not text: `type` reports that.
    """
    if not isinstance(text, str):
        return True
    try:
        parse_date(text)
    except (TypeError, ValueError):
        return False
    return True


def parse_date(text: str) -> datetime.date:
    """The date *text* names, written exactly as YYYY-MM-DD; ValueError otherwise."""
    if not isinstance(text, str):
        raise TypeError(f"a date is text, not {type(text).__name__}")
    if not _DATE.fullmatch(text):
        raise ValueError(f"{text!r} is not a date ({DATE_FORMAT})")
    return datetime.date.fromisoformat(text)


def is_integer(value) -> bool:
    """An int, not a bool and not a float such as 2000.0 or 1e308."""
    return isinstance(value, int) and not isinstance(value, bool)


def parse_int(text: str) -> int:
    """Decimal digits (with an optional sign), or YAML's 0x/0o forms, as an int of at most MAX_INT_DIGITS digits."""
    digits = text.lstrip("+-")
    if digits.startswith(("0x", "0o")):  # linear to read in a power-of-two base; bounded by value, not by length
        value = int(text, 0)
        if abs(value) >= 10**MAX_INT_DIGITS:
            raise ValueError(f"{text[:24]}... is larger than an integer of {MAX_INT_DIGITS} digits")
        return value
    if len(digits) > MAX_INT_DIGITS:
        raise ValueError(f"{text[:24]}... has {len(digits):,} digits; an integer has at most {MAX_INT_DIGITS}")
    return int(text)
