"""Planning: the cheapest fleet that meets latency targets, screened analytically and
proved by simulation."""
