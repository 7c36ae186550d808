"""Write the motifs a synthetic dataset plants (and, for the code set, its negative pool) as MEME."""

from cislens.jaspar import fetch_by_ids
from cislens.meme import write_meme
from cislens.plan import planted_motif_ids
from cislens.runlog import logged

with logged(snakemake) as log:  # noqa: F821
    settings = snakemake.params.settings  # noqa: F821
    motifs = fetch_by_ids(planted_motif_ids(settings), release=settings["motif_release"])
    write_meme(snakemake.output[0], motifs)  # noqa: F821
    log.info("wrote %d motifs from %s", len(motifs), settings["motif_release"])
