"""Dollars: $/GPU-hour, rented or owned, and what a fleet costs per day, query and token."""
