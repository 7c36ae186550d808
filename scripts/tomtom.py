"""Tomtom of the filters against JASPAR, best hits, match statistics and the filter logo grid."""

from cislens.runlog import logged, setup_environment

setup_environment()

with logged(snakemake) as log:  # noqa: F821
    from cislens.motifs.run import tomtom_trial

    tomtom_trial(
        snakemake.input.meme,  # noqa: F821
        snakemake.input.database,  # noqa: F821
        snakemake.params.tomtom,  # noqa: F821
        snakemake.params.truth,  # noqa: F821
        dict(snakemake.output.items()),  # noqa: F821
        log,
    )
