# Per-dataset summary table and self-contained HTML report.


rule summarise:
    input:
        unpack(trial_outputs),
    output:
        report(
            f"{RESULTS}/{{dataset}}/summary.tsv",
            category="{dataset}",
            labels={"figure": "summary table"},
        ),
    log:
        "logs/summarise/{dataset}.log",
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
    output:
        f"{RESULTS}/{{dataset}}/report.html",
    log:
        "logs/report/{dataset}.log",
    localrule: True
    conda:
        "../../envs/cislens.yaml"
    params:
        dirs=lambda wc: trial_dirs(wc.dataset),
        settings=lambda wc: SETTINGS[wc.dataset],
        config=config,
    script:
        "../../scripts/report.py"
