"""The injected clock of the tests: an aware datetime that moves only when the test says so."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


class Clock:
    def __init__(self, start: datetime = T0):
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **delta) -> datetime:
        self.t += timedelta(**delta)
        return self.t
