"""results/{dataset}/summary.tsv of a protein family (models x metrics, mean and sd over trials) and
trials.tsv; the model's name stands in the variant column."""

from cislens.io import write_tsv
from cislens.report.protein_summary import trial_table
from cislens.report.summary import aggregate
from cislens.runlog import logged

with logged(snakemake) as log:  # noqa: F821
    trials = trial_table(snakemake.params.dirs)  # noqa: F821
    summary = aggregate(trials)
    write_tsv(snakemake.output.trials, trials)  # noqa: F821
    write_tsv(snakemake.output.summary, summary)  # noqa: F821
    log.info("\n%s", summary.to_string(index=False))
