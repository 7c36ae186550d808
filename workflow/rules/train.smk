# results/{dataset}/dataset.h5 -> one trained model per variant and trial.


rule train:
    input:
        dataset=f"{RESULTS}/{{dataset}}/dataset.h5",
    output:
        model=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/model.keras",
        history=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/history.tsv",
        metrics=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/metrics.json",
        curve=report(
            f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/training.png",
            caption="../report/training.rst",
            category="{dataset}",
            subcategory="Training",
            labels={
                "variant": "{variant}",
                "trial": "{trial}",
                "figure": "training curve",
            },
        ),
    log:
        "logs/train/{dataset}/{variant}/{trial}.log",
    conda:
        "../../envs/tensorflow.yaml"
    threads: config["threads"]
    resources:
        **rule_resources("train"),
    params:
        variant=lambda wc: cfg.parse_variant(config, wc.variant),
        seed=lambda wc: cfg.trial_seed(config, wc.dataset, wc.trial),
        training=config["training"],
    script:
        "../../scripts/train.py"
