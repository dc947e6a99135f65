"""Read a scenario: a built-in name or a file, `base:` inheritance, `--set` overrides.

Overrides are dotted paths under `inputs` (`workload.queries_per_user_per_day=30`), or
`plan.FIELD` for the question of the scenario's `plan:` block; values are parsed as YAML
scalars. Each override is checked against the schema: an unknown path
names the keys allowed where it went wrong, and a wrong type names the field. Every input a
file sets must say where it comes from in `provenance`; an input nobody set takes
infercost's default and is reported as such.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from infercost.errors import InputError, UnknownNameError
from infercost.files import read_yaml
from infercost.scenario.schema import BOUNDS, Inputs, PlanIn, Scenario

DATA_DIR = Path(__file__).parent / "data"
OVERRIDE_SOURCE = "--set on the command line"


def builtin_names() -> list[str]:
    return sorted(p.stem for p in DATA_DIR.glob("*.yaml"))


MAX_BASE_DEPTH = 16


def read_raw(name_or_path: str, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The raw mapping of a scenario, its `base` (and theirs) merged in."""
    path = _locate(name_or_path)
    if path.resolve() in chain:
        names = " → ".join(p.stem for p in (*chain, path.resolve()))
        raise InputError("base", f"scenarios form a cycle: {names}")
    if len(chain) >= MAX_BASE_DEPTH:
        raise InputError("base", f"more than {MAX_BASE_DEPTH} scenarios deep")
    raw = _parse(path)
    base = raw.get("base")
    if base is not None:
        if not isinstance(base, str) or not base.strip():
            raise InputError(f"{path.name}.base", "must be a scenario name or file")
        raw = _merge_base(read_raw(base, (*chain, path.resolve())), raw)
    return raw


def _locate(name_or_path: str) -> Path:
    """A built-in scenario's name is the built-in, whatever the working folder holds (write
    `./NAME` for a file of that name); anything else is a file."""
    builtin = DATA_DIR / f"{name_or_path}.yaml"
    if "/" not in name_or_path and "\\" not in name_or_path and builtin.is_file():
        return builtin
    path = Path(name_or_path)
    if path.is_file():
        return path
    if path.suffix in (".yaml", ".yml") or "/" in name_or_path:
        raise InputError("scenario", f"no such file: {path}")
    import difflib

    close = difflib.get_close_matches(name_or_path, builtin_names(), n=3, cutoff=0.3)
    raise UnknownNameError("scenario", name_or_path, close or builtin_names())


def _parse(path: Path) -> dict[str, Any]:
    if path.parent == DATA_DIR:  # package data: read once, a fresh copy each time
        return copy.deepcopy(_builtin(path))
    doc = read_yaml(path, str(path))
    if not isinstance(doc, dict):
        raise InputError(str(path), "a scenario file must be a mapping")
    return doc


@functools.lru_cache(maxsize=64)
def _builtin(path: Path) -> dict[str, Any]:
    doc = read_yaml(path, str(path))
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
    if isinstance(base.get("plan"), dict) or isinstance(top.get("plan"), dict):
        merged["plan"] = _deep_merge(base.get("plan") or {}, top.get("plan") or {})
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
    inline_ranges(raw)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or origin
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            allowed = _allowed_keys(first["loc"][:-1])
            message = f"unknown key {first['loc'][-1]!r}; allowed: {', '.join(allowed)}"
        elif first["type"] == "finite_number":
            message = f"must be a finite number, got {first.get('input')!r}"
        elif "input" in first and first["type"] != "missing":
            message = f"{message[:1].lower()}{message[1:]}, got {first['input']!r}"
        raise InputError(field, message) from None
    check_provenance(raw.get("inputs", {}), scenario)
    check_sources(scenario)
    from infercost.scenario.ranges import check_ranges  # it reads paths as this module does

    check_ranges(scenario)
    return scenario


INLINE_KEYS = frozenset(BOUNDS) | {"point", "source", "note"}


