# Global importance analysis: embed patterns in background sequences, measure the mean effect.
# Declared outputs follow `gia: experiments` only (occupancy always: the report reads it).
from functools import partial

from cislens.gia.outputs import rule_outputs as gia_rule_outputs


rule gia:
    input:
        dataset=f"{RESULTS}/{{dataset}}/dataset.h5",
        model=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/model.keras",
        database=jaspar_db,
        filters=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/filters/filters.meme",
        tomtom=f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/filters/tomtom.tsv",
        truth=truth_motifs,
    output:
        **gia_rule_outputs(
            f"{RESULTS}/{{dataset}}/{{variant}}/{{trial}}/gia",
            config["gia"]["experiments"],
            partial(report, caption="../report/gia.rst"),
        ),
    log:
        "logs/gia/{dataset}/{variant}/{trial}.log",
    conda:
        "../../envs/tensorflow.yaml"
    threads: config["threads"]
    resources:
        **rule_resources("gia"),
    params:
        gia=config["gia"],
        seed=lambda wc: cfg.trial_seed(config, wc.dataset, wc.trial),
        dataset_settings=lambda wc: build_settings(wc.dataset),
    script:
        "../../scripts/gia.py"
