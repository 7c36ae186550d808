"""Train one variant/trial on a dataset; write the model, its history, test metrics and curve."""

from cislens.runlog import logged, setup_environment

setup_environment()

with logged(snakemake, tensorflow=True) as log:  # noqa: F821
    from cislens.training.run import train_variant

    train_variant(
        dataset_path=snakemake.input.dataset,  # noqa: F821
        model_settings=snakemake.params.variant[0],  # noqa: F821
        regime=snakemake.params.variant[1],  # noqa: F821
        training=snakemake.params.training,  # noqa: F821
        seed=snakemake.params.seed,  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
        outputs=dict(snakemake.output.items()),  # noqa: F821
        log=log,
    )
