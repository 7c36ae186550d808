"""The shipped config schema, read once: the one source of every config default.

workflow/schemas/config.schema.yaml holds each default once. Inside Snakemake, :func:`cislens.plan.validate`
fills them into the config; outside it, the stages (GIA, training, ENCODE downloads) read the same values
here. Ground floor: imports yaml and nothing of cislens but :mod:`cislens.errors` (no TensorFlow, Keras or
matplotlib), so any stage may use it without importing the plan.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


@functools.cache
def read_schema(path: str) -> dict[str, Any]:
    """The schema at ``path``, parsed once (shared: never change it; :func:`load_schema` copies)."""
    try:
        with open(path) as handle:
            return yaml.safe_load(handle)
    except OSError as error:
        raise InputError(f"config schema {path}: {error.strerror}") from None


def load_schema(path: str | os.PathLike | None = None) -> dict[str, Any]:
    """The config schema (a private copy): this checkout's workflow/schemas/config.schema.yaml by default."""
    return copy.deepcopy(read_schema(str(path or SCHEMA_PATH)))


def _shipped(schema: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return schema if schema is not None else read_schema(str(SCHEMA_PATH))


def resolve(entry: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """``entry`` with a local ``$ref`` (``#/definitions/...``) followed, repeatedly."""
    schema = _shipped(schema)
    while "$ref" in entry:
        node: Any = schema
        for part in entry["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        # Keys beside the $ref (a default, a description) win over the referenced ones.
        entry = {**node, **{k: v for k, v in entry.items() if k != "$ref"}}
    return entry


def node(*path: str, schema: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """The schema of a config section: ``node("gia")``, ``node("gia", "spacing")``, ``node("training")``;
    a path starting with ``"definitions"`` names a definition (``node("definitions", "jaspar")``)."""
    schema = _shipped(schema)
    if path and path[0] == "definitions":
        entry: Mapping[str, Any] = schema["definitions"][path[1]]
        rest = path[2:]
    else:
        entry, rest = schema, path
    for name in rest:
        props = resolve(entry, schema).get("properties", {})
        if name not in props:
            raise KeyError(f"config schema has no section {'.'.join(path)}")
        entry = props[name]
    return resolve(entry, schema)


def defaults_of(entry: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """{property: default} of an object schema (copies, in the schema's order). An object property whose
    default is ``{}`` (a sub-section) gets its own properties' defaults, recursively, as validation
    fills them; a ``$ref``'d property's default is the referenced one's."""
    schema = _shipped(schema)
    out: dict[str, Any] = {}
    for name, sub in resolve(entry, schema).get("properties", {}).items():
        sub = resolve(sub, schema)
        if "default" not in sub:
            continue
        value = copy.deepcopy(sub["default"])
        if isinstance(value, dict) and not value and "properties" in sub:
            value = defaults_of(sub, schema)
        out[name] = value
    return out


def defaults(*path: str, schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The defaults of a config section, nested sub-sections filled: ``defaults("gia")``,
    ``defaults("training", "robustness")``, ``defaults("definitions", "jaspar")`` (copies)."""
    return defaults_of(node(*path, schema=schema), schema)


def default(*path: str, schema: Mapping[str, Any] | None = None) -> Any:
    """One key's default: ``default("encode", "deadline")`` (a copy)."""
    *section, key = path
    values = defaults(*section, schema=schema)
    if key not in values:
        raise KeyError(f"config schema has no default for {'.'.join(path)}")
    return values[key]


def with_defaults(section: str, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """``given`` (a config section, e.g. ``training``) over the schema's defaults, sub-sections merged
    one level deep: what validation would have filled, for a caller outside Snakemake."""
    out = defaults(section)
    for key, value in (given or {}).items():
        if isinstance(out.get(key), dict) and isinstance(value, Mapping):
            out[key] = {**out[key], **copy.deepcopy(dict(value))}
        else:
            out[key] = copy.deepcopy(value)
    return out
