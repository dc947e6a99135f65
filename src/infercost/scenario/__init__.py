"""Scenarios: published estimates as YAML files that infercost recomputes from assumptions."""
