"""First-layer filter PPMs of one trained model, as MEME."""

from cislens.runlog import logged, setup_environment

setup_environment()

with logged(snakemake, tensorflow=True) as log:  # noqa: F821
    from cislens.motifs.run import filters_trial

    filters_trial(
        snakemake.input.dataset,  # noqa: F821
        snakemake.input.model,  # noqa: F821
        snakemake.params.filters,  # noqa: F821
        snakemake.threads,  # noqa: F821
        snakemake.output.meme,  # noqa: F821
        log,
    )
