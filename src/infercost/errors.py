"""Errors a user can act on.

Every check on user input raises `InputError` (a `ValueError`) whose message names the field
and what is allowed; the CLI prints that one line and exits with status 2. Anything else that
escapes is a bug in infercost, not in the input.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: `field` names where it came from, the message says what is allowed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class UnknownNameError(InputError):
    """A catalog lookup that found nothing; `suggestions` holds the closest known names."""

    def __init__(self, field: str, name: str, suggestions: list[str]) -> None:
        hint = f"; closest: {', '.join(suggestions)}" if suggestions else ""
        super().__init__(field, f"unknown {field} {name!r}{hint}")
        self.name = name
        self.suggestions = suggestions
