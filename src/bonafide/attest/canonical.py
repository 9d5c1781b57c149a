"""Canonical JSON: one byte string per document, so a signature covers meaning, not formatting.

Owns: the encoding that every signed bonafide document (attestations, liability roots, market
keyrings) is serialised in, and the strict parser that reads it back. Imports: the standard
library only.

The rules (RFC 8785, the JSON Canonicalization Scheme, restricted to integers):

1. Values are objects, arrays, strings, integers, ``true``, ``false`` and ``null``. **No
   floating-point numbers anywhere** (no ``1.0``, no ``1e3``, no ``NaN``): a float cannot say most
   decimals exactly, and two parsers may print one differently, which would break signatures.
   Integers lie in ``[-(2**53 - 1), 2**53 - 1]`` so that every JSON parser, JavaScript's included,
   reads them exactly. Amounts are minor units; rates are basis points or numerator/denominator.
2. Object keys are strings, unique, and sorted by their UTF-16 code units (as RFC 8785 says; for
   ASCII keys this is plain byte order).
3. No insignificant whitespace: ``{"a":1,"b":[1,2]}``.
4. Strings are UTF-8, unescaped except for ``"`` and ``\\``, which become ``\\"`` and ``\\\\``,
   and the control characters U+0000..U+001F, which become ``\\b \\t \\n \\f \\r`` or
   ``\\u00xx`` (lower-case hex). Everything else, ``/`` and non-ASCII included, is written as is.
   Lone surrogates cannot be encoded in UTF-8 and are refused.
5. Integers are written in decimal without leading zeros or a plus sign; ``-0`` does not occur.

``dumps`` refuses anything outside these rules; ``loads`` refuses duplicate keys, floats, big
integers, constants like ``NaN``, over-deep nesting and oversized input. ``is_canonical`` says
whether some bytes are exactly what ``dumps`` would have written for the value they parse to.
"""

from __future__ import annotations

import json
from typing import Any

INTEGER_MAX = 2**53 - 1
"""Largest magnitude of an integer in a canonical document (I-JSON's safe range)."""

DEPTH_MAX = 32
"""Limit on the nesting of objects and arrays."""

SIZE_MAX_BYTES = 1_048_576
"""Limit on the size of one canonical document (1 MiB)."""

JsonValue = dict[str, Any] | list[Any] | str | int | bool | None


