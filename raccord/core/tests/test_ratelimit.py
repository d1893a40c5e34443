from django.test import RequestFactory

from raccord.core.ratelimit import client_ip, rate_limit_hit, rate_limit_refund


def test_client_ip_ignores_forwarded_headers_without_trusted_proxies(settings):
    settings.RACCORD_TRUSTED_PROXIES = 0
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(request) == "10.0.0.1"


def test_client_ip_behind_one_trusted_proxy_takes_the_last_hop_it_appended(settings):
    settings.RACCORD_TRUSTED_PROXIES = 1
    # The client forged the first entry; the proxy appended the real address.
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9"
    )
    assert client_ip(request) == "203.0.113.9"


def test_rate_limit_counts_per_window_and_key():
    hits = [rate_limit_hit(scope="t", key="a", limit=3, now=1000.0) for _ in range(4)]
    assert hits == [False, False, False, True]
    assert rate_limit_hit(scope="t", key="b", limit=3, now=1000.0) is False
    assert rate_limit_hit(scope="t", key="a", limit=3, now=1061.0) is False


def test_a_refunded_hit_no_longer_counts_and_the_count_never_goes_below_zero():
    from django.core.cache import cache

    cache.clear()
    rate_limit_refund(scope="r", key="a", now=2000.0)  # nothing counted yet: no effect
    hits = []
    for _ in range(5):
        hits.append(rate_limit_hit(scope="r", key="a", limit=2, now=2000.0))
        rate_limit_refund(scope="r", key="a", now=2000.0)
    assert hits == [False] * 5
    assert [rate_limit_hit(scope="r", key="a", limit=2, now=2000.0) for _ in range(3)] == [
        False,
        False,
        True,
    ]
