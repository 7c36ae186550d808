# Inputs -> results/{dataset}/dataset.h5 (and the planted motifs / synthetic genome where made).


rule jaspar_export:
    output:
        "resources/jaspar/{release}_{collection}_{tax_group}{options}.meme",
    log:
        "logs/jaspar_export/{release}_{collection}_{tax_group}{options}.log",
    wildcard_constraints:
        release="JASPAR20[0-9][0-9]",
        collection="[A-Z]+(_[A-Z]+)*",
        tax_group="[a-z]+",
        options="(_all)?(_pc[0-9.eE+-]+)?",
    localrule: True
    conda:
        "../../envs/cislens.yaml"
    script:
        "../../scripts/jaspar_export.py"


rule truth_motifs:
    output:
        f"{RESULTS}/{{dataset}}/motifs.meme",
    log:
        "logs/truth_motifs/{dataset}.log",
    localrule: True
    conda:
        "../../envs/cislens.yaml"
    params:
        settings=lambda wc: build_settings(wc.dataset),
    script:
        "../../scripts/truth_motifs.py"


rule synthetic_genome:
    input:
        motifs=f"{RESULTS}/{{dataset}}/motifs.meme",
    output:
        genome=f"{RESULTS}/{{dataset}}/inputs/genome.fa",
        planted=f"{RESULTS}/{{dataset}}/inputs/planted.bed",
        vcf=f"{RESULTS}/{{dataset}}/inputs/variants.vcf",
        signal=f"{RESULTS}/{{dataset}}/inputs/signal.bw",
        peaks=directory(f"{RESULTS}/{{dataset}}/inputs/peaks"),
    log:
        "logs/synthetic_genome/{dataset}.log",
    conda:
        "../../envs/cislens.yaml"
    resources:
        **rule_resources("synthetic_genome"),
    params:
        settings=lambda wc: build_settings(wc.dataset),
        outdir=lambda wc: f"{RESULTS}/{wc.dataset}/inputs",
    script:
        "../../scripts/synthetic_genome.py"


rule prepare:
    input:
        unpack(prepare_inputs),
    output:
        f"{RESULTS}/{{dataset}}/dataset.h5",
    log:
        "logs/prepare/{dataset}.log",
    conda:
        "../../envs/cislens.yaml"
    resources:
        **rule_resources("prepare"),
    params:
        settings=lambda wc: build_settings(wc.dataset),
        workdir=lambda wc: f"{RESULTS}/{wc.dataset}/work",
    script:
        "../../scripts/prepare.py"
