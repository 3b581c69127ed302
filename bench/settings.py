"""Benchmark settings: production settings, plus a trivial view to compare against (bench/urls.py).

Used only by the benchmarks in bench/; production URLs never include the trivial view.
"""

from config.settings.prod import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
