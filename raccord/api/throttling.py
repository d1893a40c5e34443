"""Rate limit of the public endpoints, per client address, on the shared cache."""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from raccord.core.ratelimit import client_ip, rate_limit_hit

WINDOW_SECONDS = 60


class PublicApiThrottle(BaseThrottle):
    """At most ``RACCORD_RATE_LIMITS["public_api"]`` requests a minute per client address.

    Runs before parameter validation (ninja checks throttles first), so malformed requests
    count too: they cost the server as much as good ones."""

    scope = "public_api"
    # The clock, as an attribute so that tests can hold it still inside one window.
    timer = staticmethod(time.time)

    def allow_request(self, request: HttpRequest) -> bool:
        limit = int(settings.RACCORD_RATE_LIMITS[self.scope])
        return not rate_limit_hit(
            scope=self.scope,
            key=client_ip(request),
            limit=limit,
            window_seconds=WINDOW_SECONDS,
            now=self.timer(),
        )

    def wait(self) -> float:
        # Fixed windows: the counter starts again at the next window boundary.
        return WINDOW_SECONDS - (self.timer() % WINDOW_SECONDS)
