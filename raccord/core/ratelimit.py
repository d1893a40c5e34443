"""A fixed-window rate limiter on the shared cache (Redis in production)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address. Behind ``RACCORD_TRUSTED_PROXIES`` reverse proxies, the address the
    nearest untrusted hop was seen from in X-Forwarded-For; never a value the client can forge."""
    proxies = int(getattr(settings, "RACCORD_TRUSTED_PROXIES", 0))
    remote = str(request.META.get("REMOTE_ADDR", "unknown"))
    if proxies <= 0:
        return remote
    hops = [
        hop.strip()
        for hop in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
        if hop.strip()
    ]
    # Each trusted proxy appends the address it received the request from.
    return hops[-proxies] if len(hops) >= proxies else remote


def rate_limit_hit(
    *, scope: str, key: str, limit: int, window_seconds: int = 60, now: float | None = None
) -> bool:
    """Count one hit for (scope, key); True when the caller is over ``limit`` in this window."""
    moment = time.time() if now is None else now
    bucket = int(moment // window_seconds)
    cache_key = f"rl:{scope}:{key}:{bucket}"
    if cache.add(cache_key, 1, timeout=window_seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:
            cache.set(cache_key, 1, timeout=window_seconds + 1)
            count = 1
    return count > limit


def rate_limit_reset(
    *, scope: str, key: str, window_seconds: int = 60, now: float | None = None
) -> None:
    moment = time.time() if now is None else now
    cache.delete(f"rl:{scope}:{key}:{int(moment // window_seconds)}")


def rate_limit_refund(
    *, scope: str, key: str, window_seconds: int = 60, now: float | None = None
) -> None:
    """Take back one hit of this window (an attempt that turned out legitimate, e.g. a login
    with the right password: subscribers behind one carrier-grade NAT share an address, and
    their successful logins must not lock each other out)."""
    moment = time.time() if now is None else now
    cache_key = f"rl:{scope}:{key}:{int(moment // window_seconds)}"
    try:
        if cache.decr(cache_key) < 0:
            cache.set(cache_key, 0, timeout=window_seconds + 1)
    except ValueError:  # expired or never counted: nothing to take back
        pass
