"""Traffic: how many requests, how large, how bursty; and the fleet it needs."""
