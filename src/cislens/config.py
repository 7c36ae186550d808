"""Config handling shared by the Snakefile and the scripts: schema check, defaults, variants, trials.

The JSON schema (workflow/schemas/config.schema.yaml) says what is allowed; this module turns a
schema violation into one line naming the key, fills per-kind dataset defaults, and expands
datasets x variants x trials.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .data.windows import DEFAULT_EXCLUDE
from .errors import InputError

# The 12 TFs of the multitask ground-truth set (anchors 1a), JASPAR 2016 CORE vertebrates.
MULTITASK_MOTIFS: dict[str, str] = {
    "Arid3a": "MA0151.1",
    "CEBPB": "MA0466.2",
    "FOSL1": "MA0477.1",
    "Gabpa": "MA0062.2",
    "MAFK": "MA0496.1",
    "MAX": "MA0058.3",
    "MEF2A": "MA0052.3",
    "NFYB": "MA0502.1",
    "SP1": "MA0079.3",
    "SRF": "MA0083.3",
    "STAT1": "MA0137.3",
    "YY1": "MA0095.2",
}
# The regulatory-code core (anchors 1b).
CODE_CORE_MOTIFS: dict[str, str] = {
    "SP1": "MA0079.3",
    "Gabpa": "MA0062.2",
    "CEBPB": "MA0466.2",
    "MAX": "MA0058.3",
    "YY1": "MA0095.2",
}


_PEAK_DEFAULTS: dict[str, Any] = {
    "width": 200,
    "center": "summit",
    "max_n_fraction": 0.1,
    "exclude_chroms": DEFAULT_EXCLUDE,
    "negatives": "gc_matched",
    "negative_ratio": 1.0,
    "reverse_complement": False,
    "valid_chroms": [],
    "test_chroms": [],
}

KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    "synthetic_multitask": {
        "n": 30000,
        "length": 200,
        "split": [0.7, 0.1, 0.2],
        "k_probs": [0.50, 0.25, 0.17, 0.05, 0.03],
        "motifs": MULTITASK_MOTIFS,
        "motif_release": "JASPAR2016",
    },
    "synthetic_code": {
        "n_pos": 10000,
        "n_neg": 10000,
        "length": 200,
        "split": [0.7, 0.1, 0.2],
        "k_range": [3, 7],
        "k_probs": [0.50, 0.25, 0.17, 0.05, 0.03],
        "core": CODE_CORE_MOTIFS,
        "n_pool_random": 50,
        "motif_release": "JASPAR2016",
    },
    "peaks": dict(_PEAK_DEFAULTS),
    "synthetic_genome": {
        **_PEAK_DEFAULTS,
        "motifs": {k: MULTITASK_MOTIFS[k] for k in ("CEBPB", "Gabpa", "MAX", "SP1", "YY1", "SRF")},
        "motif_release": "JASPAR2016",
        "n_chroms": 6,
        "chrom_length": 400_000,
        "gc": 0.41,
        "peaks_per_tf": 300,
        "sites_per_peak": [1, 3],
        "peak_width": [150, 400],
        "valid_chroms": ["chr5"],
        "test_chroms": ["chr6"],
    },
    "h5": {},
    # Protein families (README: Protein branch). Alignment options mirror cislens.protein.run.prepare;
    # structure and DMS options mirror cislens.protein.run.evaluate.
    "msa": {
        "format": None,
        "focus": 0,
        "first_residue": None,
        "max_gap_fraction": 0.5,
        "drop_focus_gaps": False,
        "identity": 0.8,
        "pdb": None,
        "chain": None,
        "mapping": "align",
        "distance_table": None,
        "table_index": "columns",
        "threshold": 8.0,
        "dms": None,
        "dms_score": "score",
    },
    # A Potts model with planted couplings (cislens.protein.simulate), Gibbs-sampled: exact contacts
    # and exact mutation effects, no download.
    "planted_potts": {
        "length": 50,
        "n_sequences": 5000,
        "n_contacts": None,
        "coupling_scale": 0.5,
        "field_scale": 2.0,
        "gap_penalty": 2.0,
        "burn_in": 200,
        "thin": 20,
        "max_gap_fraction": 0.5,
        "identity": 0.8,
    },
}

PROTEIN_KINDS = ("msa", "planted_potts")
# Settings of a protein model entry that are read at evaluation, not passed to the model's fit.
PROTEIN_EVAL_KEYS = {"vae": ("n_samples",)}

DEFAULT_JASPAR = {
    "release": "JASPAR2016",
    "collection": "CORE",
    "tax_group": "vertebrates",
    "all_versions": False,
    "pseudocount": 0.0,
}

VARIANT_RE = re.compile(r"^([A-Za-z0-9_\-]+?)__([A-Za-z0-9_\-]+)$")

# Job sizes on a cluster (runtime in minutes, mem_mb) of the rules that need more than the profile's
# default-resources; the config's `resources:` overrides them (`default:` for every rule, or by rule
# name), and `--set-resources` on the command line or in a profile overrides both.
RULE_RESOURCES: dict[str, dict[str, Any]] = {
    "prepare": {"runtime": 240, "mem_mb": 16000},
    "train": {"runtime": 720, "mem_mb": 16000},
    "attribute": {"runtime": 240, "mem_mb": 16000},
    "gia": {"runtime": 240, "mem_mb": 16000},
    # Protein branch: weights are O(N^2) in sequences; a Potts fit holds (L*21)^2 couplings.
    "protein_prepare": {"runtime": 120, "mem_mb": 16000},
    "protein_fit": {"runtime": 480, "mem_mb": 32000},
    "protein_evaluate": {"runtime": 60, "mem_mb": 16000},
}

# ENCODE: peak files named by accession, reference genomes by assembly; downloaded by the workflow.
ENCODE_FILE_RE = re.compile(r"^ENCFF\d{3}[A-Z]{3}$")
ENCODE_EXPERIMENT_RE = re.compile(r"^ENCSR\d{3}[A-Z]{3}$")
DEFAULT_ENCODE: dict[str, Any] = {
    "base_url": "https://www.encodeproject.org",
    # Relative URLs are resolved against base_url; ENCODE's own reference FASTAs (md5 from their
    # metadata). A mapping {url: ..., md5: ...} names any other source.
    "genome_urls": {
        "GRCh38": "/files/GRCh38_no_alt_analysis_set_GCA_000001405.15/@@download/"
        "GRCh38_no_alt_analysis_set_GCA_000001405.15.fasta.gz",
        "mm10": "/files/mm10_no_alt_analysis_set_ENCODE/@@download/mm10_no_alt_analysis_set_ENCODE.fasta.gz",
    },
    # An experiment accession resolves to its released narrowPeak BED of the first of these output
    # types that it has (ENCODE's preferred default first among equals).
    "output_types": [
        "IDR thresholded peaks",
        "conservative IDR thresholded peaks",
        "optimal IDR thresholded peaks",
        "pseudoreplicated peaks",
        "replicated peaks",
        "peaks",
    ],
    "retries": 5,
    "timeout": 60,
    # Seconds per file for everything (metadata, attempts, waits); a passed deadline keeps the partial
    # file for the next run to resume. Genomes: GRCh38's ~0.9 GB FASTA at >= 0.25 MB/s.
    "deadline": 300,
    "genome_deadline": 3600,
}
ENCODE_DIR = "resources/encode"
GENOME_DIR = "resources/genomes"


def load_schema(path: str | os.PathLike) -> dict[str, Any]:
    with open(path) as handle:
        return yaml.safe_load(handle)


def check_config(config: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Raise InputError with one line naming the offending key when the config breaks the schema."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), str(e.path)))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    # Descend into oneOf/anyOf so the message names the deepest real problem.
    while error.context:
        error = jsonschema.exceptions.best_match(error.context)
    where = ".".join(str(p) for p in error.absolute_path) or "<top level>"
    message = error.message.replace("\n", " ")
    if len(message) > 200:
        message = message[:200] + "..."
    raise InputError(f"config: {where}: {message}")


def dataset_settings(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """One dataset's settings with its kind's defaults filled in."""
    if name not in config["datasets"]:
        raise InputError(f"config: datasets: unknown dataset {name!r}")
    raw = dict(config["datasets"][name])
    kind = raw["kind"]
    settings = copy.deepcopy(KIND_DEFAULTS[kind])
    settings.update(copy.deepcopy(raw))
    settings.setdefault("seed", int(config.get("seed", 0)))
    if kind in PROTEIN_KINDS:
        return settings
    settings.setdefault("jaspar", dict(DEFAULT_JASPAR))
    settings["jaspar"] = {**DEFAULT_JASPAR, **settings["jaspar"]}
    if kind == "peaks":
        resolve_encode(settings, encode_settings(config))
    return settings


def encode_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config's `encode:` section over the defaults (genome URLs merged by assembly)."""
    given = dict(config.get("encode") or {})
    merged = {**DEFAULT_ENCODE, **given}
    merged["genome_urls"] = {**DEFAULT_ENCODE["genome_urls"], **(given.get("genome_urls") or {})}
    return merged


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


