"""Concatenate per-method ground-truth scores of one trial into interpretability.tsv."""

from cislens.io import write_tsv
from cislens.report.summary import concat_tables
from cislens.runlog import logged

with logged(snakemake) as log:  # noqa: F821
    table = concat_tables(list(snakemake.input))  # noqa: F821
    write_tsv(snakemake.output[0], table)  # noqa: F821
    log.info("%d rows", len(table))
