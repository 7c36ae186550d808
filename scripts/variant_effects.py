"""Effects of a VCF's variants with one variant's trained ensemble: tables, annotated VCF, allele logos."""

from cislens.runlog import logged, setup_environment

setup_environment()

with logged(snakemake, tensorflow=True) as log:  # noqa: F821
    from cislens.data.genome import ensure_fasta
    from cislens.variants.run import variant_effects

    variant_effects(
        vcf=snakemake.input.vcf,  # noqa: F821
        genome=str(ensure_fasta(snakemake.input.genome, snakemake.params.workdir)),  # noqa: F821
        dataset=snakemake.input.dataset,  # noqa: F821
        models=list(snakemake.input.models),  # noqa: F821
        settings=snakemake.params.score,  # noqa: F821
        attribution=snakemake.params.attribution,  # noqa: F821
        reverse_complement=snakemake.params.reverse_complement,  # noqa: F821
        outputs=dict(snakemake.output.items()),  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
        log=log,
        name=snakemake.wildcards.vcf,  # noqa: F821
    )
