# The plan (cislens.plan: the config validated once, datasets x variants x trials, what applies to
# each dataset kind) and the lookups every other rule file uses.
import os
import re
import sys

from snakemake_interface_executor_plugins.settings import DeploymentMethod

from cislens import config as cfg
from cislens import plan as cislens_plan
from cislens.errors import InputError
from cislens.hpc import prepend_pythonpath
from cislens.hpc.slurm import normalize_job_states

SCHEMA = os.path.join(workflow.basedir, "schemas", "config.schema.yaml")
# The one source of defaults: filled into the config by validation, and into each dataset's settings.
CONFIG_SCHEMA = cislens_plan.load_schema(SCHEMA)
RESULTS = "results"

# scancel'd jobs must read as failed (then retried), not as running forever: cislens/hpc/slurm.py.
normalize_job_states()

# With --sdm conda the rule environments (envs/*.yaml) hold the dependencies and this checkout's
# src/ provides the library itself (the pinned venv has it installed already).
CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
if CONDA:
    prepend_pythonpath(
        os.path.join(os.path.dirname(os.path.abspath(workflow.basedir)), "src")
    )


def _plan(config):
    """Validate the config once (filling the schema's defaults), expand it and check every dataset's
    inputs and every setting a job would trip on (with --sdm conda the rule envs provide binaries such
    as tomtom); bad input ends the run with one line, before any job."""
    try:
        return cislens_plan.build_plan(config, CONFIG_SCHEMA, conda=CONDA)
    except InputError as error:
        sys.stderr.write(f"cislens error: {error}\n")
        sys.exit(1)


PLAN = _plan(config)
DATASETS = list(PLAN)
SETTINGS = {name: entry["settings"] for name, entry in PLAN.items()}
VARIANTS = {name: entry["variants"] for name, entry in PLAN.items()}
TRIALS = {name: entry["trials"] for name, entry in PLAN.items()}
FIGURES = cislens_plan.applicable_figures(config)
PROTEIN = [name for name in DATASETS if cislens_plan.is_protein(SETTINGS[name])]
GENOMICS = [name for name in DATASETS if name not in PROTEIN]
PROTEIN_MODELS = sorted({model for name in PROTEIN for model in VARIANTS[name]})
# Datasets on a genome (cislens.plan: Kind.genome) get genome-browser tracks unless tracks.enabled is off.
TRACKS = [
    name for name in GENOMICS if cislens_plan.tracks_apply(config, SETTINGS[name])
]


def alternatives(names):
    """A wildcard regex matching exactly these names (and nothing when there are none)."""
    return "|".join(re.escape(name) for name in names) or "(?!)"


wildcard_constraints:
    dataset=alternatives(DATASETS),
    variant="[A-Za-z0-9_\-]+__[A-Za-z0-9_\-]+",
    trial="t[0-9]+",


def rule_resources(rule):
    """A rule's cluster job size (cislens.config.rule_resources); local runs are limited by --cores."""
    return cfg.rule_resources(config, rule)


def trial_dirs(dataset):
    """Every results/{dataset}/{variant}/{trial} of one dataset."""
    return [
        f"{RESULTS}/{dataset}/{variant}/{trial}"
        for variant in VARIANTS[dataset]
        for trial in TRIALS[dataset]
    ]


def jaspar_db(wildcards):
    tag = cfg.jaspar_tag(SETTINGS[wildcards.dataset]["jaspar"])
    return f"resources/jaspar/{tag}.meme"


def truth_motifs(wildcards):
    """The planted motifs' MEME file for synthetic datasets; nothing for real data."""
    return prepare_inputs(wildcards).get("motifs", [])


def attribution_methods():
    return list(config["attribution"]["methods"])


def attribution_file(method, suffix):
    """One method's output of a trial's attribute job (its dataset, variant and trial: wildcards)."""
    return f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/attribution/{method}.{suffix}"


