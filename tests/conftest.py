import pytest
from django.core.cache import cache, caches


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with empty caches (sidebar, dedupe keys; rate limits)."""
    cache.clear()
    caches["limits"].clear()
    yield
    cache.clear()
    caches["limits"].clear()


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
