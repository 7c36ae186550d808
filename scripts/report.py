"""results/{dataset}/report.html of a genomics dataset from its result files."""

from cislens.report.genomics_page import write_report
from cislens.runlog import logged

with logged(snakemake) as log:  # noqa: F821
    write_report(
        snakemake.output[0],  # noqa: F821
        snakemake.wildcards.dataset,  # noqa: F821
        snakemake.input.dataset,  # noqa: F821
        snakemake.input.summary,  # noqa: F821
        snakemake.params.dirs,  # noqa: F821
        snakemake.params.methods,  # noqa: F821
        snakemake.params.config,  # noqa: F821
        snakemake.params.settings,  # noqa: F821
        list(snakemake.input.sources),  # noqa: F821
        sorted({p.rsplit("/", 1)[0] for p in snakemake.input.get("variant_effects", [])}),  # noqa: F821
        sorted({p.rsplit("/", 1)[0] for p in snakemake.input.get("modisco", [])}),  # noqa: F821
        list(snakemake.input.get("tracks", [])),  # noqa: F821
    )
    log.info("wrote %s", snakemake.output[0])  # noqa: F821
