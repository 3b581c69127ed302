"""Reader counts under real load: gunicorn processes, real threads, the real database.

The database is a SQLite file (WAL, as configured) or, when DATABASE_URL is PostgreSQL, a scratch
PostgreSQL database; both are created here and shared by every server process (tests/servers.py).
"""

import http.client
import ipaddress
import json
import threading
import time
import uuid
from collections import Counter

import pytest
import redis

from tests.servers import ServerDatabase

pytestmark = pytest.mark.slow

REDIS_URL = "redis://127.0.0.1:6379/1"
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
# Demo posts, as fixtures/demo_content.json gives them: their counts are the starting totals.
POSTS = {
    10001: 84757,  # the hot post of the 64-client test
    10002: 1200,  # two servers, reads stored directly
    10003: 3400,  # two servers, reads buffered in Redis
    10004: 56,  # graceful shutdown
}
PROXY = {"BLOG_PROXY_COUNT": 1}  # the servers sit behind one proxy, as in docker-compose


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("servers")
    database = ServerDatabase(tmp)
    database.seed(
        [{"id": pk, "title": f"文章{pk}", "reader_count": count} for pk, count in POSTS.items()],
        tmp,
    )
    yield database
    database.drop()


@pytest.fixture
def redis_prefix():
    prefix = f"test-servers-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def token(n: int) -> str:
    return f"{n:032x}"


def read(origin: str, post_id: int, visitor: str, connection=None):
    """One beacon, as the page's script sends it; returns (status, JSON answer), where the answer
    to a failed request is {"error": <the start of its body>}.

    Like a browser, it sends again on a fresh connection when the server had closed an idle
    keep-alive connection before reading the request.
    """
    conn = connection or http.client.HTTPConnection(origin.removeprefix("http://"), timeout=60)
    for attempt in (1, 2):
        try:
            conn.request(
                "POST",
                f"/archives/{post_id}/read",
                body="cookies=1",
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Sec-Fetch-Site": "same-origin",
                    "User-Agent": BROWSER,
                    "Cookie": f"reader={visitor}",
                    # Each visitor from an address of its own, behind one proxy (BLOG_PROXY_COUNT).
                    "X-Forwarded-For": str(ipaddress.ip_address("10.0.0.0") + int(visitor, 16)),
                },
            )
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                return response.status, {"error": body[:200].decode(errors="replace")}
            return response.status, json.loads(body)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn.close()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def hammer(origins: list[str], post_id: int, visitors: list[str], clients: int) -> list:
    """Send one read per visitor from ``clients`` threads at once, spread over the servers.

    Each thread keeps its own keep-alive connection per server, as browsers do.
    """
    answers, errors = [], []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client(n: int):
        conns = {
            origin: http.client.HTTPConnection(origin.removeprefix("http://"), timeout=60)
            for origin in origins
        }
        mine = []
        start.wait()
        try:
            for i in range(n, len(visitors), clients):
                origin = origins[i % len(origins)]
                mine.append(read(origin, post_id, visitors[i], conns[origin]))
        except Exception as exc:  # reported below: a failed request fails the test
            errors.append(exc)
        with lock:
            answers.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    return answers


def statuses(answers) -> Counter:
    return Counter(status for status, _ in answers)


def explain(answers, *servers) -> str:
    """What went wrong, for an assertion message: the answers' statuses and the last line of each
    distinct exception the servers logged (e.g. "OperationalError: database is locked")."""
    errors = Counter()
    for server in servers:
        for line in server.log.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"exception"' in line:
                errors[json.loads(line)["exception"].strip().splitlines()[-1]] += 1
    return f"statuses: {dict(statuses(answers))}; server errors: {dict(errors) or 'none logged'}"


def test_64_concurrent_clients_sending_5000_distinct_reads_add_exactly_5000(database, tmp_path):
    post, start = 10001, POSTS[10001]
    assert database.reader_count(post) == start  # the demo figure is the starting total
    server = database.serve(tmp_path / "server.log", workers=2, threads=32, **PROXY)
    try:
        answers = hammer([server.origin], post, [token(n) for n in range(5000)], clients=64)
    finally:
        assert server.stop() == 0
    # No retry hides a failed write: every one of the 5,000 must have been answered 200.
    assert statuses(answers) == {200: 5000}, explain(answers, server)
    assert all(answer["counted"] for _, answer in answers)
    assert database.reader_count(post) == start + 5000
    assert database.daily_total(post) == 5000
    # Each read was told a count that includes it: its process's reads are added at once, the
    # other process's within the write interval (a second).
    shown = [answer["readers"] for _, answer in answers]
    assert start + 1 <= min(shown) and max(shown) <= start + 5000


@pytest.mark.parametrize(
    ("post", "buffered"), [(10002, False), (10003, True)], ids=["direct", "buffered"]
)
def test_two_servers_sharing_database_and_redis_agree_on_totals(
    database, redis_prefix, tmp_path, post, buffered
):
    start = POSTS[post]
    env = {
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": redis_prefix,
        "BLOG_READER_BUFFER": int(buffered),
        # Both servers flush every second while the reads pour in: flushes race each other too.
        "BLOG_READER_FLUSH_INTERVAL": 1,
        **PROXY,
    }
    first = database.serve(tmp_path / "first.log", threads=8, **env)
    second = database.serve(tmp_path / "second.log", threads=8, **env)
    try:
        visitors = [token(n) for n in range(1000)]
        answers = hammer([first.origin, second.origin], post, visitors, clients=16)
        assert statuses(answers) == {200: 1000}, explain(answers, first, second)
        assert all(answer["counted"] for _, answer in answers)
        # A reader counted by one server is a repeat on the other, and both show the same total
        # once each server has written its reads (every second) and read the other's.
        deadline = time.monotonic() + 30
        while True:
            repeat_first = read(first.origin, post, visitors[1])  # counted by the second server
            repeat_second = read(second.origin, post, visitors[0])  # counted by the first server
            shown = {repeat_first[1]["readers"], repeat_second[1]["readers"]}
            if shown == {start + 1000} or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert repeat_first == repeat_second
        assert repeat_first[1]["counted"] is False
        assert repeat_first[1]["readers"] == start + 1000
    finally:
        assert first.stop() == 0
        assert second.stop() == 0
    # Stopped gracefully: whatever was still buffered has been flushed on the way out.
    assert database.reader_count(post) == start + 1000
    assert database.daily_total(post) == 1000
    assert not redis.Redis.from_url(REDIS_URL).exists(f"{redis_prefix}:readers:pending")


def test_a_graceful_shutdown_loses_no_buffered_read(database, redis_prefix, tmp_path):
    post, start = 10004, POSTS[10004]
    env = {
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": redis_prefix,
        "BLOG_READER_BUFFER": 1,
        "BLOG_READER_FLUSH_INTERVAL": 0,  # no automatic flush: everything stays in Redis
        **PROXY,
    }
    server = database.serve(tmp_path / "server.log", threads=8, **env)
    try:
        answers = hammer([server.origin], post, [token(n) for n in range(300)], clients=8)
        assert max(answer["readers"] for _, answer in answers) == start + 300
        assert database.reader_count(post) == start  # all 300 are still in the buffer
        pending = redis.Redis.from_url(REDIS_URL).hget(f"{redis_prefix}:readers:pending", post)
        assert int(pending) == 300
    finally:
        assert server.stop() == 0
    assert database.reader_count(post) == start + 300
    assert database.daily_total(post) == 300