def inline_ranges(raw: dict[str, Any]) -> None:
    """An input written as a range (`output_tokens: {low: 350, high: 2000}`) becomes its
    point and a `ranges:` entry for its path. The point is `point:` if given, else the mode
    (triangular), the median (lognormal) or the midpoint (uniform), rounded for a whole
    input. Without a `source` or `note` of its own, the range cites the input's provenance
    (its entry, or the nearest parent's)."""
    inputs, provenance = raw.get("inputs"), raw.get("provenance")
    if not isinstance(inputs, dict):
        return
    provenance = provenance if isinstance(provenance, dict) else {}
    found = [(p, v) for p, v in _nodes(inputs) if set(v) & set(BOUNDS) and set(v) <= INLINE_KEYS]
    if not found:
        return
    ranges = raw.setdefault("ranges", {})
    if not isinstance(ranges, dict):
        return  # the schema names it
    for path, spec in found:
        if path in ranges:
            raise InputError(f"inputs.{path}", "is a range here and in `ranges:`; give it once")
        spec = dict(spec)
        point = spec.pop("point", None)
        if point is None:
            point = _middle(spec)
        if point is None:
            raise InputError(
                f"inputs.{path}",
                "a range is {low, high}, {low, mode, high} or {median, p90}, with numbers",
            )
        if _whole(path):
            point = round(point)
        cited = _provenance_of(provenance, path)
        spec.setdefault("source", cited.get("source", "") if cited else "")
        spec.setdefault("note", (cited or {}).get("note") or f"the range given at inputs.{path}")
        ranges[path] = spec
        set_path(inputs, path, point)


def _nodes(node: dict[str, Any], prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for key, value in node.items():
        if isinstance(value, dict):
            out.append((f"{prefix}{key}", value))
            out.extend(_nodes(value, f"{prefix}{key}."))
    return out


def _middle(spec: dict[str, Any]) -> float | None:
    def num(key: str) -> float | None:
        v = spec.get(key)
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None

    for key in ("mode", "median"):
        if key in spec:
            return num(key)
    low, high = num("low"), num("high")
    return None if low is None or high is None else (low + high) / 2


def _whole(path: str) -> bool:
    from infercost.scenario.ranges import input_limits

    try:
        return input_limits(path, f"inputs.{path}").integer
    except InputError:
        return False  # the schema names it when the scenario is read


def _provenance_of(provenance: dict[str, Any], path: str) -> dict[str, Any] | None:
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        entry = provenance.get(".".join(parts[:i]))
        if isinstance(entry, dict):
            return entry
    return None


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the schema allows at `loc` (a mapping of models is stepped through)."""
    model: type[BaseModel] | None = Scenario
    for part in loc:
        if model is None:
            return []
        if isinstance(part, str) and part in model.model_fields:
            model = submodel(model, part)
        # a key of a dict of models (variants.NAME, provenance.PATH): the model is the value's
    return sorted(model.model_fields) if model is not None else []


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


BUILTIN_SOURCES = ("infercost", OVERRIDE_SOURCE)


def check_sources(scenario: Scenario) -> None:
    """Every provenance entry cites a source the file declares (or infercost itself)."""
    declared = {s.id for s in scenario.sources}
    entries = [(f"provenance.{p}", v) for p, v in scenario.provenance.items()]
    for name, variant in scenario.variants.items():
        entries += [(f"variants.{name}.provenance.{p}", v) for p, v in variant.provenance.items()]
    for field, prov in entries:
        if prov.source not in declared and prov.source not in BUILTIN_SOURCES:
            known = ", ".join(sorted(declared | {"infercost"}))
            raise InputError(
                f"{field}.source",
                f"{prov.source!r} is not a declared source; add it to `sources` (id, url) "
                f"or cite one of: {known}",
            )
    for key, pub in scenario.published.items():
        if pub.source and pub.source not in declared and pub.source not in BUILTIN_SOURCES:
            raise InputError(f"published.{key}.source", f"{pub.source!r} is not a declared source")


def check_provenance(inputs: dict[str, Any], scenario: Scenario) -> None:
    for path in scenario.provenance:
        head, _, rest = path.partition(".")
        if head == "plan" and rest.split(".")[0] in PlanIn.model_fields:
            continue  # the plan block's question may cite its sources too
        if head not in Inputs.model_fields:
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
        if path.startswith("plan."):
            _set_plan(raw, path, value)
            continue
        set_path(inputs, path, value)
        key = path.removeprefix("inputs.")
        provenance[key] = {"basis": "override", "source": OVERRIDE_SOURCE}
    return validate(raw, name_or_path)


def _set_plan(raw: dict[str, Any], path: str, value: Any) -> None:
    """`plan.FIELD=VALUE`: one field of the scenario's `plan:` block (the question `infercost
    plan` asks), checked against the block's schema."""
    field = path.removeprefix("plan.")
    if field not in PlanIn.model_fields:
        allowed = ", ".join(sorted(PlanIn.model_fields))
        raise InputError(f"--set {path}", f"unknown field {field!r} under plan; allowed: {allowed}")
    block = raw.get("plan")
    if not isinstance(block, dict):
        block = raw["plan"] = {}
    block[field] = value
    raw["provenance"][path] = {"basis": "override", "source": OVERRIDE_SOURCE}
