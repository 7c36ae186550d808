"""A planted-Potts family: alignment, true distances, true-effect DMS table and the planted model."""

from cislens.io import write_json
from cislens.protein.run import planted_family
from cislens.runlog import logged

KEYS = (
    "length",
    "n_sequences",
    "n_contacts",
    "coupling_scale",
    "field_scale",
    "gap_penalty",
    "burn_in",
    "thin",
)

with logged(snakemake) as log:  # noqa: F821
    settings = snakemake.params.settings  # noqa: F821
    summary = planted_family(
        snakemake.params.outdir,  # noqa: F821
        seed=settings["seed"],
        **{key: settings[key] for key in KEYS},
    )
    write_json(snakemake.output.summary, summary)  # noqa: F821
    log.info("planted family: %s", summary)
