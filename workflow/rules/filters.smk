# First-layer filters -> PPMs (MEME) -> Tomtom against JASPAR -> match statistics and logos.


rule filters:
    input:
        dataset=f"{RESULTS}/{{dataset}}/dataset.h5",
        model=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/model.keras",
    output:
        meme=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/filters/filters.meme",
    log:
        "logs/filters/{dataset}/{variant}/{trial}.log",
    conda:
        "../../envs/tensorflow.yaml"
    threads: config["threads"]
    resources:
        **rule_resources("filters"),
    params:
        filters=config["filters"],
    script:
        "../../scripts/filters.py"


rule tomtom:
    input:
        meme=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/filters/filters.meme",
        database=jaspar_db,
    output:
        tomtom=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/filters/tomtom.tsv",
        matches=report(
            f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/filters/match.tsv",
            caption="../report/tomtom.rst",
            category="{dataset}",
            subcategory="Filters",
            labels={
                "variant": "{variant}",
                "trial": "{trial}",
                "figure": "best Tomtom matches",
            },
        ),
        stats=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/filters/match_stats.json",
        logos=report(
            f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/filters/logos.png",
            caption="../report/filters.rst",
            category="{dataset}",
            subcategory="Filters",
            labels={
                "variant": "{variant}",
                "trial": "{trial}",
                "figure": "filter logos",
            },
        ),
    log:
        "logs/tomtom/{dataset}/{variant}/{trial}.log",
    conda:
        "../../envs/meme.yaml"
    resources:
        **rule_resources("tomtom"),
    params:
        tomtom=config["tomtom"],
        truth=lambda wc: cislens_plan.ground_truth_motifs(SETTINGS[wc.dataset]),
    script:
        "../../scripts/tomtom.py"
