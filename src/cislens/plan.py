"""The one plan: the config validated once, and a registry of dataset kinds.

The JSON schema (workflow/schemas/config.schema.yaml) is the one source of every config default: the
top-level sections' defaults are filled into the config by :func:`validate` (one validation, one-line
errors), and each dataset kind's defaults (``default:`` on the properties of its definition) are read
by :func:`dataset_settings`, inside Snakemake and outside it alike (:func:`load_schema` finds the
schema of this checkout).

Each dataset kind is one :class:`Kind` in :data:`KINDS`: its defaults, cross-field checks, DAG-time
input checks (preflight), the files its prepare step reads, its planted ground truth, its protein
alignment and truth, and which outputs apply to it. Everything that differs by kind is decided here;
the workflow (common.smk), the preflight and the report consult the registry.

Layering: this module imports :mod:`cislens.config` (variants, trials, ENCODE paths) and, inside
functions, the data and preflight modules of the kinds; nothing under :mod:`cislens.data` imports it.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Mapping, Sequence
from typing import Any

import jsonschema

from . import config as cfg
from . import schema as _schema
from .errors import InputError
from .schema import SCHEMA_PATH as SCHEMA_PATH  # re-exported: the schema reader is on the ground floor
from .schema import load_schema as load_schema

RESULTS = "results"
_read_schema = _schema.read_schema  # parsed once (cached), shared with the stages


# ------------------------------------------------------------------ schema: defaults, one validation


def _fill_then_check(validator, props, instance, schema):  # jsonschema's keyword signature
    """The ``properties`` keyword that first sets each absent property's ``default`` (a copy)."""
    if validator.is_type(instance, "object"):
        for name, subschema in props.items():
            if isinstance(subschema, Mapping) and "default" in subschema and name not in instance:
                instance[name] = copy.deepcopy(subschema["default"])
    yield from jsonschema.Draft202012Validator.VALIDATORS["properties"](validator, props, instance, schema)


_FillingValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"properties": _fill_then_check}
)


def _filling_validator(schema: Mapping[str, Any]) -> jsonschema.protocols.Validator:
    """Draft 2020-12 that sets each absent property's ``default`` (a copy) before validating it."""
    return _FillingValidator(schema)


