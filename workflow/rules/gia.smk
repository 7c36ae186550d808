# Global importance analysis: embed each motif in background sequences, measure the mean effect.


rule gia:
    input:
        dataset=f"{RESULTS}/{{dataset}}/dataset.h5",
        model=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/model.keras",
        database=jaspar_db,
        tomtom=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/filters/tomtom.tsv",
        truth=truth_motifs,
    output:
        table=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/gia/occupancy.tsv",
        plot=report(
            f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/gia/occupancy.png",
            category="{dataset}",
            subcategory="GIA",
            labels={
                "variant": "{variant}",
                "trial": "{trial}",
                "figure": "motif occupancy",
            },
        ),
    log:
        "logs/gia/{dataset}/{variant}/{trial}.log",
    conda:
        "../../envs/tensorflow.yaml"
    threads: config["threads"]
    params:
        gia=config["gia"],
        seed=lambda wc: cfg.trial_seed(config, wc.dataset, wc.trial),
        dataset_settings=lambda wc: SETTINGS[wc.dataset],
    script:
        "../../scripts/gia.py"
