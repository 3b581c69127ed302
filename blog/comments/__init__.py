"""Comments: everything between a reader's form and a published, typeset comment.

- ``html``: Markdown+TeX -> sanitised HTML (nh3 allow-list) and a plain-text excerpt.
- ``spam``: client fingerprints, the signed form timestamp, rate limits through the cache.
- ``forms``: the comment form and its validation.
- ``workflow``: posting (race-free per-post numbers, moderation status), approving, staff replies.
- ``notify``: emails to the post's authors and to commenters who asked for replies.

Views stay thin and call these; the package imports no models at import time so that
``blog.models`` can use ``html`` when a comment is saved.
"""
