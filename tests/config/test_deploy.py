"""docker-compose.yml shows the production shape the README describes: several web instances
behind one load balancer, sharing one PostgreSQL and one Redis. (No docker engine runs on the
development machines: this checks the file, not a running stack.)"""

import json
import re
import shutil
import time
import urllib.request
from pathlib import Path

import pytest
import redis
import yaml

from bench.harness import Nginx
from tests.redis_servers import private_redis  # noqa: F401 (fixture)
from tests.servers import ServerDatabase

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_several_web_instances_share_one_database_and_one_redis():
    services = compose()["services"]
    web = services["web"]
    assert re.fullmatch(r"\$\{WEB_REPLICAS:-(\d+)\}", str(web["deploy"]["replicas"]))
    assert int(re.search(r"\d+", str(web["deploy"]["replicas"])).group()) >= 2
    assert "ports" not in web  # replicas cannot share a host port: the proxy publishes one
    env = web["environment"]
    assert (
        env["DATABASE_URL"].endswith("@db:5432/blog") and env["REDIS_URL"] == "redis://redis:6379/0"
    )
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"
    assert {"db", "redis"} <= set(web["depends_on"])


def test_the_proxy_spreads_requests_over_the_web_service():
    proxy = compose()["services"]["proxy"]
    assert proxy["ports"] == ["8000:80"]
    mount = next(v for v in proxy["volumes"] if v.endswith("/etc/nginx/conf.d/default.conf:ro"))
    conf = (ROOT / mount.split(":")[0]).read_text()
    assert re.search(r"upstream web \{\s*server web:8000;", conf)
    assert "proxy_pass http://web;" in conf
    assert "X-Forwarded-Proto" in conf and "X-Forwarded-For" in conf


def test_redis_in_compose_is_bounded_and_evicts_cached_pages_never_buffered_reads(private_redis):  # noqa: F811
    """Junk that slips past the page cache's key normalisation (say, many distinct searches)
    cannot grow Redis without bound, and what is evicted is cache, not the reader buffer."""
    args = compose()["services"]["redis"]["command"]
    policy = args[args.index("--maxmemory-policy") + 1]
    assert re.fullmatch(r"\$\{REDIS_MAXMEMORY:-\d+mb\}", args[args.index("--maxmemory") + 1])
    server = redis.Redis.from_url(private_redis.url)
    server.config_set("maxmemory", "4mb")
    server.config_set("maxmemory-policy", policy)
    server.hincrby("blog:readers:pending", "1", 7)  # buffered reads: no expiry
    page = b"x" * 60_000
    for n in range(400):  # 24 MB of pages with the page cache's lifetime
        server.set(f"blog:1:page:{n}", page, ex=300)
    assert server.info("memory")["used_memory"] <= 5 * 2**20
    assert server.hget("blog:readers:pending", "1") == b"7"
    assert server.info("stats")["evicted_keys"] > 0


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    """deploy/nginx.conf (with its proxy cache) in front of a real gunicorn, on loopback."""
    tmp = tmp_path_factory.mktemp("edge")
    database = ServerDatabase(tmp)
    database.seed([{"id": EDGE_POST, "title": "边缘缓存"}], tmp)
    static = tmp / "static.html"
    static.write_text("static")
    server = database.serve(tmp / "gunicorn.log", threads=4)
    try:
        with Nginx(server.port, static, tmp) as nginx:
            yield nginx
    finally:
        server.stop()
        database.drop()


EDGE_POST = 40001


def through(nginx, path: str, **request) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(nginx.url + path, **request)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.headers, response.read()


@pytest.mark.slow
def test_nginx_caches_anonymous_pages_and_passes_sessions_and_posts_through(edge):
    path = f"/archives/{EDGE_POST}/"
    statuses = [through(edge, path)[1]["X-Cache"] for _ in range(3)]
    assert statuses == ["MISS", "HIT", "HIT"]
    for cookie in ("sessionid=abc", "messages=x"):
        headers = through(edge, path, headers={"Cookie": cookie})[1]
        assert headers["X-Cache"] == "BYPASS", cookie
    # The reader beacon is a POST: every one reaches the app.
    beacon = f"/archives/{EDGE_POST}/read"
    for _ in range(2):
        status, headers, body = through(
            edge,
            beacon,
            method="POST",
            data=b"cookies=0",
            headers={"Sec-Fetch-Site": "same-origin"},
        )
        assert status == 200 and headers.get("X-Cache") in (None, "")
        assert "readers" in json.loads(body)
    # Private pages are never kept at the edge.
    assert through(edge, "/admin/login/")[1]["X-Cache"] != "HIT"
    assert through(edge, "/admin/login/")[1]["X-Cache"] != "HIT"


@pytest.mark.slow
def test_emptying_the_edge_cache_directory_purges_it_within_two_seconds(edge):
    """deploy/nginx.conf's purge: rm -rf the cache directory; open_file_cache_valid (2 s) bounds
    how long a hit may still come from a file nginx had open."""
    path = f"/archives/{EDGE_POST}/?purge"
    assert [through(edge, path)[1]["X-Cache"] for _ in range(2)] == ["MISS", "HIT"]
    cache = edge.dir / "cache"
    for entry in cache.iterdir():
        shutil.rmtree(entry)
    time.sleep(2.5)
    assert through(edge, path)[1]["X-Cache"] == "MISS"
