import time

import pytest
from django.conf import settings
from django.core.cache import caches


def clear_caches() -> None:
    """Empty every cache: the process's own and the shared one (pages, parts, rate limits)."""
    for alias in settings.CACHES:
        caches[alias].clear()


def generation_moved_elsewhere() -> None:
    """What another process's change does to the content generation: the row written and committed
    (with its NOTIFY on PostgreSQL) by a connection other than this process's watch, this process's
    memory not told. Only for tests that commit (``django_db(transaction=True)``).

    The new value is past any this process has seen: earlier tests' rolled-back changes (and their
    travels in time) may have taken this process's past the clock."""
    from caching.generation import _store, generation

    _store((max(time.time_ns(), generation() + 1), 0))


def shown_soon(client, url: str, text: str) -> bool:
    """Whether ``text`` shows on ``url`` within a second. On SQLite the first request shows it; on
    PostgreSQL the commit answers the committer while the listening session is still sending the
    NOTIFY to this process's socket, so on a loaded machine it may arrive a moment after."""
    for _ in range(50):
        if text in client.get(url).content.decode():
            return True
        time.sleep(0.02)
    return False


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
