"""Performance model of one serving replica: memory, step time, throughput."""
