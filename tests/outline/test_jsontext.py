"""The indented JSON writer gives exactly the text json.dumps gives (outlines depend on it byte for byte)."""

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from ipexpert._common import jsontext

leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.sampled_from(["", "中国（CN）", 'a"b\\c\n\t\x00\u2028', "\ud800x"])
)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=40,
)


@given(values, st.sampled_from([0, 1, 2, 4]))
def test_the_text_is_json_dumps_text(value, indent):
    assert jsontext.dumps(value, indent) == json.dumps(value, indent=indent, ensure_ascii=False)


def test_what_it_does_not_write_itself_goes_to_json_dumps():
    assert jsontext.dumps({1: [math.inf], None: {2.5: True}}) == json.dumps({1: [math.inf], None: {2.5: True}}, indent=2)
    circular: list = []
    circular.append(circular)
    for value in (circular, {"a": {1, 2}}):
        try:
            json.dumps(value, indent=2)
        except (TypeError, ValueError) as exc:
            expected = type(exc)
        try:
            jsontext.dumps(value)
        except expected:
            continue
        raise AssertionError(f"{value!r} did not raise {expected.__name__}")