def all_targets():
    reports = [f"{RESULTS}/{dataset}/report.html" for dataset in DATASETS]
    tracks = [d for dataset in TRACKS for d in track_dirs(dataset)]
    return reports + [f"{RESULTS}/summary.tsv"] + tracks


def track_dirs(dataset):
    """Every results/{dataset}/{variant}/tracks of one dataset (none when tracks do not apply)."""
    if dataset not in TRACKS:
        return []
    return [f"{RESULTS}/{dataset}/{variant}/tracks" for variant in VARIANTS[dataset]]


def prepare_inputs(wildcards):
    """The prepare rule's inputs by name (cislens.plan: Kind.inputs)."""
    dataset = wildcards.dataset
    return cislens_plan.prepare_inputs(SETTINGS[dataset], dataset)


def modisco_dirs(dataset):
    """Every results/{dataset}/{variant}/modisco of one genomics dataset (none when modisco is off)."""
    if not config["modisco"]["enabled"] or dataset not in GENOMICS:
        return []
    return [f"{RESULTS}/{dataset}/{variant}/modisco" for variant in VARIANTS[dataset]]


def trial_outputs(wildcards):
    """What summarise reads of a genomics dataset's trials (and its variants' motif discovery)."""
    dirs = trial_dirs(wildcards.dataset)
    return {
        "dataset": f"{RESULTS}/{wildcards.dataset}/dataset.h5",
        "gia": [f"{d}/gia/occupancy.tsv" for d in dirs],
        "metrics": [f"{d}/metrics.json" for d in dirs],
        "interpretability": [f"{d}/attribution/interpretability.tsv" for d in dirs],
        "matches": [f"{d}/filters/match_stats.json" for d in dirs],
        "modisco": [f"{d}/truth.json" for d in modisco_dirs(wildcards.dataset)],
    }


def figure_gia_tables():
    """Every trial's spacing table when the GIA distance curves are drawn (they read nothing else)."""
    if "gia_distance_curves" not in FIGURES:
        return []
    return [f"{d}/gia/spacing.tsv" for dataset in GENOMICS for d in trial_dirs(dataset)]


def report_inputs(wildcards):
    """What report reads of a genomics dataset (sources: checksummed in the provenance section)."""
    dirs = trial_dirs(wildcards.dataset)
    methods = attribution_methods()
    sources = []  # checksummed in the provenance section
    for value in prepare_inputs(wildcards).values():
        sources += value if isinstance(value, list) else [value]
    inputs = {
        "dataset": f"{RESULTS}/{wildcards.dataset}/dataset.h5",
        "summary": f"{RESULTS}/{wildcards.dataset}/summary.tsv",
        "sources": sources,
        "trial_files": [
            f"{d}/{name}"
            for d in dirs
            for name in [
                "history.tsv",
                "training.png",
                "filters/match.tsv",
                "filters/logos.png",
                "gia/occupancy.tsv",
                "gia/occupancy.png",
            ]
            + [f"attribution/{m}.png" for m in methods]
        ],
        "modisco": [
            f"{d}/{name}"
            for d in modisco_dirs(wildcards.dataset)
            for name in ("truth.json", "patterns.tsv", "logos.png")
        ],
        "tracks": track_dirs(wildcards.dataset),
    }
    return inputs


# ------------------------------------------------------------------ protein families (protein.smk)
PLANTED = [
    name for name in PROTEIN if cislens_plan.kind_of(SETTINGS[name]).applies("planted")
]


def protein_alignment(wildcards):
    """The family's alignment: the msa dataset's own, or the planted family's sample."""
    dataset = wildcards.dataset
    return cislens_plan.protein_alignment(SETTINGS[dataset], dataset)


def protein_truth(dataset):
    """evaluate's structure / DMS keywords: the planted family's files, or the msa dataset's own."""
    return cislens_plan.protein_truth(SETTINGS[dataset], dataset)


