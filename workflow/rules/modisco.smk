# Motif discovery per (dataset, variant): hypothetical contributions averaged over the variant's trials
# -> TF-MoDISco (modisco-lite) -> patterns against JASPAR (Tomtom) -> tables, seqlets, logos, truth.


rule modisco:
    input:
        dataset=f"{RESULTS}/{{dataset}}/dataset.h5",
        models=ensemble_models,
        database=jaspar_db,
    output:
        h5=f"{RESULTS}/{{dataset}}/{{variant}}/modisco/modisco.h5",
        meme=f"{RESULTS}/{{dataset}}/{{variant}}/modisco/patterns.meme",
        tomtom=f"{RESULTS}/{{dataset}}/{{variant}}/modisco/tomtom.tsv",
        patterns=report(
            f"{RESULTS}/{{dataset}}/{{variant}}/modisco/patterns.tsv",
            caption="../report/modisco.rst",
            category="{dataset}",
            subcategory="Discovered motifs",
            labels={"variant": "{variant}", "figure": "patterns table"},
        ),
        seqlets=f"{RESULTS}/{{dataset}}/{{variant}}/modisco/seqlets.bed",
        truth=f"{RESULTS}/{{dataset}}/{{variant}}/modisco/truth.json",
        logos=report(
            f"{RESULTS}/{{dataset}}/{{variant}}/modisco/logos.png",
            caption="../report/modisco.rst",
            category="{dataset}",
            subcategory="Discovered motifs",
            labels={"variant": "{variant}", "figure": "pattern logos"},
        ),
    log:
        "logs/modisco/{dataset}/{variant}.log",
    wildcard_constraints:
        dataset=alternatives(GENOMICS),
    conda:
        "../../envs/tensorflow.yaml"
    threads: config["threads"]
    resources:
        **rule_resources("modisco"),
    params:
        modisco=config["modisco"],
        attribution=config["attribution"],
        tomtom=config["tomtom"],
        truth=lambda wc: cislens_plan.ground_truth_motifs(SETTINGS[wc.dataset]),
        release=lambda wc: SETTINGS[wc.dataset]["jaspar"]["release"],
    script:
        "../../scripts/modisco.py"
