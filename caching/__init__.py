"""Caching: the content generation every cached page and part is keyed by, and what moves it.

- ``generation``: the generation itself (a database row written with each change), and how each
  process learns of a change on its next request (from the database: SQLite's data_version,
  PostgreSQL's LISTEN/NOTIFY).
- ``invalidation``: the one registry of the models whose changes show on public pages.
"""
