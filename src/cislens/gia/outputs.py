"""The files the gia rule declares, from the configured experiment names only (never from data)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

EXPERIMENTS = (
    "occupancy",
    "position",
    "sites",
    "spacing",
    "cooperativity",
    "kmer",
    "gc",
    "flanks",
    "attention",
)
EXTRA_TABLES = {"kmer": ("kmer_mutagenesis",)}
FIGURE_LABELS = {
    "occupancy": "motif occupancy",
    "position": "positional bias",
    "sites": "number of sites",
    "spacing": "motif spacing and orientation",
    "cooperativity": "pairwise cooperativity",
    "kmer": "optimal k-mers",
    "gc": "GC-content bias",
    "flanks": "flank sensitivity",
    "attention": "attention at motif pairs",
}


def experiment_list(experiments: Sequence[str]) -> list[str]:
    """Configured experiments in canonical order, ``occupancy`` always first (the report reads it)."""
    unknown = [e for e in experiments if e not in EXPERIMENTS]
    if unknown:
        raise ValueError(f"unknown GIA experiments {unknown}; valid: {', '.join(EXPERIMENTS)}")
    return [e for e in EXPERIMENTS if e == "occupancy" or e in experiments]


def output_files(experiments: Sequence[str]) -> dict[str, str]:
    """{output key: file name in gia/}: ``<experiment>`` -> .tsv, ``<experiment>_png`` -> .png, extras."""
    out: dict[str, str] = {}
    for name in experiment_list(experiments):
        out[name] = f"{name}.tsv"
        for extra in EXTRA_TABLES.get(name, ()):
            out[extra] = f"{extra}.tsv"
        out[f"{name}_png"] = f"{name}.png"
    return out


def rule_outputs(folder: str, experiments: Sequence[str], report: Callable[..., Any]) -> dict[str, Any]:
    """The gia rule's named outputs: ``folder``/<file>, figures wrapped by Snakemake's ``report``."""
    outputs: dict[str, Any] = {}
    for key, name in output_files(experiments).items():
        path = f"{folder}/{name}"
        if name.endswith(".png"):
            labels = {
                "variant": "{variant}",
                "trial": "{trial}",
                "figure": FIGURE_LABELS[key.removesuffix("_png")],
            }
            path = report(path, category="{dataset}", subcategory="GIA", labels=labels)
        outputs[key] = path
    return outputs
