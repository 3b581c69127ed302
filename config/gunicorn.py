"""Gunicorn settings: `gunicorn config.wsgi -c config/gunicorn.py` (command-line flags override).

Graceful shutdown (SIGTERM) finishes the requests in progress; then each worker writes the reads
it counted and has not written yet, and the master moves reads buffered in Redis
(BLOG_READER_BUFFER) into the database, so stopping the site loses no reads even when Redis keeps
nothing on disk.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
graceful_timeout = 30
keepalive = 5
# Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new connections
# evenly over them. On one shared socket whichever worker woke first accepted: measured with 64
# keep-alive clients on 4 workers, 50/9/5/0 connections (one process, one core, served most of
# them), and 16 clients all on one worker; with this 14-18 each, and 3-5 of 16.
reuse_port = True
# Gunicorn 25's control socket defaults to one path per user, shared by every instance.
control_socket_disable = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None


def worker_exit(server, worker):
    """Each worker writes the reads it counted and has not written yet (blog/readers/local.py)."""
    from django.conf import settings

    if not settings.configured or settings.BLOG_READER_BUFFER:
        return
    from blog.readers.local import tally

    try:
        written = tally.write()
    except Exception:
        server.log.exception("Could not write this worker's reader counts on exit")
    else:
        server.log.info("Wrote %s reads on exit", written)


def on_exit(server):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")
    import django

    django.setup()
    from django.conf import settings

    if not settings.BLOG_READER_BUFFER:
        return
    from blog import readers

    try:
        result = readers.flush()
    except Exception:  # the buffer stays in Redis for the next flush
        server.log.exception("Could not flush buffered reader counts on exit")
    else:
        server.log.info("Flushed %s buffered reads on exit", result.reads)
