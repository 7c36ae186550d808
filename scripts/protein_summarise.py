"""results/{dataset}/summary.tsv of a protein family (models x metrics, mean and sd over trials, plus
each model's ensemble over seeds on the DMS) and trials.tsv; the model's name stands in the variant
column."""

import pandas as pd

from cislens.io import write_tsv
from cislens.report.protein_summary import ensemble_rows, trial_table
from cislens.report.summary import aggregate
from cislens.runlog import logged

with logged(snakemake) as log:  # noqa: F821
    trials = trial_table(snakemake.params.dirs)  # noqa: F821
    summary = aggregate(trials)
    ensembles = ensemble_rows(snakemake.params.dirs)  # noqa: F821
    if len(ensembles):
        summary = pd.concat([summary, ensembles], ignore_index=True)
    write_tsv(snakemake.output.trials, trials)  # noqa: F821
    write_tsv(snakemake.output.summary, summary)  # noqa: F821
    log.info("\n%s", summary.to_string(index=False))
