"""results/{dataset}/summary.tsv (variants x metrics, mean and sd over trials) and trials.tsv."""

from cislens.io import write_tsv
from cislens.report.summary import aggregate, protein_trial_table, trial_table
from cislens.runlog import logged

with logged(snakemake) as log:  # noqa: F821
    if snakemake.params.protein:  # noqa: F821  (protein models stand in the variant column)
        trials = protein_trial_table(snakemake.params.dirs)  # noqa: F821
    else:
        trials = trial_table(snakemake.params.dirs, snakemake.params.truth_threshold)  # noqa: F821
    summary = aggregate(trials)
    write_tsv(snakemake.output.trials, trials)  # noqa: F821
    write_tsv(snakemake.output.summary, summary)  # noqa: F821
    log.info("\n%s", summary.to_string(index=False))
