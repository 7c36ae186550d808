"""Read, filter and weight one protein alignment into results/{dataset}/msa.h5."""

from cislens.io import write_json
from cislens.protein.run import prepare
from cislens.runlog import logged

with logged(snakemake) as log:  # noqa: F821
    settings = snakemake.params.settings  # noqa: F821
    summary = prepare(
        snakemake.input.alignment,  # noqa: F821
        snakemake.output.msa,  # noqa: F821
        fmt=settings.get("format"),
        focus=settings.get("focus", 0),
        first_residue=settings.get("first_residue"),
        max_gap_fraction=settings["max_gap_fraction"],
        drop_focus_gaps=settings.get("drop_focus_gaps", False),
        identity=settings["identity"],
    )
    summary.update(max_gap_fraction=settings["max_gap_fraction"], identity=settings["identity"])
    write_json(snakemake.output.summary, summary)  # noqa: F821
    log.info("prepared %s", summary)
