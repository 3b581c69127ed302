"""Real server processes for system tests: gunicorn on loopback ports (bench.harness.Gunicorn),
against a database of their own (a SQLite file in WAL mode, or a scratch PostgreSQL database when
DATABASE_URL is PostgreSQL).

The test process does not use Django's test database here: the servers are separate processes, so
the database is created, migrated and seeded through manage.py, and read back with plain SQL.
"""

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import dj_database_url
import psycopg

from bench.harness import Gunicorn

BASE_DIR = Path(__file__).resolve().parent.parent
SETTINGS = "config.settings.test"


class ServerDatabase:
    """A migrated database that server processes and the test share."""

    def __init__(self, tmp_dir: Path):
        url = os.environ.get("DATABASE_URL", "")
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        if url.startswith(("postgres://", "postgresql://")):
            self.vendor = "postgresql"
            self.settings = dj_database_url.parse(url)
            self.name = f"{self.settings['NAME']}_servers_{worker}"
            self.url = url.rsplit("/", 1)[0] + "/" + self.name
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{self.name}"')
        else:
            self.vendor = "sqlite"
            self.path = tmp_dir / "servers.sqlite3"
            self.url = f"sqlite:///{self.path}"
        self.manage("migrate", "--no-input", "-v", "0")

    def _admin(self):
        s = self.settings
        return psycopg.connect(
            host=s["HOST"], port=s["PORT"] or 5432, user=s["USER"], password=s["PASSWORD"],
            dbname="postgres", autocommit=True,
        )  # fmt: skip

    def env(self, **extra) -> dict:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DATABASE_URL": self.url,
            "BLOG_READER_WRITE_INTERVAL": "1",  # reads written in batches, as in production
        }
        env.pop("REDIS_URL", None)
        env.update({key: str(value) for key, value in extra.items()})
        return env

    def manage(self, *args, **env) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def seed(self, posts: list[dict], tmp_dir: Path) -> None:
        """Load posts with load_demo_content (their reader_count is the starting total)."""
        data = {
            "authors": [{"username": "sujianlin", "display_name": "苏剑林"}],
            "categories": [],
            "tags": [],
            "series": [],
            "posts": [
                {
                    "authors": ["sujianlin"],
                    "body": "正文 $x$。\n",
                    "published_at": "2024-05-13T10:00:00+08:00",
                    **post,
                }
                for post in posts
            ],
        }
        file = tmp_dir / "seed.json"
        file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        self.manage("load_demo_content", "--file", str(file), "-v", "0")

    def scalar(self, sql: str) -> int:
        """One number from plain SQL (the test's own connection, outside Django)."""
        if self.vendor == "sqlite":
            with closing(sqlite3.connect(self.path, timeout=30)) as conn:
                return conn.execute(sql).fetchone()[0]
        with psycopg.connect(self.url) as conn:
            return conn.execute(sql).fetchone()[0]

    def reader_count(self, post_id: int) -> int:
        return self.scalar(f"SELECT reader_count FROM blog_post WHERE id = {int(post_id)}")

    def daily_total(self, post_id: int) -> int:
        return self.scalar(
            f"SELECT COALESCE(SUM(count), 0) FROM blog_readday WHERE post_id = {int(post_id)}"
        )

    def serve(self, log: Path, *, workers: int = 1, threads: int = 8, **env) -> Gunicorn:
        """gunicorn serving the project on this database (``env``: settings to override)."""
        return Gunicorn(self.env(**env), log, workers=workers, threads=threads)

    def drop(self) -> None:
        if self.vendor == "postgresql":
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
