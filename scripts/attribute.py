"""Attribution maps for test sequences with ground-truth scores and logos."""

from cislens.runlog import logged, setup_environment

setup_environment()

with logged(snakemake, tensorflow=True) as log:  # noqa: F821
    from cislens.attribution.run import attribute_trial

    attribute_trial(
        dataset_path=snakemake.input.dataset,  # noqa: F821
        model_path=snakemake.input.model,  # noqa: F821
        method=snakemake.wildcards.method,  # noqa: F821
        settings=snakemake.params.attribution,  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
        outputs=dict(snakemake.output.items()),  # noqa: F821
        log=log,
    )
