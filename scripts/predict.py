"""Scores of a FASTA or BED of sequences with every trial of one variant: mean and sd per task."""

from cislens.runlog import logged, setup_environment

setup_environment()

with logged(snakemake, tensorflow=True) as log:  # noqa: F821
    from cislens.data.genome import ensure_fasta
    from cislens.variants.run import predict_sequences

    genome = snakemake.input.get("genome")  # noqa: F821
    predict_sequences(
        sequences=snakemake.input.sequences,  # noqa: F821
        dataset=snakemake.input.dataset,  # noqa: F821
        models=list(snakemake.input.models),  # noqa: F821
        reverse_complement=snakemake.params.reverse_complement,  # noqa: F821
        output=snakemake.output[0],  # noqa: F821
        genome=str(ensure_fasta(genome, snakemake.params.workdir)) if genome else None,  # noqa: F821
        batch_size=int(snakemake.params.score.get("batch_size", 2048)),  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
        log=log,
    )
