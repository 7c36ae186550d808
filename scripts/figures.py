"""results/summary.tsv across datasets and results/figures/ across variants (PDF, PNG, TSV)."""

import pandas as pd

from cislens.io import write_tsv
from cislens.report.figures import read_gia, read_trials, stack_rows, variant_effect_rows, write_figures
from cislens.runlog import logged

with logged(snakemake) as log:  # noqa: F821
    datasets = snakemake.params.datasets  # noqa: F821
    summaries = [
        pd.read_csv(path, sep="\t").assign(dataset=name)
        for name, path in zip(datasets, snakemake.input.summaries, strict=True)  # noqa: F821
    ]
    summary = pd.concat(summaries, ignore_index=True)
    summary = summary[["dataset", *[c for c in summary.columns if c != "dataset"]]]
    summary = stack_rows(summary, variant_effect_rows(snakemake.input.variants))  # noqa: F821
    write_tsv(snakemake.output.summary, summary)  # noqa: F821
    trials = read_trials(dict(zip(datasets, snakemake.input.trials, strict=True)))  # noqa: F821
    outdir = f"{snakemake.output.summary.rsplit('/', 1)[0]}/figures"  # noqa: F821
    names = snakemake.params.names  # noqa: F821
    spacing = read_gia(snakemake.params.dirs) if "gia_distance_curves" in names else None  # noqa: F821
    written = write_figures(snakemake.params.config, trials, outdir, names, spacing=spacing, summary=summary)  # noqa: F821
    log.info("summary of %d datasets; figures: %s", len(datasets), ", ".join(written) or "none apply")
