"""Write a random genome with planted motifs, per-TF narrowPeak files and the planted sites."""

from cislens.data.genome_synth import make_synthetic_genome
from cislens.data.prepare import motifs_by_name
from cislens.runlog import logged

with logged(snakemake) as log:  # noqa: F821
    settings = snakemake.params.settings  # noqa: F821
    motifs = motifs_by_name(snakemake.input.motifs, settings["motifs"])  # noqa: F821
    paths = make_synthetic_genome(
        snakemake.params.outdir,  # noqa: F821
        motifs,
        n_chroms=settings["n_chroms"],
        chrom_length=settings["chrom_length"],
        gc=settings["gc"],
        peaks_per_tf=settings["peaks_per_tf"],
        sites_per_peak=tuple(settings["sites_per_peak"]),
        peak_width=tuple(settings["peak_width"]),
        seed=settings["seed"],
        signal=settings.get("signal"),
    )
    log.info("wrote %s", paths)
