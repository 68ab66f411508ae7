"""Anonymous clients and tokens are throttled apart; a throttled client is told when to retry."""

import pytest
from django.core.cache import cache

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