def protein_truth_files(wildcards):
    truth = protein_truth(wildcards.dataset)
    return [truth[key] for key in cislens_plan.PROTEIN_TRUTH_FILES if key in truth]


def protein_trial_outputs(wildcards):
    """What protein_summarise reads of each model trial (results/{dataset}/{model}/{trial})."""
    dirs = trial_dirs(wildcards.dataset)
    return {
        "metrics": [f"{d}/metrics.json" for d in dirs],
        "evaluation": [f"{d}/evaluation" for d in dirs],
    }


def protein_report_inputs(wildcards):
    """What protein_report reads of a family (sources: checksummed in the provenance section)."""
    dataset = wildcards.dataset
    dirs = trial_dirs(dataset)
    sources = cislens_plan.protein_sources(SETTINGS[dataset], dataset)
    return {
        "msa": f"{RESULTS}/{dataset}/msa.json",
        "summary": f"{RESULTS}/{dataset}/summary.tsv",
        "sources": sources,
        "trial_files": [
            f"{d}/{name}" for d in dirs for name in ("metrics.json", "evaluation")
        ],
    }


# ------------------------------------------------ variant effects and sequence scores (variants.smk)
def build_settings(dataset):
    """The dataset's settings without its `score:` block: the params of the rules that build inputs,
    models and GIA, so scoring another VCF or FASTA never rebuilds the dataset or retrains.
    """
    return {k: v for k, v in SETTINGS[dataset].items() if k != "score"}


def score_block(dataset):
    """The dataset's `score:` block (empty when it has none)."""
    return SETTINGS[dataset].get("score") or {}


def score_vcfs(dataset):
    """name -> VCF path; `generated` names a synthetic genome's truth VCF (inputs/variants.vcf)."""
    return {
        name: (
            f"{RESULTS}/{dataset}/inputs/variants.vcf" if path == "generated" else path
        )
        for name, path in (score_block(dataset).get("vcf") or {}).items()
    }


def score_sequences(dataset):
    """name -> FASTA or BED of sequences to score."""
    return dict(score_block(dataset).get("sequences") or {})


def variant_effect_dirs(dataset):
    """Every results/{dataset}/{variant}/variants/{vcf} of one dataset."""
    return [
        f"{RESULTS}/{dataset}/{variant}/variants/{name}"
        for variant in VARIANTS[dataset]
        for name in score_vcfs(dataset)
    ]


def prediction_tables(dataset):
    """Every results/{dataset}/{variant}/predict/{name}.tsv of one dataset."""
    return [
        f"{RESULTS}/{dataset}/{variant}/predict/{name}.tsv"
        for variant in VARIANTS[dataset]
        for name in score_sequences(dataset)
    ]


def ensemble_models(wildcards):
    """Every trial's model of one (dataset, variant): the ensemble that scores."""
    return [
        f"{RESULTS}/{wildcards.dataset}/{wildcards.variant}/{trial}/model.keras"
        for trial in TRIALS[wildcards.dataset]
    ]


def scoring_genome(wildcards):
    """The dataset's genome FASTA ({} for kinds without one: FASTA sequences only)."""
    genome = prepare_inputs(wildcards).get("genome")
    return {"genome": genome} if genome else {}


def variant_report_inputs(wildcards):
    """What the report's "Variant effects" section reads of one dataset."""
    return {
        "variant_effects": [
            f"{d}/{name}"
            for d in variant_effect_dirs(wildcards.dataset)
            for name in (
                "effects.tsv",
                "skipped.tsv",
                "metrics.json",
                "top.png",
                "hist.png",
            )
        ],
        "predictions": prediction_tables(wildcards.dataset),
    }


def variant_metrics():
    """Every dataset's variant-effect metrics (a line per VCF in results/summary.tsv)."""
    return [
        f"{d}/metrics.json"
        for dataset in GENOMICS
        for d in variant_effect_dirs(dataset)
    ]
