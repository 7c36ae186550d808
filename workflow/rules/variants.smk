# Variant effects (VCF -> effects.tsv, annotated VCF, allele logos) and sequence scores (FASTA/BED ->
# predictions) with each dataset's trained ensemble (every trial of a variant): cislens.variants.


rule variant_effects:
    input:
        unpack(scoring_genome),
        vcf=lambda wc: score_vcfs(wc.dataset)[wc.vcf],
        dataset=f"{RESULTS}/{{dataset}}/dataset.h5",
        models=ensemble_models,
    output:
        effects=f"{RESULTS}/{{dataset}}/{{variant}}/variants/{{vcf}}/effects.tsv",
        skipped=f"{RESULTS}/{{dataset}}/{{variant}}/variants/{{vcf}}/skipped.tsv",
        vcf=f"{RESULTS}/{{dataset}}/{{variant}}/variants/{{vcf}}/annotated.vcf",
        metrics=f"{RESULTS}/{{dataset}}/{{variant}}/variants/{{vcf}}/metrics.json",
        top_png=report(
            f"{RESULTS}/{{dataset}}/{{variant}}/variants/{{vcf}}/top.png",
            caption="../report/variant_effects.rst",
            category="{dataset}",
            subcategory="Variant effects",
            labels={"variant": "{variant}", "vcf": "{vcf}", "figure": "allele logos"},
        ),
        top_pdf=f"{RESULTS}/{{dataset}}/{{variant}}/variants/{{vcf}}/top.pdf",
        hist=report(
            f"{RESULTS}/{{dataset}}/{{variant}}/variants/{{vcf}}/hist.png",
            caption="../report/variant_effects.rst",
            category="{dataset}",
            subcategory="Variant effects",
            labels={
                "variant": "{variant}",
                "vcf": "{vcf}",
                "figure": "effect histogram",
            },
        ),
    log:
        "logs/variant_effects/{dataset}/{variant}/{vcf}.log",
    wildcard_constraints:
        dataset=alternatives(GENOMICS),
        vcf="[A-Za-z0-9_.\-]+",
    conda:
        "../../envs/tensorflow.yaml"
    threads: config["threads"]
    resources:
        **rule_resources("variant_effects"),
    params:
        score=lambda wc: score_block(wc.dataset),
        attribution=config["attribution"],
        reverse_complement=lambda wc: bool(
            SETTINGS[wc.dataset].get("reverse_complement", False)
        ),
        workdir=lambda wc: f"{RESULTS}/{wc.dataset}/work",
    script:
        "../../scripts/variant_effects.py"


rule predict:
    input:
        unpack(scoring_genome),
        sequences=lambda wc: score_sequences(wc.dataset)[wc.name],
        dataset=f"{RESULTS}/{{dataset}}/dataset.h5",
        models=ensemble_models,
    output:
        f"{RESULTS}/{{dataset}}/{{variant}}/predict/{{name}}.tsv",
    log:
        "logs/predict/{dataset}/{variant}/{name}.log",
    wildcard_constraints:
        dataset=alternatives(GENOMICS),
        name="[A-Za-z0-9_.\-]+",
    conda:
        "../../envs/tensorflow.yaml"
    threads: config["threads"]
    resources:
        **rule_resources("variant_effects"),
    params:
        score=lambda wc: score_block(wc.dataset),
        reverse_complement=lambda wc: bool(
            SETTINGS[wc.dataset].get("reverse_complement", False)
        ),
        workdir=lambda wc: f"{RESULTS}/{wc.dataset}/work",
    script:
        "../../scripts/predict.py"
