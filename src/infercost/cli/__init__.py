"""The `infercost` command."""
