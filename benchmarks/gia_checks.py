"""The two real-scale GIA acceptance checks, from a trained model and its dataset.

1. Own-task rank: every planted TF embedded alone; how many rank first on their own task among all
   planted TFs (target: >= 10 of 12 for CNN-25 on synthetic_multitask).
2. Interaction: cooperativity of every pair of planted TFs on each interaction task; the planted pair
   should rank first (a dataset made with ``interactions``). Measured on probabilities by default: in
   logits a network can encode "A and B" additively (-c + a + b), and two motifs that each push a
   saturated logit down read as cooperative there (seen on a CNN-25: planted pair 1st of 66 on
   probabilities, 4th on logits).

    .venv/bin/python benchmarks/gia_checks.py --configfile config/X.yaml --dataset NAME \\
        --model results/NAME/VARIANT/t0/model.keras [--n-backgrounds 1000] [--out DIR]

Motifs come from ``results/NAME/motifs.meme`` (the planted PPMs) and the dataset's config entry (TF
names, interactions); tables are written to ``--out`` when given.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cislens.gia.batches import Scorer, child_seed
from cislens.gia.importance import motif_importance, own_task_rank
from cislens.gia.patterns import from_ppms
from cislens.gia.spacing import pair_rank, pair_scan


def own_task_check(
    score: Scorer,
    backgrounds: np.ndarray,
    motifs: Mapping[str, np.ndarray],
    tasks: Sequence[str],
    *,
    seed: int = 0,
) -> tuple[int, pd.DataFrame, pd.DataFrame]:
    """(number ranked first on their own task, per-motif ranks, the full occupancy table)."""
    table = motif_importance(score, backgrounds, from_ppms(motifs), tasks, seed=seed)
    first, ranks = own_task_rank(table, {m: m for m in motifs if m in tasks})
    return first, ranks, table


def interaction_check(
    score: Scorer,
    backgrounds: np.ndarray,
    motifs: Mapping[str, np.ndarray],
    tasks: Sequence[str],
    interactions: Sequence[Mapping[str, Any]],
    *,
    distances: Sequence[int] = (0, 5, 10, 15, 20),
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per interaction: pair, task, rank among all pairs, n pairs; the cooperativity summary)."""
    pairs = [(str(i["motifs"][0]), str(i["motifs"][1])) for i in interactions]
    _, summary = pair_scan(
        score, backgrounds, from_ppms(motifs), tasks, distances=distances, interacting=pairs, seed=seed
    )
    rows = []
    for pair, inter in zip(pairs, interactions, strict=True):
        task = str(inter["task"])
        block = summary[summary["task"] == task].sort_values("effect_mean", ascending=False, kind="stable")
        known = block["interacting"].astype(bool)
        planted = block[known & block["motif_a"].isin(pair) & block["motif_b"].isin(pair)]
        others = block[~known]
        rows.append(
            {
                "motif_a": pair[0],
                "motif_b": pair[1],
                "task": task,
                "rank": pair_rank(summary, pair, task),
                "n_pairs": len(block),
                "cooperativity": float(planted["effect_mean"].iloc[0]),
                "best_other": f"{others['motif_a'].iloc[0]} + {others['motif_b'].iloc[0]}"
                if len(others)
                else "",
                "best_other_cooperativity": float(others["effect_mean"].iloc[0]) if len(others) else np.nan,
            }
        )
    return pd.DataFrame(rows), summary


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configfile", required=True)
    parser.add_argument("--dataset", required=True, help="dataset name in the config")
    parser.add_argument("--model", required=True)
    parser.add_argument("--results", default="results")
    parser.add_argument("--n-backgrounds", type=int, default=1000)
    parser.add_argument("--pair-backgrounds", type=int, default=200, help="backgrounds for the pair scan")
    parser.add_argument("--background", default="profile")
    parser.add_argument("--target", default="logit", choices=["logit", "probability"], help="own-task scale")
    parser.add_argument(
        "--pair-target", default="probability", choices=["logit", "probability"], help="cooperativity scale"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", default=None, help="folder for own_task.tsv, occupancy.tsv, cooperativity.tsv"
    )
    args = parser.parse_args(argv)

    import yaml

    from cislens.data.dataset import read_info, read_split
    from cislens.data.prepare import motifs_by_name
    from cislens.gia.backgrounds import make_backgrounds
    from cislens.io import write_tsv
    from cislens.models.predict import scorer
    from cislens.models.zoo import load_model
    from cislens.plan import dataset_settings, ground_truth_motifs

    with open(args.configfile) as handle:
        settings = dataset_settings(yaml.safe_load(handle), args.dataset)
    folder = os.path.join(args.results, args.dataset)
    dataset = os.path.join(folder, "dataset.h5")
    motifs = motifs_by_name(os.path.join(folder, "motifs.meme"), ground_truth_motifs(settings))
    tasks = read_info(dataset)["tasks"]
    model = load_model(args.model)
    score = scorer(model, args.target)
    x = read_split(dataset, "test", truth=False).x
    bg = make_backgrounds(
        args.background, x, args.n_backgrounds, seed=child_seed(args.seed, "backgrounds"), score=score
    )
    first, ranks, table = own_task_check(score, bg, motifs, tasks, seed=args.seed)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(ranks.to_string(index=False))
        print(f"own-task check: {first} of {len(ranks)} planted motifs rank first on their own task")
        outputs = {"own_task": ranks, "occupancy": table}
        interactions = settings.get("interactions", [])
        if interactions:
            pair_score = scorer(model, args.pair_target)
            checks, summary = interaction_check(
                pair_score, bg[: args.pair_backgrounds], motifs, tasks, interactions, seed=args.seed
            )
            print(checks.to_string(index=False))
            outputs.update(interaction_check=checks, cooperativity=summary)
    if args.out:
        for name, frame in outputs.items():
            write_tsv(os.path.join(args.out, f"{name}.tsv"), frame)


if __name__ == "__main__":
    main()
