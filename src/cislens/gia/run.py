"""One GIA job: which motifs matter? Embed each in backgrounds and measure the model's response."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import write_tsv


def choose_motifs(
    truth: Mapping[str, str],
    truth_meme: str | None,
    database_meme: str,
    tomtom_tsv: str,
    motif_ids: Sequence[str],
    max_motifs: int,
) -> dict[str, np.ndarray]:
    """Motifs to test: the planted ones when known, else the configured IDs, else the filters' best hits.

    Keys are display names ("SP1" or "REB1 MA0363.2") so tables and plots read without lookups.
    """
    from ..motifs.meme import read_meme

    if truth and truth_meme:
        by_id = {m.id: m for m in read_meme(truth_meme)}
        return {name: by_id[mid].ppm for name, mid in truth.items()}
    database = {m.id: m for m in read_meme(database_meme)}
    ids = list(motif_ids)
    if not ids:
        table = pd.read_csv(tomtom_tsv, sep="\t")
        if len(table):
            best = table.sort_values(["p-value", "Query_ID"], kind="stable").drop_duplicates("Query_ID")
            ids = list(dict.fromkeys(best.sort_values("p-value", kind="stable")["Target_ID"]))
    unknown = [i for i in motif_ids if i not in database]
    if unknown:
        raise InputError(f"gia_motifs: {', '.join(unknown)} not in the Tomtom database {database_meme}")
    ids = [i for i in ids if i in database][:max_motifs]
    return {f"{database[i].name} {i}": database[i].ppm for i in ids}


def gia_trial(
    dataset_path: str,
    model_path: str,
    motifs: Mapping[str, np.ndarray],
    settings: Mapping[str, Any],
    seed: int,
    threads: int,
    outputs: Mapping[str, str],
    log: logging.Logger,
) -> pd.DataFrame:
    from ..threads import limit_threads

    limit_threads(threads)
    from ..data.dataset import read_info, read_split
    from ..models.zoo import load_model
    from .backgrounds import profile_backgrounds, shuffled_backgrounds
    from .experiments import OCCUPANCY_COLUMNS, plot_occupancy, single_motif_occupancy

    test = read_split(dataset_path, "test", truth=False)
    tasks = read_info(dataset_path)["tasks"]
    n = int(settings["n_backgrounds"])
    if settings["background"] == "dinuc_shuffle":
        backgrounds = shuffled_backgrounds(test.x, n=n, seed=seed)
    else:
        backgrounds = profile_backgrounds(test.x, n=n, seed=seed)
    model = load_model(model_path)
    if motifs:
        table = single_motif_occupancy(
            model, backgrounds, dict(motifs), position="center", task_names=tasks, target=settings["target"]
        )
    else:
        table = pd.DataFrame(columns=list(OCCUPANCY_COLUMNS))
        log.info("no motifs to test: the filters matched nothing and gia_motifs is empty")
    write_tsv(outputs["table"], table)
    plot_occupancy(table, outputs["plot"])
    log.info("%d motifs x %d tasks on %d %s backgrounds", len(motifs), len(tasks), n, settings["background"])
    return table
