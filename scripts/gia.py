"""Global importance analysis: the configured experiments (single-motif occupancy always)."""

from cislens.runlog import logged, setup_environment

setup_environment()

with logged(snakemake, tensorflow=True) as log:  # noqa: F821
    from cislens.gia.run import choose_motifs, gia_trial
    from cislens.plan import ground_truth_motifs

    settings = snakemake.params.gia  # noqa: F821
    dataset_settings = snakemake.params.dataset_settings  # noqa: F821
    motifs = choose_motifs(
        ground_truth_motifs(dataset_settings),
        snakemake.input.truth or None,  # noqa: F821
        snakemake.input.database,  # noqa: F821
        snakemake.input.tomtom,  # noqa: F821
        dataset_settings.get("gia_motifs", []),
        int(settings["max_motifs"]),
    )
    gia_trial(
        snakemake.input.dataset,  # noqa: F821
        snakemake.input.model,  # noqa: F821
        motifs,
        settings,
        snakemake.params.seed,  # noqa: F821
        snakemake.threads,  # noqa: F821
        dict(snakemake.output.items()),  # noqa: F821
        log,
        interactions=dataset_settings.get("interactions", []),
        database=snakemake.input.database,  # noqa: F821
        filters=snakemake.input.filters,  # noqa: F821
    )
