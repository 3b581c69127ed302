"""Moving a blog in: readers of other engines' data (Typecho, WordPress) that yield the records
of ``blog.importers.source``, and one writer that puts them into this blog."""
