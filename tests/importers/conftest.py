import pytest

from .typecho_db import TypechoDB


@pytest.fixture(params=["mariadb", "sqlite"])
def typecho(request, tmp_path):
    """An empty Typecho database: a fresh MariaDB database (dropped after the test; MariaDB
    must be running, the test fails otherwise) or a SQLite file."""
    database = TypechoDB(request.param, path=tmp_path / "typecho.db")
    yield database
    database.drop()