class CanonicalError(ValueError):
    """A value or a byte string that is not canonical JSON; ``reason`` names the rule broken.

    Reasons: ``float_not_allowed``, ``integer_out_of_range``, ``key_not_string``,
    ``duplicate_key``, ``unsupported_value``, ``too_deep``, ``too_large``, ``string_not_unicode``,
    ``document_truncated`` (the input ends in the middle of a value), ``document_malformed``.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _utf16_key(key: str) -> bytes:
    # RFC 8785 orders keys by UTF-16 code units; big-endian UTF-16 bytes compare the same way.
    return key.encode("utf-16-be", "surrogatepass")


def _string(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalError("string_not_unicode", f"lone surrogate in {text!r}") from None
    # json.dumps with ensure_ascii=False escapes exactly the RFC 8785 set: '"', '\\' and
    # U+0000..U+001F (with the short forms \b \t \n \f \r, the rest as lower-case \u00xx).
    return json.dumps(text, ensure_ascii=False)


def _encode(value: object, out: list[str], depth: int) -> None:
    if depth > DEPTH_MAX:
        raise CanonicalError("too_deep", f"nesting deeper than {DEPTH_MAX}")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if abs(value) > INTEGER_MAX:
            raise CanonicalError("integer_out_of_range", f"|{value}| > {INTEGER_MAX}")
        out.append(str(int(value)))
    elif isinstance(value, float):
        raise CanonicalError("float_not_allowed", f"{value!r}: canonical documents hold integers")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalError("key_not_string", f"object key {key!r} is not a string")
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16_key)):
            if i:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _encode(value[key], out, depth + 1)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out, depth + 1)
        out.append("]")
    else:
        raise CanonicalError("unsupported_value", f"{type(value).__name__} is not a JSON value")


def dumps(value: object) -> bytes:
    """Encode ``value`` as canonical JSON (UTF-8 bytes); raise ``CanonicalError`` if it cannot be.

    >>> dumps({"b": [1, True, None], "a": "é"})
    b'{"a":"\\xc3\\xa9","b":[1,true,null]}'
    """
    out: list[str] = []
    _encode(value, out, 0)
    data = "".join(out).encode("utf-8")
    if len(data) > SIZE_MAX_BYTES:
        raise CanonicalError("too_large", f"{len(data)} bytes > {SIZE_MAX_BYTES}")
    return data


def _refuse_float(text: str) -> float:
    raise CanonicalError("float_not_allowed", f"{text}: canonical documents hold integers")


def _refuse_constant(text: str) -> float:
    raise CanonicalError("float_not_allowed", f"{text} is not a JSON number")


def _parse_int(text: str) -> int:
    # Bound the digits before converting, so a megabyte of digits costs nothing.
    if len(text.lstrip("-")) > 16 or abs(int(text)) > INTEGER_MAX:
        raise CanonicalError("integer_out_of_range", f"{text[:24]} exceeds {INTEGER_MAX}")
    return int(text)


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, item in pairs:
        if key in found:
            raise CanonicalError("duplicate_key", f"key {key!r} appears twice")
        found[key] = item
    return found


def _depth(value: object, depth: int = 0) -> int:
    """The deepest level any value sits at, the top being 0 (as ``_encode`` counts)."""
    if isinstance(value, dict):
        return max((_depth(v, depth + 1) for v in value.values()), default=depth)
    if isinstance(value, list):
        return max((_depth(v, depth + 1) for v in value), default=depth)
    return depth


def _stops_early(text: str, error: json.JSONDecodeError) -> bool:
    """Whether the parse failed only because ``text`` ends where more was due (a cut document).

    That is: the error sits at the end; or a string, a ``\\uXXXX`` escape or a literal
    (``true``, ``false``, ``null``, a lone ``-``) is still open when the text ends.
    """
    rest = text[error.pos:]
    return (
        error.pos >= len(text.rstrip())
        or error.msg.startswith("Unterminated string")
        or (error.msg.startswith("Invalid \\uXXXX") and len(rest) <= 5)
        or (
            error.msg == "Expecting value"
            and any(word.startswith(rest) for word in ("true", "false", "null", "-"))
        )
    )


def loads(data: bytes | str) -> JsonValue:
    """Parse JSON strictly: no floats, no duplicate keys, bounded integers, size and depth.

    The input need not be canonical (see ``is_canonical``). Raises ``CanonicalError`` whose
    ``reason`` is ``document_truncated`` when the input stops in the middle of a value.
    """
    if isinstance(data, bytes):
        if len(data) > SIZE_MAX_BYTES:
            raise CanonicalError("too_large", f"{len(data)} bytes > {SIZE_MAX_BYTES}")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            if error.end == len(data) and error.reason == "unexpected end of data":
                raise CanonicalError("document_truncated", "cut inside a character") from None
            raise CanonicalError("string_not_unicode", str(error)) from None
    else:
        text = data
        if len(text) > SIZE_MAX_BYTES:
            raise CanonicalError("too_large", f"{len(text)} characters > {SIZE_MAX_BYTES}")
    try:
        value = json.loads(
            text,
            parse_float=_refuse_float,
            parse_int=_parse_int,
            parse_constant=_refuse_constant,
            object_pairs_hook=_unique_object,
        )
    except RecursionError:
        raise CanonicalError("too_deep", f"nesting deeper than {DEPTH_MAX}") from None
    except json.JSONDecodeError as error:
        if _stops_early(text, error):
            raise CanonicalError("document_truncated", error.msg) from None
        raise CanonicalError("document_malformed", f"{error.msg} at {error.pos}") from None
    if _depth(value) > DEPTH_MAX:
        raise CanonicalError("too_deep", f"nesting deeper than {DEPTH_MAX}")
    return value  # type: ignore[no-any-return]


def is_canonical(data: bytes) -> bool:
    """True when ``data`` parses and is byte for byte what ``dumps`` writes for that value."""
    try:
        return dumps(loads(data)) == data
    except CanonicalError:
        return False
