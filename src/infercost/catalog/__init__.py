"""Catalogs: accelerators, servers, models, engines and prices as YAML tables with provenance."""
