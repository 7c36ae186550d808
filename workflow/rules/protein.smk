# Protein families (kinds msa, planted_potts): alignment -> results/{dataset}/msa.h5 -> one fitted model
# per protein model and trial (results/{dataset}/{model}/{trial}) -> contacts, precision, mutation effects
# and figures (metrics.json) -> the family's summary.tsv and report.html (cislens.protein.run does the
# work; cislens.report.protein_summary and protein_page write the summary and the page).


rule planted_potts:
    output:
        alignment=f"{RESULTS}/{{dataset}}/inputs/alignment.fasta",
        distances=f"{RESULTS}/{{dataset}}/inputs/distances.tsv",
        dms=f"{RESULTS}/{{dataset}}/inputs/dms.csv",
        model=f"{RESULTS}/{{dataset}}/inputs/planted.h5",
        summary=f"{RESULTS}/{{dataset}}/inputs/planted.json",
    log:
        "logs/planted_potts/{dataset}.log",
    wildcard_constraints:
        dataset=alternatives(PLANTED),
    conda:
        "../../envs/cislens.yaml"
    resources:
        **rule_resources("planted_potts"),
    params:
        settings=lambda wc: SETTINGS[wc.dataset],
        outdir=lambda wc: f"{RESULTS}/{wc.dataset}/inputs",
    script:
        "../../scripts/protein_planted.py"


rule protein_prepare:
    input:
        alignment=protein_alignment,
    output:
        msa=f"{RESULTS}/{{dataset}}/msa.h5",
        summary=f"{RESULTS}/{{dataset}}/msa.json",
    log:
        "logs/protein_prepare/{dataset}.log",
    wildcard_constraints:
        dataset=alternatives(PROTEIN),
    conda:
        "../../envs/cislens.yaml"
    resources:
        **rule_resources("protein_prepare"),
    params:
        settings=lambda wc: SETTINGS[wc.dataset],
    script:
        "../../scripts/protein_prepare.py"


# CPU by default (PSSM and MG are numpy, the Potts fit compiled numba loops); the VAE and factored
# attention can use a GPU: `resources: {protein_fit: {gpu: 1, ...}}` (docs/protein.md: Resources).
rule protein_fit:
    input:
        msa=f"{RESULTS}/{{dataset}}/msa.h5",
    output:
        model=directory(f"{RESULTS}/{{dataset}}/{{model}}/{{trial}}/model"),
        record=f"{RESULTS}/{{dataset}}/{{model}}/{{trial}}/fit.json",
    log:
        "logs/protein_fit/{dataset}/{model}/{trial}.log",
    wildcard_constraints:
        dataset=alternatives(PROTEIN),
        model=alternatives(PROTEIN_MODELS),
    conda:
        "../../envs/tensorflow.yaml"
    threads: config["threads"]
    resources:
        **rule_resources("protein_fit"),
    params:
        model=lambda wc: cislens_plan.protein_model(config, wc.model),
        seed=lambda wc: cfg.trial_seed(config, wc.dataset, wc.trial),
    script:
        "../../scripts/protein_fit.py"


rule protein_evaluate:
    input:
        msa=f"{RESULTS}/{{dataset}}/msa.h5",
        model=f"{RESULTS}/{{dataset}}/{{model}}/{{trial}}/model",
        record=f"{RESULTS}/{{dataset}}/{{model}}/{{trial}}/fit.json",
        truth=protein_truth_files,
    output:
        metrics=f"{RESULTS}/{{dataset}}/{{model}}/{{trial}}/metrics.json",
        figures=report(
            directory(f"{RESULTS}/{{dataset}}/{{model}}/{{trial}}/evaluation"),
            patterns=["{name}.png"],
            caption="../report/protein.rst",
            category="{dataset}",
            subcategory="Protein models",
            labels={"model": "{model}", "trial": "{trial}", "figure": "{name}"},
        ),
    log:
        "logs/protein_evaluate/{dataset}/{model}/{trial}.log",
    wildcard_constraints:
        dataset=alternatives(PROTEIN),
        model=alternatives(PROTEIN_MODELS),
    conda:
        "../../envs/tensorflow.yaml"
    resources:
        **rule_resources("protein_evaluate"),
    params:
        model=lambda wc: cislens_plan.protein_model(config, wc.model),
        truth=lambda wc: protein_truth(wc.dataset),
    script:
        "../../scripts/protein_evaluate.py"


rule protein_summarise:
    input:
        unpack(protein_trial_outputs),
    output:
        summary=report(
            f"{RESULTS}/{{dataset}}/summary.tsv",
            caption="../report/protein_summary.rst",
            category="{dataset}",
            labels={"figure": "summary table"},
        ),
        trials=f"{RESULTS}/{{dataset}}/trials.tsv",
    log:
        "logs/protein_summarise/{dataset}.log",
    wildcard_constraints:
        dataset=alternatives(PROTEIN),
    localrule: True
    conda:
        "../../envs/cislens.yaml"
    params:
        dirs=lambda wc: trial_dirs(wc.dataset),
    script:
        "../../scripts/protein_summarise.py"


rule protein_report:
    input:
        unpack(protein_report_inputs),
    output:
        f"{RESULTS}/{{dataset}}/report.html",
    log:
        "logs/protein_report/{dataset}.log",
    wildcard_constraints:
        dataset=alternatives(PROTEIN),
    localrule: True
    conda:
        "../../envs/cislens.yaml"
    params:
        dirs=lambda wc: trial_dirs(wc.dataset),
        settings=lambda wc: SETTINGS[wc.dataset],
        config=config,
    script:
        "../../scripts/protein_report.py"
