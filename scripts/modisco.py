"""TF-MoDISco patterns of one variant's ensemble: JASPAR matches, seqlets, logos, truth scores."""

from cislens.runlog import logged, setup_environment

setup_environment()

with logged(snakemake, tensorflow=True) as log:  # noqa: F821
    from cislens.modisco.run import modisco_variant

    modisco_variant(
        dataset_path=snakemake.input.dataset,  # noqa: F821
        model_paths=list(snakemake.input.models),  # noqa: F821
        database_meme=snakemake.input.database,  # noqa: F821
        settings=snakemake.params.modisco,  # noqa: F821
        attribution=snakemake.params.attribution,  # noqa: F821
        tomtom_settings=snakemake.params.tomtom,  # noqa: F821
        truth=snakemake.params.truth,  # noqa: F821
        jaspar_release=snakemake.params.release,  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
        outputs=dict(snakemake.output.items()),  # noqa: F821
        log=log,
    )
