# Genome-browser tracks per (dataset on a genome, variant): bigWigs of the ensemble's predictions and of
# the per-base contributions over the test windows, and tracks.txt listing them (cislens.tracks).


rule tracks:
    input:
        unpack(scoring_genome),
        dataset=f"{RESULTS}/{{dataset}}/dataset.h5",
        models=ensemble_models,
    output:
        directory(f"{RESULTS}/{{dataset}}/{{variant}}/tracks"),
    log:
        "logs/tracks/{dataset}/{variant}.log",
    wildcard_constraints:
        dataset=alternatives(TRACKS),
    conda:
        "../../envs/tensorflow.yaml"
    threads: config["threads"]
    resources:
        **rule_resources("tracks"),
    params:
        tracks=config["tracks"],
        attribution=config["attribution"],
        workdir=lambda wc: f"{RESULTS}/{wc.dataset}/work",
    script:
        "../../scripts/tracks.py"
