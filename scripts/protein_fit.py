"""Fit one protein model (one trial, seeded) on results/{dataset}/msa.h5."""

from cislens.runlog import logged, setup_environment

setup_environment()

with logged(snakemake, tensorflow=True) as log:  # noqa: F821
    from cislens.io import atomic_dir
    from cislens.protein.run import fit, model_path

    kind, params, _ = snakemake.params.model  # noqa: F821
    with atomic_dir(snakemake.output.model) as folder:  # noqa: F821
        record = fit(
            snakemake.input.msa,  # noqa: F821
            kind,
            model_path(folder, kind),
            params=params,
            seed=snakemake.params.seed,  # noqa: F821
            record=snakemake.output.record,  # noqa: F821
        )
    log.info("fitted %s: %s", kind, record)
