"""Fit one protein model (one trial, seeded) on results/{dataset}/msa.h5."""

from cislens.runlog import logged, setup_environment

setup_environment()

from cislens.protein.run import TF_MODELS  # noqa: E402 - after the environment is set

kind, params, _ = snakemake.params.model  # noqa: F821
# Only the models fitted by TensorFlow load it (and log its devices): a Potts fit stays ~600 MB lighter.
with logged(snakemake, tensorflow=kind in TF_MODELS) as log:  # noqa: F821
    from cislens.io import atomic_dir
    from cislens.protein.run import fit, model_path

    with atomic_dir(snakemake.output.model) as folder:  # noqa: F821
        record = fit(
            snakemake.input.msa,  # noqa: F821
            kind,
            model_path(folder, kind),
            params=params,
            seed=snakemake.params.seed,  # noqa: F821
            record=snakemake.output.record,  # noqa: F821
            threads=snakemake.threads,  # noqa: F821
        )
    log.info("fitted %s: %s", kind, record)
