"""A user's files: text that must be UTF-8, YAML that must be unambiguous, strict JSON out.

Every file infercost reads on a user's behalf (scenarios, catalogs, calibrations, traces,
length and prompt files) goes through here, so a missing file, a folder, a file too large,
bytes that are not UTF-8 or a YAML key given twice all end in one `InputError` naming the
field and the file, never in a traceback. Every JSON document infercost writes is strict:
a number that is not finite (NaN, infinity) is written as null, which every parser reads.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml

from infercost.errors import InputError

MAX_FILE_BYTES = 256 << 20  # a scenario, catalog, calibration or prompt file
# libyaml's loader when PyYAML was built with it: catalogs load ~10× faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_LOADER):  # type: ignore[misc,valid-type]
    """A safe YAML loader that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, list | dict):
                continue  # unhashable: yaml's own error follows
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_text(path: Path, field: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """A file's text, or `InputError` naming `field` when it is missing, too large or not
    UTF-8 (the byte and its offset are named)."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(field, f"{path} is {size:,} bytes; the limit is {max_bytes:,}")
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(field, f"no such file: {path}") from None
    except IsADirectoryError:
        raise InputError(field, f"{path} is a directory, not a file") from None
    except OSError as exc:
        raise InputError(field, f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        what = "not" if field == str(path) else f"{path} is not"
        raise InputError(
            field, f"{what} UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def read_yaml(path: Path, field: str) -> Any:
    """A YAML document, read strictly: UTF-8, and no key given twice in a mapping."""
    text = read_text(path, field)
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = str(getattr(exc, "problem", None) or "unreadable")
        if not problem.startswith("duplicate key"):
            problem = f"malformed YAML: {problem}"
        place = "" if field == str(path) else f"{path}: "
        raise InputError(field, f"{place}{problem}{where}") from None


def strict_json(doc: Any, indent: int | None = 2) -> str:
    """`doc` as strict JSON: NaN and infinities become null, other objects their text."""
    return json.dumps(_finite(doc), indent=indent, default=str, allow_nan=False)


def _finite(value: Any) -> Any:
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()  # numpy scalars as Python numbers
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
