"""Concatenate per-method ground-truth scores of one trial into interpretability.tsv."""

import pandas as pd

from cislens.io import write_tsv
from cislens.runlog import logged

with logged(snakemake) as log:  # noqa: F821
    frames = [pd.read_csv(path, sep="\t") for path in snakemake.input]  # noqa: F821
    table = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else frames[0]
    )
    write_tsv(snakemake.output[0], table)  # noqa: F821
    log.info("%d rows", len(table))