def genome_path(assembly: str) -> str:
    return f"{GENOME_DIR}/{assembly}.fa.gz"


def resolve_encode(settings: dict[str, Any], encode: Mapping[str, Any]) -> None:
    """Point a `peaks` dataset's ENCODE accessions and assembly name at the files the workflow downloads.

    ``genome: GRCh38`` (a key of ``encode.genome_urls``) becomes ``resources/genomes/GRCh38.fa.gz``;
    a peak file given as ``ENCFF...`` or ``ENCSR...`` becomes ``resources/encode/<assembly>/<acc>.bed.gz``.
    What was asked for is kept under ``settings["encode"]`` ({"peaks": {task: accession}, "genome":
    assembly}); the DAG-time preflight skips those files until they exist. Nothing here touches the
    network: downloads happen in the rules ``encode_peaks`` and ``encode_genome``.
    """
    genome = settings.get("genome")
    assembly = settings.get("assembly")
    downloaded_genome = None
    if isinstance(genome, str) and genome in encode["genome_urls"]:
        downloaded_genome = genome
        assembly = assembly or genome
        settings["genome"] = genome_path(genome)
    accessions = {task: path for task, path in peak_files(settings).items() if is_encode_accession(path)}
    if not accessions and downloaded_genome is None:
        return
    settings["peaks"] = {
        task: encode_peaks_path(path, assembly) if task in accessions else path
        for task, path in peak_files(settings).items()
    }
    if assembly:
        settings["assembly"] = assembly
    settings["encode"] = {"peaks": accessions, "genome": downloaded_genome}


