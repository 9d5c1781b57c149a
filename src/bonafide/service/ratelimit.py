"""Rate limits: token buckets per key (a client IP), kept in this process's memory.

Owns: ``RateLimiter`` and the ``RateLimited`` error (a ``TooMany`` that knows when to retry).
Imports: the standard library and ``bonafide.errors``.

Why in memory: ``bonafide serve`` is one process, and a limiter that forgets on restart only
forgives a burst. Several processes behind a balancer each keep their own buckets, so the real
limit is the per-process one times the number of processes; put the limit in front (the proxy)
or in the database if that matters. The buckets are bounded (``KEYS_MAX``): when full, the
longest-idle keys are forgotten first, so a flood of addresses cannot exhaust memory.

Time is passed in (``now``) like everywhere else, so tests drive it with a manual clock.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from bonafide.errors import TooMany

KEYS_MAX = 100_000


class RateLimited(TooMany):
    """Over a rate limit; ``retry_after_seconds`` says when one more request will be let in."""

    def __init__(self, code: str, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(code, message)
        self.retry_after_seconds = retry_after_seconds


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: datetime


class RateLimiter:
    """``capacity`` requests per ``period`` per key, refilled continuously, bursts up to capacity.

    ``check`` refuses when the key's bucket is empty without taking a token; ``hit`` takes one
    (and refuses when there is none). Sign-up uses ``hit``; failed authentication ``check``s
    before trying a key and ``spend``s only when the key was wrong, so a client with a valid key
    is never slowed down by its own successes.
    """

    def __init__(self, *, name: str, capacity: int, period: timedelta) -> None:
        assert capacity >= 1 and period > timedelta(0)
        self.name = name
        self.capacity = capacity
        self.rate_per_second = capacity / period.total_seconds()
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def _refilled(self, key: str, now: datetime) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(tokens=float(self.capacity), at=now)
            self._buckets[key] = bucket
            while len(self._buckets) > KEYS_MAX:
                self._buckets.popitem(last=False)
        else:
            elapsed = max((now - bucket.at).total_seconds(), 0.0)
            refill = elapsed * self.rate_per_second
            bucket.tokens = min(float(self.capacity), bucket.tokens + refill)
            bucket.at = max(bucket.at, now)
        self._buckets.move_to_end(key)
        return bucket

    def _refuse(self, bucket: _Bucket) -> RateLimited:
        wait = (1.0 - bucket.tokens) / self.rate_per_second
        return RateLimited(
            f"{self.name}_rate_limited",
            f"too many {self.name.replace('_', ' ')} attempts; retry later",
            retry_after_seconds=max(1, math.ceil(wait)),
        )

    def check(self, key: str, *, now: datetime) -> None:
        """Raise ``RateLimited`` if ``key`` has no token left; take none."""
        with self._lock:
            bucket = self._refilled(key, now)
            if bucket.tokens < 1.0:
                raise self._refuse(bucket)

    def hit(self, key: str, *, now: datetime) -> None:
        """Take a token for ``key`` or raise ``RateLimited``."""
        with self._lock:
            bucket = self._refilled(key, now)
            if bucket.tokens < 1.0:
                raise self._refuse(bucket)
            bucket.tokens -= 1.0

    def spend(self, key: str, *, now: datetime) -> None:
        """Take a token for ``key`` if there is one; never raises (the next ``check`` will)."""
        with self._lock:
            bucket = self._refilled(key, now)
            bucket.tokens = max(0.0, bucket.tokens - 1.0)
