"""Genome-browser bigWigs of one variant's ensemble over the test windows, and their tracks.txt."""

from cislens.runlog import logged, setup_environment

setup_environment()

with logged(snakemake, tensorflow=True) as log:  # noqa: F821
    from cislens.data.genome import ensure_fasta
    from cislens.tracks.run import tracks_variant

    record = tracks_variant(
        dataset_path=snakemake.input.dataset,  # noqa: F821
        model_paths=list(snakemake.input.models),  # noqa: F821
        genome=str(ensure_fasta(snakemake.input.genome, snakemake.params.workdir)),  # noqa: F821
        settings=snakemake.params.tracks,  # noqa: F821
        attribution=snakemake.params.attribution,  # noqa: F821
        output_dir=snakemake.output[0],  # noqa: F821
        label=f"{snakemake.wildcards.dataset} {snakemake.wildcards.variant}",  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
        log=log,
    )
    log.info("%s", record)
