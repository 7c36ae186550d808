"""Build results/{dataset}/dataset.h5 from the dataset's config entry."""

from cislens.data.dataset import write_dataset
from cislens.data.prepare import build
from cislens.runlog import logged

with logged(snakemake) as log:  # noqa: F821
    dataset = build(snakemake.params.settings, dict(snakemake.input.items()), snakemake.params.workdir)  # noqa: F821
    write_dataset(snakemake.output[0], dataset)  # noqa: F821
    sizes = {name: len(split) for name, split in dataset.splits.items()}
    log.info("tasks %s, sizes %s", dataset.tasks, sizes)
    log.info("summary %s", dataset.summary)
