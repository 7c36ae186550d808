"""Attribution maps of every configured method for one trial's test sequences: ground-truth scores and
logos."""

from cislens.runlog import logged, setup_environment

setup_environment()

with logged(snakemake, tensorflow=True) as log:  # noqa: F821
    from cislens.attribution.run import attribute_trial

    methods = snakemake.params.methods  # noqa: F821
    out = snakemake.output  # noqa: F821
    attribute_trial(
        dataset_path=snakemake.input.dataset,  # noqa: F821
        model_path=snakemake.input.model,  # noqa: F821
        methods=methods,
        settings=snakemake.params.attribution,  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
        outputs={
            method: {"maps": maps, "scores": scores, "logos": logos}
            for method, maps, scores, logos in zip(methods, out.maps, out.scores, out.logos, strict=True)
        },
        log=log,
    )
