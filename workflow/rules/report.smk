# Per-dataset summary table and self-contained HTML report of genomics datasets (protein families have
# their own, protein_summarise and protein_report in protein.smk), then the figures across all datasets.


rule summarise:
    input:
        unpack(trial_outputs),
    output:
        summary=report(
            f"{RESULTS}/{{dataset}}/summary.tsv",
            caption="../report/summary.rst",
            category="{dataset}",
            labels={"figure": "summary table"},
        ),
        trials=f"{RESULTS}/{{dataset}}/trials.tsv",
    log:
        "logs/summarise/{dataset}.log",
    wildcard_constraints:
        dataset=alternatives(GENOMICS),
    localrule: True
    conda:
        "../../envs/cislens.yaml"
    params:
        dirs=lambda wc: trial_dirs(wc.dataset),
        truth_threshold=config["attribution"]["truth_threshold"],
    script:
        "../../scripts/summarise.py"


rule report:
    input:
        unpack(report_inputs),
        unpack(variant_report_inputs),
    output:
        f"{RESULTS}/{{dataset}}/report.html",
    log:
        "logs/report/{dataset}.log",
    wildcard_constraints:
        dataset=alternatives(GENOMICS),
    localrule: True
    conda:
        "../../envs/cislens.yaml"
    params:
        dirs=lambda wc: trial_dirs(wc.dataset),
        methods=config["attribution"]["methods"],
        settings=lambda wc: SETTINGS[wc.dataset],
        config=config,
    script:
        "../../scripts/report.py"


# Which figures apply follows from the config (cislens.report.figures.applicable, in common.smk).
rule figures:
    input:
        trials=expand(f"{RESULTS}/{{dataset}}/trials.tsv", dataset=DATASETS),
        summaries=expand(f"{RESULTS}/{{dataset}}/summary.tsv", dataset=DATASETS),
        spacing=figure_gia_tables(),
        variants=variant_metrics(),
    output:
        summary=f"{RESULTS}/summary.tsv",
        tables=[f"{RESULTS}/figures/{name}.tsv" for name in FIGURES],
        pdfs=[f"{RESULTS}/figures/{name}.pdf" for name in FIGURES],
        pngs=[
            report(
                f"{RESULTS}/figures/{name}.png",
                caption="../report/figures.rst",
                category="Figures",
                labels={"figure": name.replace("_", " ")},
            )
            for name in FIGURES
        ],
    log:
        "logs/figures/figures.log",
    localrule: True
    conda:
        "../../envs/cislens.yaml"
    params:
        datasets=DATASETS,
        names=FIGURES,
        dirs={dataset: trial_dirs(dataset) for dataset in GENOMICS},
        config=config,
    script:
        "../../scripts/figures.py"
