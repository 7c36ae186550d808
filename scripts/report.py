"""results/{dataset}/report.html from the dataset's result files."""

from cislens.report.html import write_protein_report, write_report
from cislens.runlog import logged

with logged(snakemake) as log:  # noqa: F821
    if snakemake.params.protein:  # noqa: F821
        write_protein_report(
            snakemake.output[0],  # noqa: F821
            snakemake.wildcards.dataset,  # noqa: F821
            snakemake.input.dataset,  # noqa: F821
            snakemake.input.summary,  # noqa: F821
            snakemake.params.dirs,  # noqa: F821
            snakemake.params.config,  # noqa: F821
            snakemake.params.settings,  # noqa: F821
            list(snakemake.input.sources),  # noqa: F821
        )
    else:
        write_report(
            snakemake.output[0],  # noqa: F821
            snakemake.wildcards.dataset,  # noqa: F821
            snakemake.input.dataset,  # noqa: F821
            snakemake.input.summary,  # noqa: F821
            snakemake.params.dirs,  # noqa: F821
            snakemake.params.config["attribution"]["methods"],  # noqa: F821
            snakemake.params.config,  # noqa: F821
            snakemake.params.settings,  # noqa: F821
            list(snakemake.input.sources),  # noqa: F821
        )
    log.info("wrote %s", snakemake.output[0])  # noqa: F821