def downloaded_inputs(settings: Mapping[str, Any]) -> set[str]:
    """Input paths of a dataset that the workflow downloads (they need not exist at DAG time)."""
    encode = settings.get("encode") or {}
    paths = {encode_peaks_path(acc, settings.get("assembly")) for acc in encode.get("peaks", {}).values()}
    if encode.get("genome"):
        paths.add(genome_path(encode["genome"]))
    return paths


def rule_resources(config: Mapping[str, Any], rule: str) -> dict[str, Any]:
    """A rule's cluster resources: built-in sizes, then the config's `resources.default`, then
    `resources.<rule>`. Only read by cluster executors (a local run is limited by --cores alone)."""
    given = config.get("resources") or {}
    return {**RULE_RESOURCES.get(rule, {}), **(given.get("default") or {}), **(given.get(rule) or {})}


def peak_files(settings: Mapping[str, Any]) -> dict[str, str]:
    """Peak files of a `peaks` dataset as {task: path}; a list names tasks after the file stems."""
    peaks = settings["peaks"]
    if isinstance(peaks, str):
        peaks = [peaks]
    if isinstance(peaks, list):
        named: dict[str, str] = {}
        for path in peaks:
            stem = Path(path).name
            for suffix in (".gz", ".narrowPeak", ".bed"):
                stem = stem.removesuffix(suffix)
            if stem in named:
                raise InputError(
                    f"peaks: {named[stem]} and {path} would both be task {stem!r}; "
                    "name the tasks with a mapping"
                )
            named[stem] = path
        return named
    return dict(peaks)


