"""The blog's views, by concern; thin: the work is in the modules they call."""