def _filled(entry: Mapping[str, Any], definition: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``entry`` with the defaults of schema definition ``definition`` filled in, nested
    ones too (a dataset's sub-sections); validity is :func:`validate`'s business, not checked here."""
    filled = copy.deepcopy(dict(entry))
    root = {"definitions": schema["definitions"], "$ref": f"#/definitions/{definition}"}
    for _ in _filling_validator(root).iter_errors(filled):
        pass
    return filled


def _one_line(errors: list[jsonschema.ValidationError]) -> str:
    error = jsonschema.exceptions.best_match(errors)
    # Descend into oneOf/anyOf so the message names the deepest real problem.
    while error.context:
        error = jsonschema.exceptions.best_match(error.context)
    where = ".".join(str(p) for p in error.absolute_path) or "<top level>"
    message = error.message.replace("\n", " ")
    if len(message) > 200:
        message = message[:200] + "..."
    return f"config: {where}: {message}"


def validate(config: dict[str, Any], schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check ``config`` against the schema in one pass that also fills the schema's defaults.

    Bad input raises InputError with one line naming the key. The top-level sections' defaults are
    written into ``config`` (as Snakemake's ``validate`` did); ``datasets`` stays as written (reports
    show it, and report params are hashed from it): a dataset's kind defaults are applied to its
    settings by :func:`dataset_settings`. Returns the fully filled copy.
    """
    filled = copy.deepcopy(dict(config))
    validator = _filling_validator(schema if schema is not None else load_schema())
    errors = sorted(validator.iter_errors(filled), key=lambda e: (len(e.absolute_path), str(e.path)))
    if errors:
        raise InputError(_one_line(errors))
    for key, value in filled.items():
        if key != "datasets":
            config[key] = value
    return filled


def check_config(config: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> None:
    """Raise InputError (one line) when the config breaks the schema; ``config`` is not changed."""
    validate(copy.deepcopy(dict(config)), schema)


def property_defaults(definition: str, schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """{property: default} of one schema definition, in the schema's order (copies)."""
    schema = schema if schema is not None else _read_schema(str(SCHEMA_PATH))
    props = schema["definitions"][definition].get("properties", {})
    return {name: copy.deepcopy(sub["default"]) for name, sub in props.items() if "default" in sub}


def encode_defaults(schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """ENCODE download settings unless the config's `encode:` says otherwise (schema: properties.encode)."""
    return _schema.defaults("encode", schema=schema)


def encode_settings(config: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The config's `encode:` section over the defaults (genome URLs merged by assembly)."""
    defaults = encode_defaults(schema)
    given = dict(config.get("encode") or {})
    merged = {**defaults, **given}
    merged["genome_urls"] = {**defaults["genome_urls"], **(given.get("genome_urls") or {})}
    return merged


def jaspar_defaults(schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JASPAR export a genomics dataset uses unless it says otherwise (schema: definitions.jaspar)."""
    return property_defaults("jaspar", schema)


# ------------------------------------------------------------------ the kinds
def _require_hold_out(where: str, settings: Mapping[str, Any]) -> None:
    valid, test = set(settings["valid_chroms"]), set(settings["test_chroms"])
    if not valid or not test:
        raise InputError(
            f"{where}: valid_chroms and test_chroms are required (chromosome hold-out keeps "
            "overlapping windows and shuffled negatives of one region out of two splits)"
        )
    if valid & test:
        raise InputError(f"{where}: {sorted(valid & test)} in both valid_chroms and test_chroms")


def _require_ranges(where: str, settings: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in settings and settings[key][0] > settings[key][1]:
            raise InputError(f"{where}.{key}: {settings[key]} is not [low, high]")


def _require_split(where: str, settings: Mapping[str, Any]) -> None:
    if abs(sum(settings["split"]) - 1) > 1e-6:
        raise InputError(f"{where}.split: fractions {settings['split']} do not sum to 1")


OUTPUTS = ("genomics", "protein", "truth", "planted", "tracks")


class Kind:
    """One dataset kind. Subclasses override what differs; the defaults are a genomics kind's."""

    name = ""
    protein = False  # the MSA branch (workflow/rules/protein.smk) rather than prepare -> train -> ...
    truth_key: str | None = None  # the settings key holding the planted motifs {TF: JASPAR ID}
    genome = False  # windows on a genome FASTA (real coordinates): genome-browser tracks apply
    description = ""

    # -- settings
    def defaults(self, schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """This kind's defaults, from the schema's definition of the kind."""
        return property_defaults(self.name, schema)

    def settings(
        self, config: Mapping[str, Any], raw: Mapping[str, Any], schema: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """One dataset's settings: the kind's defaults, the entry over them (its sub-sections' defaults
        filled in), the config's seed."""
        schema = schema if schema is not None else _read_schema(str(SCHEMA_PATH))
        settings = self.defaults(schema)
        settings.update(_filled(raw, self.name, schema))
        settings.setdefault("seed", int(config.get("seed", 0)))
        if not self.protein:
            settings["jaspar"] = {**jaspar_defaults(schema), **settings.get("jaspar", {})}
        return settings

    def check(self, where: str, settings: Mapping[str, Any]) -> None:
        """Cross-field checks a JSON schema cannot express; InputError names the key."""

    def preflight(self, dataset: str, settings: Mapping[str, Any]) -> None:
        """DAG-time checks of the input files (missing, empty, malformed) before any job starts."""

    # -- what is known before prepare runs (None: not known at DAG time); checked by :func:`check_dag`
    def window(self, settings: Mapping[str, Any]) -> int | None:
        """The width in bases of the dataset's sequences (the model's input length)."""
        return None

    def n_tasks(self, settings: Mapping[str, Any]) -> int | None:
        """The number of tasks (model outputs) the dataset will have."""
        return None

    # -- genomics: what prepare reads, what is known to be true
    def truth_motifs(self, settings: Mapping[str, Any]) -> dict[str, str]:
        """{TF name: JASPAR ID} of the motifs planted in the data; empty for real data."""
        return dict(settings[self.truth_key]) if self.truth_key else {}

    def motif_ids(self, settings: Mapping[str, Any]) -> list[str]:
        """JASPAR IDs written to results/D/motifs.meme (the planted motifs)."""
        return list(self.truth_motifs(settings).values())

    def inputs(self, settings: Mapping[str, Any], dataset: str) -> dict[str, Any]:
        """The prepare rule's input files by name (what :func:`cislens.data.prepare.build` reads)."""
        inputs: dict[str, Any] = {}
        if self.truth_motifs(settings):
            inputs["motifs"] = f"{RESULTS}/{dataset}/motifs.meme"
        return inputs

    @property
    def builder(self) -> str | None:
        """The function that makes this kind's Dataset (genomics kinds; protein kinds have their own
        branch): ``build_<kind>`` of :mod:`cislens.data.prepare`, which dispatches on that name."""
        return None if self.protein else f"cislens.data.prepare.build_{self.name}"

    @property
    def outputs(self) -> frozenset[str]:
        """Which outputs apply: ``genomics`` (prepare -> train -> interpret -> report) or ``protein``
        (the MSA branch); ``truth`` (planted motifs: motifs.meme, attribution AUROC, the attribution
        heat map); ``planted`` (a simulated protein family: alignment, contacts and effects made);
        ``tracks`` (windows with genomic coordinates: bigWig tracks of predictions and contributions)."""
        names = {"protein" if self.protein else "genomics"}
        if self.truth_key is not None:
            names.add("truth")
        if self.genome and not self.protein:
            names.add("tracks")
        return frozenset(names)

    def applies(self, output: str) -> bool:
        if output not in OUTPUTS:
            raise InputError(f"unknown output {output!r} ({', '.join(OUTPUTS)})")
        return output in self.outputs

    # -- protein: the alignment and the known structure / effects
    def alignment(self, settings: Mapping[str, Any], dataset: str) -> str:
        raise InputError(f"datasets.{dataset}: kind {self.name} has no alignment")

    def protein_truth(self, settings: Mapping[str, Any], dataset: str) -> dict[str, Any]:
        """protein evaluate's structure / DMS keywords (files and options)."""
        return {}

    def protein_sources(self, settings: Mapping[str, Any], dataset: str) -> list[str]:
        """A protein family's input files (checksummed in its report's provenance section)."""
        truth = self.protein_truth(settings, dataset)
        return [self.alignment(settings, dataset), *(truth[k] for k in PROTEIN_TRUTH_FILES if k in truth)]


class SyntheticMultitask(Kind):
    name = "synthetic_multitask"
    truth_key = "motifs"
    description = "the multitask ground-truth set: planted JASPAR motifs, one task per TF"

    def check(self, where: str, settings: Mapping[str, Any]) -> None:
        _require_split(where, settings)

    def window(self, settings: Mapping[str, Any]) -> int | None:
        return int(settings["length"])

    def n_tasks(self, settings: Mapping[str, Any]) -> int | None:
        return len(settings["motifs"]) + len(settings.get("interactions") or [])  # one per TF, per pair


class SyntheticCode(Kind):
    name = "synthetic_code"
    truth_key = "core"
    description = "the regulatory-code set: positives carry the core motifs, negatives a random pool"

    def check(self, where: str, settings: Mapping[str, Any]) -> None:
        _require_ranges(where, settings, ("k_range",))
        _require_split(where, settings)

    def window(self, settings: Mapping[str, Any]) -> int | None:
        return int(settings["length"])

    def n_tasks(self, settings: Mapping[str, Any]) -> int | None:
        return 1  # positives carry the code, negatives do not

    def motif_ids(self, settings: Mapping[str, Any]) -> list[str]:
        """The core plus a deterministic pool of other motifs for the negatives."""
        from .data.synthetic import random_pool_ids

        ids = list(settings["core"].values())
        return ids + random_pool_ids(
            settings["motif_release"], n=settings["n_pool_random"], exclude=ids, seed=settings["seed"]
        )


class Peaks(Kind):
    name = "peaks"
    genome = True
    description = "peak files (paths or ENCODE accessions) on a genome FASTA"

    def settings(
        self, config: Mapping[str, Any], raw: Mapping[str, Any], schema: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        settings = super().settings(config, raw, schema)
        cfg.resolve_encode(settings, encode_settings(config, schema))
        return settings

    def check(self, where: str, settings: Mapping[str, Any]) -> None:
        from .data.peaks import peak_files

        _require_hold_out(where, settings)
        peak_files(settings)  # two files that would name the same task
        _require_signal_negatives(where, settings)

    def preflight(self, dataset: str, settings: Mapping[str, Any]) -> None:
        from .preflight import check_peak_inputs

        check_peak_inputs(dataset, settings)

    def window(self, settings: Mapping[str, Any]) -> int | None:
        return int(settings["width"])

    def n_tasks(self, settings: Mapping[str, Any]) -> int | None:
        from .data.peaks import peak_files

        if settings.get("signal"):
            return len(settings["signal"])  # one regression task per track
        return len(peak_files(settings))  # one task per peak file

    def inputs(self, settings: Mapping[str, Any], dataset: str) -> dict[str, Any]:
        from .data.peaks import peak_files

        inputs = super().inputs(settings, dataset)
        inputs["peaks"] = list(peak_files(settings).values())
        inputs["genome"] = settings["genome"]
        if settings.get("signal"):
            inputs["signal"] = list(settings["signal"].values())
        if settings["exclude_regions"]:
            inputs["exclude_regions"] = list(settings["exclude_regions"])
        return inputs


class SyntheticGenome(Kind):
    name = "synthetic_genome"
    truth_key = "motifs"
    genome = True
    description = "a generated genome with planted motif sites and their peaks"

    def check(self, where: str, settings: Mapping[str, Any]) -> None:
        _require_ranges(where, settings, ("sites_per_peak", "peak_width"))
        _require_hold_out(where, settings)
        names = [f"chr{i + 1}" for i in range(settings["n_chroms"])]
        unknown = sorted((set(settings["valid_chroms"]) | set(settings["test_chroms"])) - set(names))
        if unknown:
            raise InputError(f"{where}: hold-out {unknown} not among the generated {names[0]}..{names[-1]}")
        if settings["peak_width"][0] < 60:
            raise InputError(f"{where}.peak_width: peaks narrower than 60 bp leave no room for motifs")
        _require_signal_negatives(where, settings)
        amplitudes = (settings.get("signal") or {}).get("amplitudes") or {}
        unknown = sorted(set(amplitudes) - set(settings["motifs"]))
        if unknown:
            planted = sorted(settings["motifs"])
            raise InputError(f"{where}.signal.amplitudes: {unknown} are not planted motifs ({planted})")

    def window(self, settings: Mapping[str, Any]) -> int | None:
        return int(settings["width"])

    def n_tasks(self, settings: Mapping[str, Any]) -> int | None:
        if settings.get("signal") is not None:
            return 1  # the one generated track
        return len(settings["motifs"])  # one peak set per planted TF

    def inputs(self, settings: Mapping[str, Any], dataset: str) -> dict[str, Any]:
        made = f"{RESULTS}/{dataset}/inputs"
        inputs = super().inputs(settings, dataset)
        inputs.update(genome=f"{made}/genome.fa", planted=f"{made}/planted.bed", peaks=f"{made}/peaks")
        if settings.get("signal") is not None:
            inputs["signal"] = f"{made}/signal.bw"
        if settings["exclude_regions"]:
            inputs["exclude_regions"] = list(settings["exclude_regions"])
        return inputs


def _require_signal_negatives(where: str, settings: Mapping[str, Any]) -> None:
    """Shuffled negatives have no place on the genome, hence no signal to regress on."""
    if settings.get("signal") is not None and settings["negatives"] == "dinuc_shuffle":
        raise InputError(f"{where}.negatives: dinuc_shuffle negatives have no signal; use gc_matched or none")


def _h5_shapes(path: str) -> tuple[int | None, int | None] | None:
    """(window width, number of tasks) of a ready-made HDF5 dataset from its x/y train shapes (no data
    read); None when the file is absent or unreadable (prepare reports those in full)."""
    if not os.path.isfile(path):
        return None
    import h5py

    from .data.h5input import _find, _keys

    try:
        with h5py.File(path, "r") as handle:
            keys = _keys(handle)
            x_key, y_key = _find(keys, ("x",), "train"), _find(keys, ("y",), "train")
            if x_key is None or y_key is None:
                return None
            x, y = handle[x_key].shape, handle[y_key].shape
    except OSError:
        return None
    width = None
    if len(x) == 3:  # (N, L, 4) or (N, 4, L)
        width = int(x[1]) if x[2] == 4 else int(x[2]) if x[1] == 4 else None
    tasks = 1 if len(y) == 1 else int(y[1]) if len(y) == 2 else None
    return width, tasks


class H5(Kind):
    name = "h5"
    description = "a ready-made HDF5 dataset"

    def preflight(self, dataset: str, settings: Mapping[str, Any]) -> None:
        from .preflight import require_file

        require_file(settings["path"], "h5 file", dataset)

    def window(self, settings: Mapping[str, Any]) -> int | None:
        shape = _h5_shapes(settings["path"])
        return shape and shape[0]

    def n_tasks(self, settings: Mapping[str, Any]) -> int | None:
        shape = _h5_shapes(settings["path"])
        return shape and shape[1]

    def inputs(self, settings: Mapping[str, Any], dataset: str) -> dict[str, Any]:
        return {**super().inputs(settings, dataset), "h5": settings["path"]}


class Msa(Kind):
    name = "msa"
    protein = True
    description = "a protein family alignment, optionally with a structure and a DMS table"
    TRUTH_KEYS = ("pdb", "chain", "mapping", "distance_table", "table_index", "threshold", "dms", "dms_score")

    def check(self, where: str, settings: Mapping[str, Any]) -> None:
        if settings["pdb"] and settings["distance_table"]:
            raise InputError(f"{where}: give pdb or distance_table for the true contacts, not both")

    def preflight(self, dataset: str, settings: Mapping[str, Any]) -> None:
        from .preflight import check_msa_inputs

        check_msa_inputs(dataset, settings)

    def alignment(self, settings: Mapping[str, Any], dataset: str) -> str:
        return settings["alignment"]

    def protein_truth(self, settings: Mapping[str, Any], dataset: str) -> dict[str, Any]:
        truth = {key: settings[key] for key in self.TRUTH_KEYS}
        return {key: value for key, value in truth.items() if value is not None}


class PlantedPotts(Kind):
    name = "planted_potts"
    protein = True
    description = "an MSA Gibbs-sampled from a Potts model with planted couplings"

    def check(self, where: str, settings: Mapping[str, Any]) -> None:
        pairs = settings["length"] * (settings["length"] - 1) // 2
        if settings["n_contacts"] is not None and settings["n_contacts"] > pairs:
            raise InputError(f"{where}.n_contacts: {settings['n_contacts']} > the {pairs} pairs of length")

    @property
    def outputs(self) -> frozenset[str]:
        return super().outputs | {"planted"}

    def alignment(self, settings: Mapping[str, Any], dataset: str) -> str:
        return f"{RESULTS}/{dataset}/inputs/alignment.fasta"

    def protein_truth(self, settings: Mapping[str, Any], dataset: str) -> dict[str, Any]:
        made = f"{RESULTS}/{dataset}/inputs"
        return {
            "distance_table": f"{made}/distances.tsv",
            "table_index": "columns",
            "threshold": 8.0,
            "dms": f"{made}/dms.csv",
        }

    def protein_sources(self, settings: Mapping[str, Any], dataset: str) -> list[str]:
        made = f"{RESULTS}/{dataset}/inputs"
        return [*super().protein_sources(settings, dataset), f"{made}/planted.h5", f"{made}/planted.json"]


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        SyntheticMultitask(),
        SyntheticCode(),
        Peaks(),
        SyntheticGenome(),
        H5(),
        Msa(),
        PlantedPotts(),
    )
}
PROTEIN_KINDS = tuple(name for name, kind in KINDS.items() if kind.protein)
# Kinds with planted motifs: motifs.meme is written, attribution is scored against the truth.
TRUTH_KINDS = tuple(name for name, kind in KINDS.items() if kind.applies("truth"))
# Settings of a protein model entry that are read at evaluation, not passed to the model's fit.
PROTEIN_EVAL_KEYS = {"vae": ("n_samples",)}
PROTEIN_TRUTH_FILES = ("pdb", "distance_table", "dms")


def kind_of(settings: Mapping[str, Any]) -> Kind:
    """The registry entry of a dataset's settings (or raw config entry)."""
    kind = settings["kind"]
    if kind not in KINDS:
        raise InputError(f"unknown dataset kind {kind!r} ({', '.join(KINDS)})")
    return KINDS[kind]


# ------------------------------------------------------------------ settings and the plan
def dataset_settings(
    config: Mapping[str, Any], name: str, schema: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """One dataset's settings with its kind's defaults (from ``schema``, else this checkout's) filled in."""
    if name not in config["datasets"]:
        raise InputError(f"config: datasets: unknown dataset {name!r}")
    raw = config["datasets"][name]
    return kind_of(raw).settings(config, raw, schema)


def check_settings(name: str, settings: Mapping[str, Any]) -> None:
    """Cross-field checks a JSON schema cannot express: ranges given as [low, high], hold-outs."""
    kind_of(settings).check(f"config: datasets.{name}", settings)


def check_inputs(dataset: str, settings: Mapping[str, Any]) -> None:
    """The DAG-time input checks of a dataset's kind (InputError in one line)."""
    kind_of(settings).preflight(dataset, settings)


def is_protein(settings: Mapping[str, Any]) -> bool:
    """Whether a dataset belongs to the protein branch (its own rules: workflow/rules/protein.smk)."""
    return kind_of(settings).protein


def ground_truth_motifs(settings: Mapping[str, Any]) -> dict[str, str]:
    """{TF name: JASPAR ID} of the motifs planted in a synthetic dataset; empty for real data."""
    return kind_of(settings).truth_motifs(settings)


def planted_motif_ids(settings: Mapping[str, Any]) -> list[str]:
    """JASPAR IDs a synthetic dataset draws from (written to its motifs.meme)."""
    return kind_of(settings).motif_ids(settings)


def prepare_inputs(settings: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    return kind_of(settings).inputs(settings, dataset)


def tracks_apply(config: Mapping[str, Any], settings: Mapping[str, Any]) -> bool:
    """Whether the tracks stage runs for a dataset: ``tracks.enabled`` and a kind on a genome."""
    enabled = (config.get("tracks") or {}).get("enabled", _schema.default("tracks", "enabled"))
    return bool(enabled) and kind_of(settings).applies("tracks")


def protein_alignment(settings: Mapping[str, Any], dataset: str) -> str:
    return kind_of(settings).alignment(settings, dataset)


def protein_truth(settings: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    return kind_of(settings).protein_truth(settings, dataset)


def protein_sources(settings: Mapping[str, Any], dataset: str) -> list[str]:
    return kind_of(settings).protein_sources(settings, dataset)


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
    for key in ("encoder", "decoder"):
        if kind == "vae" and key in settings:
            settings[key] = tuple(settings[key])
    return kind, settings, evaluation


def workflow_plan(
    config: Mapping[str, Any], schema: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """Every dataset's settings, variants and trials, checked; InputError names the first problem."""
    plan = {}
    for name in config["datasets"]:
        settings = dataset_settings(config, name, schema)
        check_settings(name, settings)
        protein = is_protein(settings)
        variants = protein_model_names(config, name) if protein else cfg.variant_names(config, name)
        plan[name] = {"settings": settings, "variants": variants, "trials": cfg.trial_names(config, name)}
    return plan


# Mappings whose key order means something (task order, the order of a collection of named things):
# kept as written. Every other mapping is a record of settings, whose key order means nothing.
ORDERED_MAPPINGS = frozenset(
    {"datasets", "models", "regimes", "protein_models", "peaks", "motifs", "core", "signal"}
    | {"vcf", "sequences"}
)


def canonical(value: Any, key: str | None = None) -> Any:
    """``value`` with every settings record's keys sorted (recursively), collections kept in order.

    Snakemake decides whether a job's params changed by comparing their ``repr``, which for a dict
    follows its key order: the same config written with its keys in another order would rerun
    everything. Params built from the canonical config change only when their meaning does.
    """
    if isinstance(value, Mapping):
        keys = list(value) if key in ORDERED_MAPPINGS else sorted(value, key=str)
        return {k: canonical(value[k], str(k)) for k in keys}
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    return value


def canonical_config(config: dict[str, Any]) -> None:
    """Put ``config`` (Snakemake's own dict, changed in place) in canonical key order."""
    ordered = canonical(config)
    config.clear()
    config.update(ordered)


# ------------------------------------------------------------------ DAG-time checks of settings
def check_tomtom(config: Mapping[str, Any], conda: bool = False) -> None:
    """``tomtom.backend: meme`` needs the MEME suite's ``tomtom`` binary: on PATH, or from the rule's
    conda env (envs/meme.yaml) when the workflow runs with ``--sdm conda`` (``conda``)."""
    backend = (config.get("tomtom") or {}).get("backend", _schema.default("tomtom", "backend"))
    if backend == "meme" and not conda and shutil.which("tomtom") is None:
        raise InputError(
            "config: tomtom.backend: meme needs the MEME suite's `tomtom` on PATH: install the MEME suite "
            "(or run with --sdm conda, which uses envs/meme.yaml), or set tomtom.backend: memelite"
        )


def check_task_index(config: Mapping[str, Any], dataset: str, n_tasks: int | None) -> None:
    """An integer ``attribution.task`` must name one of the dataset's tasks."""
    task = (config.get("attribution") or {}).get("task")
    if isinstance(task, int) and not isinstance(task, bool) and n_tasks is not None and task >= n_tasks:
        raise InputError(
            f"config: attribution.task: task index {task} is out of range for dataset {dataset!r}, "
            f"which has {n_tasks} task(s) (indices 0..{n_tasks - 1})"
        )


def check_model_fits(config: Mapping[str, Any], dataset: str, variants: list[str], width: int | None) -> None:
    """Each variant's first-layer kernel and pool, and its pools together, fit the dataset's window."""
    if width is None:
        return
    from .models.hparams import hyperparameters, pool_sizes  # plain Python: no Keras

    for variant in variants:
        model_settings, _ = cfg.parse_variant(config, variant)
        model = cfg.VARIANT_RE.match(variant).group(1)
        arch = model_settings["arch"]
        hp = {k: v for k, v in model_settings.items() if k != "arch"}
        full = hyperparameters(arch, **hp)
        pools = pool_sizes(arch, **hp)
        window = f"the {width} bp window of dataset {dataset!r}"
        kernel = int(full["kernel_size"])
        if kernel > width:
            raise InputError(f"config: models.{model}.kernel_size: {kernel} is longer than {window}")
        first_key = "avg_pool" if arch == "residualbind" else "first_pool"
        if pools[0] > width:
            raise InputError(f"config: models.{model}.{first_key}: {pools[0]} is longer than {window}")
        left = width
        for pool in pools:
            left //= pool
        if left < 1:
            sizes = " x ".join(str(pool) for pool in pools)
            raise InputError(f"config: models.{model}: pools {sizes} leave nothing of {window}")


def check_dag(config: Mapping[str, Any], plan: Mapping[str, Mapping[str, Any]], conda: bool = False) -> None:
    """Everything about the settings that would otherwise fail only inside a job, checked before any job
    starts (one InputError line naming the key): the Tomtom backend's binary, an integer attribution task
    within each dataset's tasks, each model's kernel and pools within each dataset's window. What a kind
    cannot know yet (an h5 file not there, a genome not downloaded) is left to prepare."""
    genomics = {name: entry for name, entry in plan.items() if not kind_of(entry["settings"]).protein}
    if not genomics:
        return
    check_tomtom(config, conda)
    for name, entry in genomics.items():
        kind = kind_of(entry["settings"])
        check_task_index(config, name, kind.n_tasks(entry["settings"]))
        check_model_fits(config, name, entry["variants"], kind.window(entry["settings"]))
        check_modisco_source(config, entry["variants"])
        if tracks_apply(config, entry["settings"]):
            check_tracks_method(config, entry["variants"])


def check_modisco_source(config: Mapping[str, Any], variants: Sequence[str]) -> None:
    """The hypothetical-contribution source must work for every variant's model: DeepSHAP has no rule
    for attention, and integrated gradients need a fixed baseline (not ``expected``)."""
    modisco = config.get("modisco") or {}
    if not modisco.get("enabled", True):
        return
    source = modisco.get("source")
    options = ((config.get("attribution") or {}).get("options") or {}).get(source) or {}
    if source == "integrated_gradients" and options.get("baseline") == "expected":
        raise InputError(
            "modisco.source: integrated_gradients with attribution.options.integrated_gradients.baseline "
            "'expected' has no hypothetical contributions; use zero or shuffle"
        )
    if source == "deep_lift_shap":
        for variant in variants:
            arch = cfg.parse_variant(config, variant)[0]["arch"]
            if arch == "cnn_attention":
                raise InputError(
                    f"modisco.source: deep_lift_shap has no rule for attention ({variant}); "
                    "use integrated_gradients, saliency or ism"
                )


def check_tracks_method(config: Mapping[str, Any], variants: Sequence[str]) -> None:
    """The contribution tracks' method must explain every variant's model (DeepSHAP: no attention)."""
    from .tracks.layout import contribution_method

    method = contribution_method(config.get("tracks") or {}, config.get("attribution") or {})
    if method != "deep_lift_shap":
        return
    for variant in variants:
        if cfg.parse_variant(config, variant)[0]["arch"] == "cnn_attention":
            raise InputError(
                f"tracks.method: deep_lift_shap has no rule for attention ({variant}); set tracks.method "
                "to saliency, integrated_gradients or ism"
            )


def build_plan(
    config: dict[str, Any],
    schema: Mapping[str, Any] | None = None,
    preflight: bool = True,
    conda: bool = False,
) -> dict[str, dict[str, Any]]:
    """Validate ``config`` once (filling the schema's defaults), put it in canonical key order, expand
    it and, with ``preflight``, check every dataset's input files and every setting a job would
    otherwise trip on (:func:`check_dag`; ``conda``: the workflow runs with ``--sdm conda``, so rule
    envs provide binaries such as ``tomtom``): what the workflow runs at DAG time (common.smk)."""
    validate(config, schema)
    canonical_config(config)
    plan = workflow_plan(config, schema)
    if preflight:
        for name, entry in plan.items():
            check_inputs(name, entry["settings"])
        check_dag(config, plan, conda)
    return plan


# ------------------------------------------------------------------ which cross-variant figures apply
FIGURES = (
    "match_fraction_vs_pool",
    "relu_vs_exponential",
    "robust_vs_standard",
    "attribution_auroc_heatmap",
    "gia_distance_curves",
    "modisco_recovery",
)
EXPONENTIAL = ("exponential", "exp_shift_scale")
_DESIGN_KEYS = ("first_pool", "activation", "activation_shift", "activation_scale", "pool_total")


def variant_rows(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per (genomics dataset, variant): model and regime names, arch, the resolved first layer
    and ``others`` (every other hyperparameter: variants equal there differ only in the design)."""
    from .models.hparams import hyperparameters  # plain Python: no Keras

    rows = []
    described: dict[str, dict[str, Any]] = {}  # a variant's columns do not depend on the dataset
    for dataset, settings in config["datasets"].items():
        if kind_of(settings).protein:
            continue  # protein models have no first layer: no design-principle figures
        for variant in cfg.variant_names(config, dataset):
            if variant not in described:
                model_settings, regime = cfg.parse_variant(config, variant)
                model_name, regime_name = cfg.VARIANT_RE.match(variant).groups()
                hp = {k: v for k, v in model_settings.items() if k != "arch"}
                full = hyperparameters(model_settings["arch"], **hp)
                described[variant] = {
                    "model": model_name,
                    "regime": regime_name,
                    "regime_kind": regime.get("kind", "standard"),
                    "arch": model_settings["arch"],
                    "first_pool": full.get("first_pool"),
                    "activation": full["activation"],
                    "others": repr(sorted((k, repr(v)) for k, v in full.items() if k not in _DESIGN_KEYS)),
                }
            rows.append({"dataset": dataset, "variant": variant, **described[variant]})
    return rows


def _grouped(rows: list[dict[str, Any]], key: Any) -> dict[Any, list[dict[str, Any]]]:
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return groups


def _has_pool_group(rows: list[dict[str, Any]]) -> bool:
    """Variants with a first-layer pool that differ only in its size (same dataset, arch, activation,
    regime and other hyperparameters)."""
    pooled = [row for row in rows if row["first_pool"] is not None]
    groups = _grouped(pooled, lambda r: (r["dataset"], r["arch"], r["activation"], r["regime"], r["others"]))
    return any(len({row["first_pool"] for row in group}) >= 2 for group in groups.values())


def _has_activation_pair(rows: list[dict[str, Any]]) -> bool:
    """A ReLU and an exponential first layer in variants equal in everything else."""

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        pool = -1 if row["first_pool"] is None else row["first_pool"]
        return (row["dataset"], row["arch"], row["regime"], row["others"], pool)

    groups = _grouped(rows, key)
    return any(
        any(r["activation"] == "relu" for r in group) and any(r["activation"] in EXPONENTIAL for r in group)
        for group in groups.values()
    )


def _has_regime_pair(rows: list[dict[str, Any]]) -> bool:
    """A model trained under a ``standard`` regime and another regime, in one dataset."""
    groups = _grouped(rows, lambda r: (r["dataset"], r["model"]))
    return any({r["regime_kind"] == "standard" for r in group} == {True, False} for group in groups.values())


def _heatmap_applies(config: Mapping[str, Any], rows: list[dict[str, Any]]) -> bool:
    """A dataset with planted motifs and a grid larger than one cell (methods x its variants)."""
    truth = [d for d, s in config["datasets"].items() if (s or {}).get("kind") in TRUTH_KINDS]
    if not truth:
        return False
    if len((config.get("attribution") or {}).get("methods", [])) > 1:
        return True
    return any(sum(row["dataset"] == dataset for row in rows) > 1 for dataset in truth)


def applicable_figures(config: Mapping[str, Any]) -> list[str]:
    """The cross-variant figures this config supports (results/figures/<name>.pdf|png|tsv): the pool-size
    figure needs variants that differ only in first-layer pool size, the activation figure variants that
    differ only in ReLU vs exponential first-layer activation, the robust-training figure a model trained
    under the ``standard`` regime and another, the attribution heat map a dataset with planted motifs and
    more than one method or variant, the GIA distance curves the ``spacing`` GIA experiment, the motif
    discovery figure a dataset with more than one variant and motif discovery on."""
    rows = variant_rows(config)
    if not rows:  # a protein-only config
        return []
    checks = {
        "match_fraction_vs_pool": _has_pool_group(rows),
        "relu_vs_exponential": _has_activation_pair(rows),
        "robust_vs_standard": _has_regime_pair(rows),
        "attribution_auroc_heatmap": _heatmap_applies(config, rows),
        "gia_distance_curves": "spacing" in (config.get("gia") or {}).get("experiments", []),
        "modisco_recovery": (config.get("modisco") or {}).get("enabled", True)
        and any(sum(row["dataset"] == d for row in rows) > 1 for d in {row["dataset"] for row in rows}),
    }
    return [name for name in FIGURES if checks[name]]
