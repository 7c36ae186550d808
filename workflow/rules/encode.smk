# ENCODE peak files (by file or experiment accession), signal bigWigs and blacklists (by file accession)
# and reference genomes, downloaded once into
# resources/ on the submitting host (cluster nodes are often offline): retries, resume, md5 check,
# atomic rename, and an overall deadline per file. Each accession is its own job, so Snakemake fetches
# several in parallel (up to --cores, or --local-cores on a cluster: these are local rules). Datasets name them in `peaks:` / `genome:`; cislens.config maps names to paths.
import json
import math

ENCODE = cislens_plan.encode_settings(config, CONFIG_SCHEMA)
# The download tool's interpreter: the rule's conda environment, or the one running Snakemake.
ENCODE_PYTHON = (
    "python"
    if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
    else sys.executable
)
# Retries, timeout and deadlines are passed as resources, not params: changing them must not download again.
ENCODE_RETRIES = int(ENCODE["retries"])
ENCODE_TIMEOUT = int(math.ceil(ENCODE["timeout"]))
ENCODE_DEADLINE = int(math.ceil(ENCODE["deadline"]))
ENCODE_GENOME_DEADLINE = int(math.ceil(ENCODE["genome_deadline"]))


rule encode_peaks:
    output:
        peaks=f"{cfg.ENCODE_DIR}/{{assembly}}/{{accession}}.bed.gz",
        metadata=f"{cfg.ENCODE_DIR}/{{assembly}}/{{accession}}.json",
    log:
        "logs/encode_peaks/{assembly}/{accession}.log",
    wildcard_constraints:
        assembly="[A-Za-z0-9_.\-]+",
        accession="ENC(FF|SR)[0-9]{3}[A-Z]{3}",
    localrule: True
    conda:
        "../../envs/cislens.yaml"
    resources:
        retries=ENCODE_RETRIES,
        timeout=ENCODE_TIMEOUT,
        deadline=ENCODE_DEADLINE,
    params:
        python=ENCODE_PYTHON,
        base_url=ENCODE["base_url"],
        output_types=json.dumps(ENCODE["output_types"]),
    shell:
        "{params.python} -m cislens.encode peaks {wildcards.accession:q}"
        " --assembly {wildcards.assembly:q} --out {output.peaks:q} --metadata {output.metadata:q}"
        " --base-url {params.base_url:q} --output-types {params.output_types:q}"
        " --retries {resources.retries} --timeout {resources.timeout} --deadline {resources.deadline}"
        " --log {log:q}"


rule encode_signal:
    output:
        signal=f"{cfg.ENCODE_DIR}/{{assembly}}/{{accession}}.bigWig",
        metadata=f"{cfg.ENCODE_DIR}/{{assembly}}/{{accession}}.bigWig.json",
    log:
        "logs/encode_signal/{assembly}/{accession}.log",
    wildcard_constraints:
        assembly="[A-Za-z0-9_.\-]+",
        accession="ENCFF[0-9]{3}[A-Z]{3}",
    localrule: True
    conda:
        "../../envs/cislens.yaml"
    resources:
        retries=ENCODE_RETRIES,
        timeout=ENCODE_TIMEOUT,
        deadline=ENCODE_DEADLINE,
    params:
        python=ENCODE_PYTHON,
        base_url=ENCODE["base_url"],
    shell:
        "{params.python} -m cislens.encode signal {wildcards.accession:q}"
        " --assembly {wildcards.assembly:q} --out {output.signal:q} --metadata {output.metadata:q}"
        " --base-url {params.base_url:q}"
        " --retries {resources.retries} --timeout {resources.timeout} --deadline {resources.deadline}"
        " --log {log:q}"


rule encode_genome:
    output:
        f"{cfg.GENOME_DIR}/{{assembly}}.fa.gz",
    log:
        "logs/encode_genome/{assembly}.log",
    wildcard_constraints:
        assembly="[A-Za-z0-9_.\-]+",
    localrule: True
    conda:
        "../../envs/cislens.yaml"
    resources:
        retries=ENCODE_RETRIES,
        timeout=ENCODE_TIMEOUT,
        deadline=ENCODE_GENOME_DEADLINE,
    params:
        python=ENCODE_PYTHON,
        base_url=ENCODE["base_url"],
        url=lambda wc: cfg.genome_source(ENCODE, wc.assembly)["url"],
        md5=lambda wc: cfg.genome_source(ENCODE, wc.assembly).get("md5") or "",
    shell:
        "{params.python} -m cislens.encode genome {wildcards.assembly:q} --url {params.url:q}"
        " --md5={params.md5:q} --out {output:q} --base-url {params.base_url:q}"
        " --retries {resources.retries} --timeout {resources.timeout} --deadline {resources.deadline}"
        " --log {log:q}"
