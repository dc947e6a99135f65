"""Read a scenario: a built-in name or a file, `base:` inheritance, `--set` overrides.

Overrides are dotted paths under `inputs` (`workload.queries_per_user_per_day=30`); values
are parsed as YAML scalars. Each override is checked against the schema: an unknown path
names the keys allowed where it went wrong, and a wrong type names the field. Every input a
file sets must say where it comes from in `provenance`; an input nobody set takes
infercost's default and is reported as such.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from infercost.errors import InputError, UnknownNameError
from infercost.scenario.schema import Inputs, Scenario

DATA_DIR = Path(__file__).parent / "data"


def builtin_names() -> list[str]:
    return sorted(p.stem for p in DATA_DIR.glob("*.yaml"))


def read_raw(name_or_path: str) -> dict[str, Any]:
    """The raw mapping of a scenario, its `base` merged in."""
    path = Path(name_or_path)
    if not path.is_file():
        path = DATA_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            import difflib

            close = difflib.get_close_matches(name_or_path, builtin_names(), n=3, cutoff=0.3)
            raise UnknownNameError("scenario", name_or_path, close or builtin_names())
    raw = _parse(path)
    base = raw.get("base")
    if base:
        if base == raw.get("scenario"):
            raise InputError(f"{path}.base", "a scenario cannot be its own base")
        raw = _merge_base(read_raw(base), raw)
    return raw


def _parse(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(str(path), f"malformed YAML{where}") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror}") from None
    if not isinstance(doc, dict):
        raise InputError(str(path), "a scenario file must be a mapping")
    return doc


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge_base(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """A child keeps its base's inputs and provenance unless it overrides them."""
    merged = copy.deepcopy(top)
    for key in ("inputs", "provenance"):
        merged[key] = _deep_merge(base.get(key, {}), top.get(key, {}))
    cleared = [p for p in leaf_paths(top.get("inputs", {})) if _lookup(top["inputs"], p) is None]
    own = top.get("provenance", {})
    for path in cleared:  # an input the child removes takes its base's provenance with it
        if path not in own:
            merged["provenance"].pop(path, None)
    merged["sources"] = _merge_sources(base.get("sources", []), top.get("sources", []))
    return merged


def _merge_sources(base: list[Any], top: list[Any]) -> list[Any]:
    ids = {s.get("id") for s in top if isinstance(s, dict)}
    return [s for s in base if isinstance(s, dict) and s.get("id") not in ids] + list(top)


def set_path(inputs: dict[str, Any], path: str, value: Any) -> None:
    """Set `inputs[path]` (dotted) after checking the path against the schema."""
    parts = path.removeprefix("inputs.").split(".")
    model: type[BaseModel] | None = Inputs
    node = inputs
    for i, part in enumerate(parts):
        if model is None or part not in model.model_fields:
            allowed = ", ".join(sorted(model.model_fields)) if model else "nothing (a leaf)"
            where = ".".join(parts[:i]) or "inputs"
            raise InputError(
                f"--set {path}", f"unknown field {part!r} under {where}; allowed: {allowed}"
            )
        if i == len(parts) - 1:
            node[part] = value
            return
        model = submodel(model, part)
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child


def submodel(model: type[BaseModel], name: str) -> type[BaseModel] | None:
    annotation = model.model_fields[name].annotation
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def parse_override(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise InputError("--set", f"expected PATH=VALUE, got {text!r}")
    path, _, raw = text.partition("=")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    return path.strip(), value


def validate(raw: dict[str, Any], origin: str) -> Scenario:
    """A `Scenario` from a raw mapping, or one `InputError` line naming the field."""
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or origin
        raise InputError(field, first["msg"].removeprefix("Value error, ")) from None
    check_provenance(raw.get("inputs", {}), scenario)
    return scenario


def _lookup(tree: Any, path: str) -> Any:
    for part in path.split("."):
        tree = tree.get(part) if isinstance(tree, dict) else None
    return tree


def schema_default(path: str) -> Any:
    """The default of input `path`, or `InputError` if it names no input or has none."""
    model: type[BaseModel] | None = Inputs
    parts = path.split(".")
    for i, part in enumerate(parts):
        if model is None or part not in model.model_fields:
            raise InputError(f"provenance.{path}", f"names no input ({part!r} is unknown)")
        if i < len(parts) - 1:
            model = submodel(model, part)
    assert model is not None
    leaf = model.model_fields[parts[-1]]
    if leaf.is_required():
        raise InputError(f"provenance.{path}", "a required input has no default to compare against")
    return leaf.get_default(call_default_factory=True)


def check_provenance(inputs: dict[str, Any], scenario: Scenario) -> None:
    for path in scenario.provenance:
        if path.split(".")[0] not in Inputs.model_fields:
            raise InputError(f"provenance.{path}", "names no input")
    calibrated = scenario.calibrated_path
    if calibrated:
        schema_default(calibrated)
    for path in leaf_paths(inputs):
        if _lookup(inputs, path) is None:
            continue
        if not any(path == p or path.startswith(p + ".") for p in scenario.provenance):
            raise InputError(
                f"inputs.{path}", "has no provenance; add provenance.<path> with basis and source"
            )


def leaf_paths(node: dict[str, Any], prefix: str = "") -> list[str]:
    paths: list[str] = []
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            paths.extend(leaf_paths(value, path + "."))
        else:
            paths.append(path)
    return paths


def load(name_or_path: str, overrides: list[str] | None = None) -> Scenario:
    """Read, override (tagged `override` in provenance) and validate a scenario."""
    raw = read_raw(name_or_path)
    inputs = raw.setdefault("inputs", {})
    provenance = raw.setdefault("provenance", {})
    if not isinstance(inputs, dict) or not isinstance(provenance, dict):
        raise InputError(name_or_path, "inputs and provenance must be mappings")
    for text in overrides or []:
        path, value = parse_override(text)
        set_path(inputs, path, value)
        key = path.removeprefix("inputs.")
        provenance[key] = {"basis": "override", "source": "--set on the command line"}
    return validate(raw, name_or_path)
