"""Statistics computed from events only, so live summaries and stored traces agree."""
