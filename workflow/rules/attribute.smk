# Attribution maps of test sequences, scored against the planted motifs when the dataset has them.


rule attribute:
    input:
        dataset=f"{RESULTS}/{{dataset}}/dataset.h5",
        model=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/model.keras",
    output:
        maps=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/attribution/{{method}}.h5",
        scores=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/attribution/{{method}}.tsv",
        logos=report(
            f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/attribution/{{method}}.png",
            caption="../report/attribution.rst",
            category="{dataset}",
            subcategory="Attribution",
            labels={
                "variant": "{variant}",
                "trial": "{trial}",
                "figure": "{method} logos",
            },
        ),
    log:
        "logs/attribute/{dataset}/{variant}/{trial}/{method}.log",
    conda:
        "../../envs/tensorflow.yaml"
    threads: config["threads"]
    resources:
        **rule_resources("attribute"),
    params:
        attribution=config["attribution"],
    script:
        "../../scripts/attribute.py"


rule interpretability:
    input:
        lambda wc: expand(
            f"{RESULTS}/{wc.dataset}/{wc.variant}/{wc.trial}/attribution/{{method}}.tsv",
            method=attribution_methods(),
        ),
    output:
        f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/attribution/interpretability.tsv",
    log:
        "logs/interpretability/{dataset}/{variant}/{trial}.log",
    localrule: True
    conda:
        "../../envs/cislens.yaml"
    script:
        "../../scripts/interpretability.py"
