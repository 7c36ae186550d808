"""results/{dataset}/summary.tsv (variants x metrics, mean and sd over trials) and trials.tsv."""

from cislens.data.dataset import read_info
from cislens.io import write_tsv
from cislens.report.summary import aggregate, trial_table, with_modisco
from cislens.runlog import logged

with logged(snakemake) as log:  # noqa: F821
    amplitudes = read_info(snakemake.input.dataset)["summary"].get("signal_amplitudes")  # noqa: F821
    trials = trial_table(snakemake.params.dirs, snakemake.params.truth_threshold, amplitudes)  # noqa: F821
    summary = with_modisco(aggregate(trials), snakemake.input.get("modisco", []))  # noqa: F821
    write_tsv(snakemake.output.trials, trials)  # noqa: F821
    write_tsv(snakemake.output.summary, summary)  # noqa: F821
    log.info("\n%s", summary.to_string(index=False))
