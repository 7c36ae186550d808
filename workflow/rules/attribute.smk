# Attribution maps of test sequences, scored against the planted motifs when the dataset has them. One
# job per trial runs every method: the model, the test split and TensorFlow are loaded once.


rule attribute:
    input:
        dataset=f"{RESULTS}/{{dataset}}/dataset.h5",
        model=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/model.keras",
    output:
        maps=[attribution_file(m, "h5") for m in attribution_methods()],
        scores=[attribution_file(m, "tsv") for m in attribution_methods()],
        logos=[
            report(
                attribution_file(m, "png"),
                caption="../report/attribution.rst",
                category="{dataset}",
                subcategory="Attribution",
                labels={
                    "variant": "{variant}",
                    "trial": "{trial}",
                    "figure": f"{m} logos",
                },
            )
            for m in attribution_methods()
        ],
    log:
        "logs/attribute/{dataset}/{variant}/{trial}.log",
    conda:
        "../../envs/tensorflow.yaml"
    threads: config["threads"]
    resources:
        **rule_resources("attribute"),
    params:
        methods=attribution_methods(),
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
