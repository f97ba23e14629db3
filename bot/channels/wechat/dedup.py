"""Keys seen recently: duplicate deliveries are recognised, memory stays bounded."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, Hashable


class RecentKeys:
    """Remembers keys for `ttl` seconds, at most `capacity` of them (oldest go first)."""

    def __init__(
        self, ttl: float = 300.0, capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self._clock = clock
        self._seen: "OrderedDict[Hashable, float]" = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, key: Hashable) -> bool:
        self._expire(self._clock())
        return key in self._seen

    def _expire(self, now: float) -> None:
        while self._seen:
            oldest, seen_at = next(iter(self._seen.items()))
            if now - seen_at < self.ttl:
                break
            del self._seen[oldest]

    def add(self, key: Hashable) -> bool:
        """Records `key`; False when it was already seen within the TTL (a duplicate).

        Synchronous on purpose: called before the first `await` of a request, a
        retry that arrives while the first delivery is still processing is caught.
        """
        now = self._clock()
        self._expire(now)
        if key in self._seen:
            return False
        self._seen[key] = now
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True
