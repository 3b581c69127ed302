import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache (sidebar, rate limits, dedupe keys)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff(db):
    from tests.factories import StaffFactory

    return StaffFactory(username="editor")


@pytest.fixture
def staff_client(staff):
    """A second browser session, logged in as staff (``client`` stays anonymous)."""
    from django.test import Client

    client = Client()
    client.force_login(staff)
    return client
