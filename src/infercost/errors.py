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

    def __init__(
        self, field: str, name: str, suggestions: list[str], allowed: str | None = None
    ) -> None:
        hint = f"; closest: {', '.join(suggestions)}" if suggestions else ""
        if not suggestions and allowed:
            hint = f"; allowed: {allowed}"
        super().__init__(field, f"unknown {field} {name!r}{hint}")
        self.name = name
        self.suggestions = suggestions


class renamed:
    """Re-raise an `InputError` under the name the user knows the field by.

    The pipeline names fields as its configuration does (`weight_precision`, `tp`); a scenario
    file knows them as `inputs.model.weight_precision`, the CLI as `--precision`.
    """

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if not isinstance(exc, InputError):
            return
        head, dot, rest = exc.field.partition(".")
        if exc.field in self.names:
            field = self.names[exc.field]
        elif dot and head + "." in self.names:  # a prefix: efficiency.compute
            field = self.names[head + "."] + rest
        else:
            return
        raise InputError(field, exc.message) from None
