"""Config lookups shared by the plan, the rules and the scripts: variants, trials, ENCODE paths, JASPAR
tags, cluster resources. Validation, defaults and everything that differs by dataset kind live in
:mod:`cislens.plan` (which imports this module, never the other way round)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import InputError

VARIANT_RE = re.compile(r"^([A-Za-z0-9_\-]+?)__([A-Za-z0-9_\-]+)$")

# Job sizes on a cluster (runtime in minutes, mem_mb) of the rules that need more than the profile's
# default-resources; the config's `resources:` overrides them (`default:` for every rule, or by rule
# name), and `--set-resources` on the command line or in a profile overrides both.
RULE_RESOURCES: dict[str, dict[str, Any]] = {
    "prepare": {"runtime": 240, "mem_mb": 16000},
    "train": {"runtime": 720, "mem_mb": 16000},
    "attribute": {"runtime": 240, "mem_mb": 16000},
    "gia": {"runtime": 240, "mem_mb": 16000},
    "modisco": {"runtime": 240, "mem_mb": 32000},  # every trial's maps of up to 20,000 sequences
    "tracks": {"runtime": 240, "mem_mb": 16000},  # per task: contributions of up to 20,000 windows
    # Protein branch: weights are O(N^2) in sequences; a Potts fit holds (L*21)^2 couplings.
    "protein_prepare": {"runtime": 120, "mem_mb": 16000},
    "protein_fit": {"runtime": 480, "mem_mb": 32000},
    "protein_evaluate": {"runtime": 60, "mem_mb": 16000},
}

# ENCODE: peak files named by accession, reference genomes by assembly; downloaded by the workflow.
ENCODE_FILE_RE = re.compile(r"^ENCFF\d{3}[A-Z]{3}$")
ENCODE_EXPERIMENT_RE = re.compile(r"^ENCSR\d{3}[A-Z]{3}$")
ENCODE_DIR = "resources/encode"
GENOME_DIR = "resources/genomes"


def genome_source(encode: Mapping[str, Any], assembly: str) -> dict[str, Any]:
    """{url, md5?} of an assembly in ``encode.genome_urls``."""
    entry = encode["genome_urls"].get(assembly)
    if entry is None:
        raise InputError(f"config: encode.genome_urls has no URL for assembly {assembly!r}")
    return dict(entry) if isinstance(entry, Mapping) else {"url": entry}


def is_encode_accession(value: Any) -> bool:
    return isinstance(value, str) and bool(ENCODE_FILE_RE.match(value) or ENCODE_EXPERIMENT_RE.match(value))


def encode_peaks_path(accession: str, assembly: str | None) -> str:
    """Where the workflow caches an ENCODE file (or an experiment's chosen file) for one assembly."""
    return f"{ENCODE_DIR}/{assembly or 'any'}/{accession}.bed.gz"


def encode_signal_path(accession: str, assembly: str | None) -> str:
    """Where the workflow caches an ENCODE bigWig (a signal track) for one assembly."""
    return f"{ENCODE_DIR}/{assembly or 'any'}/{accession}.bigWig"


def genome_path(assembly: str) -> str:
    return f"{GENOME_DIR}/{assembly}.fa.gz"


def resolve_encode(settings: dict[str, Any], encode: Mapping[str, Any]) -> None:
    """Point a `peaks` dataset's ENCODE accessions and assembly name at the files the workflow downloads.

    ``genome: GRCh38`` (a key of ``encode.genome_urls``) becomes ``resources/genomes/GRCh38.fa.gz``;
    a peak file given as ``ENCFF...`` or ``ENCSR...`` becomes ``resources/encode/<assembly>/<acc>.bed.gz``,
    as does an ``exclude_regions`` file accession (the ENCODE blacklist is a BED file); a ``signal``
    track's file accession becomes ``resources/encode/<assembly>/<acc>.bigWig``. What was asked for is
    kept under ``settings["encode"]`` ({"peaks": {task: accession}, "genome": assembly, "signal":
    {task: accession}, "exclude_regions": [accession]}); the DAG-time preflight skips those files until
    they exist. Nothing here touches the network: downloads happen in the rules ``encode_peaks``,
    ``encode_signal`` and ``encode_genome``.
    """
    genome = settings.get("genome")
    assembly = settings.get("assembly")
    downloaded_genome = None
    if isinstance(genome, str) and genome in encode["genome_urls"]:
        downloaded_genome = genome
        assembly = assembly or genome
        settings["genome"] = genome_path(genome)
    from .data.peaks import peak_files  # pandas loads only when peaks datasets are configured

    accessions = {task: path for task, path in peak_files(settings).items() if is_encode_accession(path)}
    signal = {
        task: path for task, path in (settings.get("signal") or {}).items() if is_encode_accession(path)
    }
    excluded = [path for path in settings.get("exclude_regions") or [] if is_encode_accession(path)]
    for what, names in (("signal", list(signal.values())), ("exclude_regions", excluded)):
        experiments = [name for name in names if ENCODE_EXPERIMENT_RE.match(name)]
        if experiments:
            raise InputError(f"config: {what}: {experiments[0]} is an experiment; name its file (ENCFF...)")
    if not (accessions or signal or excluded) and downloaded_genome is None:
        return
    settings["peaks"] = {
        task: encode_peaks_path(path, assembly) if task in accessions else path
        for task, path in peak_files(settings).items()
    }
    if signal:
        settings["signal"] = {
            task: encode_signal_path(path, assembly) if task in signal else path
            for task, path in settings["signal"].items()
        }
    if excluded:
        settings["exclude_regions"] = [
            encode_peaks_path(path, assembly) if path in excluded else path
            for path in settings["exclude_regions"]
        ]
    if assembly:
        settings["assembly"] = assembly
    settings["encode"] = {"peaks": accessions, "genome": downloaded_genome}
    if signal:
        settings["encode"]["signal"] = signal
    if excluded:
        settings["encode"]["exclude_regions"] = excluded


def downloaded_inputs(settings: Mapping[str, Any]) -> set[str]:
    """Input paths of a dataset that the workflow downloads (they need not exist at DAG time)."""
    encode = settings.get("encode") or {}
    assembly = settings.get("assembly")
    paths = {encode_peaks_path(acc, assembly) for acc in encode.get("peaks", {}).values()}
    paths |= {encode_peaks_path(acc, assembly) for acc in encode.get("exclude_regions", [])}
    paths |= {encode_signal_path(acc, assembly) for acc in encode.get("signal", {}).values()}
    if encode.get("genome"):
        paths.add(genome_path(encode["genome"]))
    return paths


def rule_resources(config: Mapping[str, Any], rule: str) -> dict[str, Any]:
    """A rule's cluster resources: built-in sizes, then the config's `resources.default`, then
    `resources.<rule>`. Only read by cluster executors (a local run is limited by --cores alone)."""
    given = config.get("resources") or {}
    return {**RULE_RESOURCES.get(rule, {}), **(given.get("default") or {}), **(given.get(rule) or {})}


def variant_names(config: Mapping[str, Any], dataset: str) -> list[str]:
    """Variants of one dataset: its own list, else the global list; each checked against models/regimes."""
    settings = config["datasets"][dataset]
    variants = settings.get("variants", config.get("variants"))
    if not variants:
        raise InputError(f"config: variants: required for the genomics dataset {dataset!r}")
    for variant in variants:
        parse_variant(config, variant)
    return list(variants)


def parse_variant(config: Mapping[str, Any], variant: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """`<model>__<regime>` -> (model settings, regime settings); unknown names fail with one line."""
    match = VARIANT_RE.match(variant)
    if not match:
        raise InputError(f"config: variants: {variant!r} is not of the form <model>__<regime>")
    model, regime = match.groups()
    models = config.get("models", {})
    regimes = config.get("regimes", {})
    if model not in models:
        raise InputError(
            f"config: variants: {variant!r} names unknown model {model!r} (models: {', '.join(models)})"
        )
    if regime not in regimes:
        raise InputError(
            f"config: variants: {variant!r} names unknown regime {regime!r} (regimes: {', '.join(regimes)})"
        )
    return dict(models[model]), dict(regimes[regime] or {})


def trial_names(config: Mapping[str, Any], dataset: str) -> list[str]:
    n = int(config["datasets"][dataset].get("trials", config["trials"]))
    return [f"t{i}" for i in range(n)]


def trial_seed(config: Mapping[str, Any], dataset: str, trial: str) -> int:
    """Each trial's seed, ``dataset seed * 1000 + trial index``: trials differ, reruns repeat."""
    base = int(config["datasets"][dataset].get("seed", config.get("seed", 0)))
    return base * 1000 + int(trial.removeprefix("t"))


def jaspar_tag(jaspar: Mapping[str, Any]) -> str:
    """File stem of an exported JASPAR database: JASPAR2016_CORE_vertebrates, plus ``_all`` (every
    version of each matrix, not only the latest) and ``_pc<x>`` (pseudocount) when those are set."""
    tag = f"{jaspar['release']}_{jaspar['collection']}_{jaspar['tax_group']}"
    if jaspar.get("all_versions"):
        tag += "_all"
    if jaspar.get("pseudocount"):
        tag += f"_pc{float(jaspar['pseudocount']):g}"
    return tag


def parse_jaspar_options(options: str) -> dict[str, Any]:
    """Inverse of the suffix :func:`jaspar_tag` adds: '' / '_all' / '_pc0.8' / '_all_pc0.8'."""
    match = re.fullmatch(r"(_all)?(?:_pc([0-9.eE+-]+))?", options)
    if match is None:
        raise InputError(f"bad JASPAR database options {options!r}")
    return {"all_versions": bool(match.group(1)), "pseudocount": float(match.group(2) or 0.0)}
