"""Anonymous clients and tokens are throttled apart; a throttled client is told when to retry."""

import time
import uuid

import pytest
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_rates(settings):
    settings.API_THROTTLE_RATES = {"anonymous": "3/minute", "token": "5/minute"}
    cache.clear()


def statuses(client, n: int) -> list[int]:
    return [client.get("/api/v1/topics/").status_code for _ in range(n)]


def test_an_anonymous_client_over_its_rate_gets_429_with_retry_after(api, tight_rates):
    assert statuses(api, 3) == [200, 200, 200]
    response = api.get("/api/v1/topics/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60


def test_a_token_has_its_own_larger_allowance(api, staff_api, tight_rates):
    assert statuses(api, 4)[-1] == 429
    assert statuses(staff_api, 5) == [200] * 5
    assert staff_api.get("/api/v1/topics/").status_code == 429


REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


def test_with_a_shared_cache_the_web_processes_count_against_one_allowance(api, settings):
    """CACHE_URL set: the counts live in Redis, so a client cannot multiply its allowance by
    the number of web processes. Another process is a second cache client of its own."""
    url = settings.CELERY_BROKER_URL  # the test run's own Redis database
    assert url.startswith("redis://")
    prefix = f"throttle-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {"BACKEND": REDIS_CACHE, "LOCATION": url, "KEY_PREFIX": prefix},
        "api": settings.CACHES["api"],
    }
    settings.API_THROTTLE_RATES = {"anonymous": "3/minute", "token": "5/minute"}
    other_process = RedisCache(url, {"KEY_PREFIX": prefix})
    key = "throttle_anon_127.0.0.1"  # DRF's key for this client's address
    try:
        assert statuses(api, 2) == [200, 200]
        seen_elsewhere = other_process.get(key)
        assert len(seen_elsewhere) == 2
        # The other process answers this client once, and records it as DRF does.
        other_process.set(key, [time.time(), *seen_elsewhere], 60)
        response = api.get("/api/v1/topics/")
        assert response.status_code == 429
        assert 0 < int(response["Retry-After"]) <= 60
    finally:
        other_process.delete(key)
