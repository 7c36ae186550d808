"""Export a JASPAR release/collection/taxon from pyjaspar's offline database to MEME."""

from cislens.config import parse_jaspar_options
from cislens.jaspar import export_meme
from cislens.runlog import logged

with logged(snakemake) as log:  # noqa: F821
    wc = snakemake.wildcards  # noqa: F821
    options = parse_jaspar_options(wc.options)
    n = export_meme(snakemake.output[0], wc.release, wc.collection, wc.tax_group, **options)  # noqa: F821
    log.info("exported %d motifs of %s %s %s %s", n, wc.release, wc.collection, wc.tax_group, options)
