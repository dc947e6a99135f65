"""A sweep's cache: every finished cell, kept so that an interrupted or repeated sweep only
computes what it has not computed yet.

A cell's key is the SHA-256 of canonical JSON (sorted keys, no spaces) of the verb, the
cell's request fields and the code version: infercost's version, a hash of every file of the
installed package (its source and its catalog tables, computed once per process), and a hash
of the user's catalog folder when one is in use. Changing the code, a catalog row or a cell's
inputs therefore misses the cache; nothing else does (the backend, the worker count and the
chunking do not enter the key).

The cache is a folder beside the output (`results.parquet.cache/`) holding one JSON-lines
file per completed chunk, written to a temporary name and renamed, so a file is either whole
or absent; an interruption keeps every chunk that had finished.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from infercost.files import strict_json

Row = tuple[dict[str, Any], str | None]  # the outputs, the error (None when it succeeded)


@cache
def code_version() -> str:
    """infercost's version and a hash of the package's files (source and data)."""
    import infercost

    package = Path(infercost.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    try:
        release = version("infercost")
    except PackageNotFoundError:
        release = "unknown"
    return f"{release}+{digest.hexdigest()[:16]}"


def folder_hash(folder: Path | None) -> str | None:
    """A hash of a catalog folder's files (names and bytes), or None for no folder."""
    if folder is None:
        return None
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cell_key(verb: str, fields: dict[str, Any], version: str) -> str:
    text = json.dumps(
        {"verb": verb, "fields": fields, "code": version},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


class Cache:
    """The finished cells under `folder`, by key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows: dict[str, Row] = {}

    @classmethod
    def beside(cls, out: Path) -> Cache:
        return cls(out.with_name(out.name + ".cache"))

    def load(self) -> Cache:
        """Every whole chunk file's rows (a line that is not JSON is skipped)."""
        if not self.folder.is_dir():
            return self
        for path in sorted(self.folder.glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    self.rows[entry["key"]] = (entry["outputs"], entry["error"])
                except (ValueError, KeyError, TypeError):
                    continue
        return self

    def save(self, entries: Iterable[tuple[str, Row]]) -> Path:
        """One chunk's rows as one file, named by a hash of its keys, written atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        lines = []
        digest = hashlib.sha256()
        for key, (outputs, error) in entries:
            digest.update(key.encode())
            doc = {"key": key, "outputs": outputs, "error": error}
            lines.append(strict_json(doc, indent=None))
            self.rows[key] = (outputs, error)
        path = self.folder / f"chunk-{digest.hexdigest()[:20]}.jsonl"
        temporary = path.with_suffix(".tmp")
        temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(temporary, path)
        return path
