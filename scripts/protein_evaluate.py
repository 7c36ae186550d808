"""Contacts, precision, mutation effects and figures of one fitted protein model; metrics.json."""

from cislens.runlog import logged, setup_environment

setup_environment()

from cislens.protein.run import TF_MODELS  # noqa: E402 - after the environment is set

kind, _, options = snakemake.params.model  # noqa: F821
with logged(snakemake, tensorflow=kind in TF_MODELS) as log:  # noqa: F821
    from cislens.protein.run import evaluate_trial

    metrics = evaluate_trial(
        snakemake.input.msa,  # noqa: F821
        snakemake.input.model,  # noqa: F821
        snakemake.input.record,  # noqa: F821
        kind,
        snakemake.output.metrics,  # noqa: F821
        snakemake.output.figures,  # noqa: F821
        truth=snakemake.params.truth,  # noqa: F821
        label=f"{snakemake.wildcards.model} / {snakemake.wildcards.trial}",  # noqa: F821
        **options,
    )
    log.info("metrics: %s", metrics)
