import pytest
from django.conf import settings
from django.core.cache import caches


def clear_caches() -> None:
    """Empty every cache: the process's own and the shared one (pages, parts, rate limits)."""
    for alias in settings.CACHES:
        caches[alias].clear()


@pytest.fixture(scope="session", autouse=True)
def _generation_connection_closed(django_db_setup):
    """The process's own connection for reading the content generation (caching.generation) is
    closed before the test database is dropped, which it would otherwise keep open."""
    yield
    from caching.generation import close

    close()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with empty caches."""
    clear_caches()
    yield
    clear_caches()


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
