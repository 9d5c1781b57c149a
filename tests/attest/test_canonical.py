"""Canonical JSON: the byte form every signature covers (RFC 8785, integers only)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bonafide.attest.canonical import (
    DEPTH_MAX,
    INTEGER_MAX,
    CanonicalError,
    dumps,
    is_canonical,
    loads,
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-INTEGER_MAX, max_value=INTEGER_MAX)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(st.characters(exclude_categories=("Cs",)), max_size=8), inner,
                      max_size=5),
    max_leaves=30,
)


def test_keys_are_sorted_and_whitespace_is_dropped() -> None:
    assert dumps({"b": 1, "a": [True, None, "x"], "c": {"z": -1, "y": 0}}) == (
        b'{"a":[true,null,"x"],"b":1,"c":{"y":0,"z":-1}}'
    )


def test_strings_escape_only_quote_backslash_and_control_characters() -> None:
    assert dumps("\"\\/\b\f\n\r\t\x01\x1f\x7f é €😀") == (
        '"\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f é €😀"'.encode()
    )


def test_keys_sort_by_utf16_code_units_as_rfc_8785_says() -> None:
    # U+1F600 is a surrogate pair (D83D DE00) in UTF-16, so it sorts before U+FF61,
    # although its code point is larger.
    assert dumps({"\uff61": 1, "\U0001f600": 2, "a": 3}) == (
        '{"a":3,"\U0001f600":2,"\uff61":1}'.encode()
    )


@pytest.mark.parametrize("value", [1.0, 0.5, float("nan"), float("inf"), {"a": [1, 2.5]}])
def test_floats_are_refused_anywhere(value: object) -> None:
    with pytest.raises(CanonicalError) as caught:
        dumps(value)
    assert caught.value.reason == "float_not_allowed"


@pytest.mark.parametrize("text", ['{"a":1.0}', '{"a":1e3}', "[NaN]", "[-Infinity]", '{"a":[0.1]}'])
def test_parsing_refuses_floats_and_float_constants(text: str) -> None:
    with pytest.raises(CanonicalError) as caught:
        loads(text)
    assert caught.value.reason == "float_not_allowed"


def test_integers_outside_the_safe_range_are_refused_both_ways() -> None:
    assert dumps(INTEGER_MAX) == str(INTEGER_MAX).encode()
    for bad in (INTEGER_MAX + 1, -INTEGER_MAX - 1, 10**400):
        with pytest.raises(CanonicalError, match="integer_out_of_range"):
            dumps(bad)
        with pytest.raises(CanonicalError, match="integer_out_of_range"):
            loads(str(bad))


def test_duplicate_keys_lone_surrogates_and_odd_types_are_refused() -> None:
    with pytest.raises(CanonicalError, match="duplicate_key"):
        loads('{"a":1,"a":1}')
    with pytest.raises(CanonicalError, match="string_not_unicode"):
        dumps("\ud800")
    with pytest.raises(CanonicalError, match="key_not_string"):
        dumps({1: 2})
    with pytest.raises(CanonicalError, match="unsupported_value"):
        dumps({"a": b"bytes"})
    with pytest.raises(CanonicalError, match="string_not_unicode"):
        loads(b'"\xff"')


def test_nesting_is_limited() -> None:
    deep: object = 1
    for _ in range(DEPTH_MAX + 1):
        deep = [deep]
    with pytest.raises(CanonicalError, match="too_deep"):
        dumps(deep)
    with pytest.raises(CanonicalError, match="too_deep"):
        loads("[" * (DEPTH_MAX + 1) + "1" + "]" * (DEPTH_MAX + 1))
    with pytest.raises(CanonicalError, match="too_deep"):
        loads("[" * 100_000)


def test_every_proper_prefix_of_a_document_reports_truncation() -> None:
    data = dumps({"a": "x\u00e9\n\"q\\ \u2603", "b": [1, -23, True, None, False],
                  "c": {"d": "\u0001"}})
    for cut in range(len(data)):
        with pytest.raises(CanonicalError) as caught:
            loads(data[:cut])
        assert caught.value.reason == "document_truncated", (cut, data[:cut])


def test_garbage_is_malformed_not_truncated() -> None:
    for text in ('{"a":1]', '{"a" 1}', "[1,,2]", '{"a":tru }', "[1] x"):
        with pytest.raises(CanonicalError) as caught:
            loads(text)
        assert caught.value.reason == "document_malformed", text


@given(values)
def test_a_value_survives_a_round_trip_and_its_bytes_are_canonical(value: object) -> None:
    data = dumps(value)
    assert loads(data) == value
    assert is_canonical(data)
    assert dumps(loads(data)) == data


@given(st.dictionaries(st.text("abcdefghijklmnopqrstuvwxyz_", max_size=6),
                       st.integers(-1000, 1000) | st.text(max_size=5) | st.booleans(),
                       max_size=8))
def test_matches_the_standard_library_for_ascii_keys(value: dict[str, object]) -> None:
    # The slow, obvious twin: json.dumps with sorted keys and compact separators agrees
    # whenever keys are ASCII (where UTF-16 order and code point order coincide).
    try:
        reference = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except UnicodeEncodeError:
        return
    if any("\ud800" <= c <= "\udfff" for c in reference):
        return
    assert dumps(value) == reference.encode()


def test_spaces_reordering_and_escaped_unicode_are_not_canonical() -> None:
    assert is_canonical(b'{"a":1,"b":2}')
    assert not is_canonical(b'{"b":2,"a":1}')
    assert not is_canonical(b'{"a": 1, "b": 2}')
    assert not is_canonical(b'{"a":"\\u00e9"}')
    assert not is_canonical(b'{"a":01}')
    assert not is_canonical(b'{"a":-0}')
