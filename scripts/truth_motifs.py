"""Write the motifs a synthetic dataset plants (and, for the code set, its negative pool) as MEME."""

from cislens.motifs.jaspar import fetch_by_ids
from cislens.motifs.meme import write_meme
from cislens.runlog import logged

with logged(snakemake) as log:  # noqa: F821
    settings = snakemake.params.settings  # noqa: F821
    release = settings["motif_release"]
    if settings["kind"] == "synthetic_code":
        from cislens.data.synthetic import random_pool_ids

        ids = list(settings["core"].values())
        ids += random_pool_ids(release, n=settings["n_pool_random"], exclude=ids, seed=settings["seed"])
    else:
        ids = list(settings["motifs"].values())
    motifs = fetch_by_ids(ids, release=release)
    write_meme(snakemake.output[0], motifs)  # noqa: F821
    log.info("wrote %d motifs from %s", len(motifs), release)
