"""Clocks: the one place that reads the time. The domain gets ``now`` as an argument.

``SystemClock`` is the real one. ``ManualClock`` is a real clock too, one that moves only when
told, for tests of timeouts and for simulations that replay months in seconds.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    def __init__(self, start: datetime) -> None:
        assert start.tzinfo is not None, "clocks speak aware UTC datetimes"
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment
