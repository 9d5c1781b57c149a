"""Public identifiers: a short prefix and a time-ordered random part, e.g. ``ord_01jd...``.

Owns: the id format. The pure domain never makes ids; the service layer passes them in, so the
random source and the clock stay outside the core.
"""

from __future__ import annotations

import secrets
from datetime import datetime

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _b32(number: int, width: int) -> str:
    out = []
    for _ in range(width):
        number, digit = divmod(number, 32)
        out.append(_ALPHABET[digit])
    return "".join(reversed(out))


def new_id(prefix: str, *, now: datetime) -> str:
    """``prefix_`` + 10 characters of milliseconds since 1970 + 16 random characters (80 bits).

    Ids made later sort later (to the millisecond), which keeps index inserts local.
    """
    assert prefix.isalpha() and prefix.islower() and len(prefix) <= 8
    millis = int(now.timestamp() * 1000)
    return f"{prefix}_{_b32(millis, 10)}{_b32(secrets.randbits(80), 16)}"
