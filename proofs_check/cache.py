"""Results computed once per process and shared by several claims (solver runs, references).

Every cache is registered here, so `clear()` empties all of them: the route tests
(tests/test_soundness_routes.py) make a solver deliberately wrong and must not see a result
computed before.
"""

from __future__ import annotations

import functools

_CACHES: list = []


def memo(fn):
    """functools.lru_cache(maxsize=None) around `fn`, registered for clear()."""
    cached = functools.lru_cache(maxsize=None)(fn)
    _CACHES.append(cached)
    return cached


def clear() -> None:
    """Empty every registered cache, and seli_exact.metrics' cache of reference Gram matrices."""
    from seli_exact import metrics

    for c in _CACHES:
        c.cache_clear()
    metrics._references.cache_clear()
