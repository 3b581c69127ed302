"""Load benchmarks: real gunicorn, real PostgreSQL (and Redis), real load generator (wrk).

Results are reported as ratios to a baseline measured in the same run (a trivial Django view, the
framework floor), because these machines are noisy: absolute numbers are never asserted.
"""
