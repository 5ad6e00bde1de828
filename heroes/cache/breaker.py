"""
The cache's circuit breaker: after a failure, the cache is not tried again for a while.

Without it every caller would wait for its own socket timeout on a sick Redis. The failure
is logged once per LOG_INTERVAL, not once per call, so an outage is a few log lines.
"""

from __future__ import annotations

import logging
import time
from collections import Counter

logger = logging.getLogger("heroes.cache")

LOG_INTERVAL = 30.0


class Breaker:
    def __init__(self, *, retry_after: float, stats: Counter):
        self.retry_after = retry_after
        self.stats = stats
        self._down_until = 0.0
        self._last_log = -LOG_INTERVAL

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def trip(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._down_until = now + self.retry_after
        self.stats["failures"] += 1
        if now - self._last_log >= LOG_INTERVAL:
            self._last_log = now
            logger.warning(
                "hero cache unavailable; serving from the database",
                extra={
                    "error": f"{type(exc).__name__}: {exc}",
                    "retry_after_s": self.retry_after,
                    "failures": self.stats["failures"],
                },
            )

    def reset(self) -> None:
        self._down_until = 0.0
