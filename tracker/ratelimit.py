"""Fixed-window rate limits in the cache (Redis in production, shared by every web process)."""

import hashlib

from django.core.cache import cache


def allow(scope: str, identity: str, *, limit: int, window_seconds: int) -> bool:
    """Count one more use of `scope` by `identity`; False once `limit` uses fall in the window.

    The identity is hashed: e-mail addresses and client addresses are not kept in the cache.
    """
    key = f"ratelimit:{scope}:{hashlib.sha256(identity.encode()).hexdigest()}"
    # add() starts the window only if none is running; incr() is atomic in Redis and locmem.
    cache.add(key, 0, timeout=window_seconds)
    try:
        used = cache.incr(key)
    except ValueError:  # the window expired between add() and incr(): a new one begins
        cache.add(key, 1, timeout=window_seconds)
        used = 1
    return used <= limit