def check_settings(name: str, settings: Mapping[str, Any]) -> None:
    """Cross-field checks a JSON schema cannot express: ranges given as [low, high], hold-outs."""
    where = f"config: datasets.{name}"
    for key in ("sites_per_peak", "peak_width", "k_range"):
        if key in settings and settings[key][0] > settings[key][1]:
            raise InputError(f"{where}.{key}: {settings[key]} is not [low, high]")
    if settings["kind"] in ("peaks", "synthetic_genome"):
        valid, test = set(settings["valid_chroms"]), set(settings["test_chroms"])
        if not valid or not test:
            raise InputError(
                f"{where}: valid_chroms and test_chroms are required (chromosome hold-out keeps "
                "overlapping windows and shuffled negatives of one region out of two splits)"
            )
        if valid & test:
            raise InputError(f"{where}: {sorted(valid & test)} in both valid_chroms and test_chroms")
    if settings["kind"] == "synthetic_genome":
        names = [f"chr{i + 1}" for i in range(settings["n_chroms"])]
        unknown = sorted((set(settings["valid_chroms"]) | set(settings["test_chroms"])) - set(names))
        if unknown:
            raise InputError(f"{where}: hold-out {unknown} not among the generated {names[0]}..{names[-1]}")
        if settings["peak_width"][0] < 60:
            raise InputError(f"{where}.peak_width: peaks narrower than 60 bp leave no room for motifs")
    if settings["kind"] == "msa" and settings["pdb"] and settings["distance_table"]:
        raise InputError(f"{where}: give pdb or distance_table for the true contacts, not both")
    if settings["kind"] == "planted_potts":
        pairs = settings["length"] * (settings["length"] - 1) // 2
        if settings["n_contacts"] is not None and settings["n_contacts"] > pairs:
            raise InputError(f"{where}.n_contacts: {settings['n_contacts']} > the {pairs} pairs of length")
    if (
        settings["kind"] in ("synthetic_multitask", "synthetic_code")
        and abs(sum(settings["split"]) - 1) > 1e-6
    ):
        raise InputError(f"{where}.split: fractions {settings['split']} do not sum to 1")


def workflow_plan(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every dataset's settings, variants and trials, checked; InputError names the first problem."""
    plan = {}
    for name in config["datasets"]:
        settings = dataset_settings(config, name)
        check_settings(name, settings)
        if settings["kind"] == "peaks":
            peak_files(settings)
        variants = protein_model_names(config, name) if is_protein(settings) else variant_names(config, name)
        plan[name] = {"settings": settings, "variants": variants, "trials": trial_names(config, name)}
    return plan


def is_protein(settings: Mapping[str, Any]) -> bool:
    """Whether a dataset belongs to the protein branch (its own rules: workflow/rules/protein.smk)."""
    return settings["kind"] in PROTEIN_KINDS


def protein_model_names(config: Mapping[str, Any], dataset: str) -> list[str]:
    """A protein dataset's models: its own `models` list, else every entry of `protein_models`."""
    models = config.get("protein_models") or {}
    chosen = config["datasets"][dataset].get("models", list(models))
    if not chosen:
        raise InputError(f"config: datasets.{dataset}: protein dataset but no protein_models are configured")
    for name in chosen:
        if name not in models:
            raise InputError(
                f"config: datasets.{dataset}.models: unknown protein model {name!r} "
                f"(protein_models: {', '.join(models) or 'none'})"
            )
    return list(chosen)


def protein_model(config: Mapping[str, Any], name: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``(kind, fit keyword arguments, evaluation options)`` of one `protein_models` entry."""
    models = config.get("protein_models") or {}
    if name not in models:
        raise InputError(f"config: protein_models: unknown protein model {name!r} ({', '.join(models)})")
    settings = dict(models[name])
    kind = settings.pop("kind")
    evaluation = {k: settings.pop(k) for k in PROTEIN_EVAL_KEYS.get(kind, ()) if k in settings}
    if kind == "vae" and "hidden" in settings:
        settings["hidden"] = tuple(settings["hidden"])
    return kind, settings, evaluation


def ground_truth_motifs(settings: Mapping[str, Any]) -> dict[str, str]:
    """{TF name: JASPAR ID} of the motifs planted in a synthetic dataset; empty for real data."""
    kind = settings["kind"]
    if kind in ("synthetic_multitask", "synthetic_genome"):
        return dict(settings["motifs"])
    if kind == "synthetic_code":
        return dict(settings["core"])
    return {}


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
