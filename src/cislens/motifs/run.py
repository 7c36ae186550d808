"""Filter and Tomtom jobs: first-layer PPMs to MEME, then matches against JASPAR with statistics."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .. import schema
from ..io import write_json, write_tsv


def filters_trial(
    dataset_path: str,
    model_path: str,
    settings: Mapping[str, Any],
    threads: int,
    output: str,
    log: logging.Logger,
) -> None:
    """PPMs of every first-layer filter from its activations on test sequences (Koo & Eddy 2019)."""
    from ..runtime import limit_threads

    settings = schema.with_defaults("filters", settings)  # the schema: the one source of defaults

    limit_threads(threads)
    from ..data.dataset import read_split
    from ..meme import write_meme
    from ..models.zoo import first_layer_kernel_size, first_layer_model, first_layer_padding, load_model
    from .filters import filters_to_motifs, streamed_ppms, trim_ppm

    x = read_split(dataset_path, "test", truth=False).x[: int(settings["max_sequences"])]
    model = load_model(model_path)
    first = first_layer_model(model)
    batches = tqdm(total=2 * len(x), desc="filter activations", unit="seq", mininterval=5)

    def activations_of(start: int, stop: int) -> np.ndarray:
        batches.update(stop - start)
        return np.asarray(first.predict_on_batch(x[start:stop].astype(np.float32)))

    ppms, nsites = streamed_ppms(
        x,
        activations_of,
        first_layer_kernel_size(model),
        threshold=float(settings["threshold"]),
        weighted=bool(settings["weighted"]),
        padding=first_layer_padding(model),
        batch_size=1024,
    )
    batches.close()
    trimmed = np.empty(len(ppms), dtype=object)
    for i, ppm in enumerate(ppms):
        trimmed[i] = trim_ppm(ppm, min_info=float(settings["min_info"]), pad=int(settings["pad"]))
    motifs = filters_to_motifs(list(trimmed), nsites)
    write_meme(output, motifs)
    log.info(
        "%d filters from %d test sequences; %d never fired", len(motifs), len(x), int((nsites == 0).sum())
    )


def tomtom_trial(
    filters_meme: str,
    database_meme: str,
    settings: Mapping[str, Any],
    truth: Mapping[str, str],
    outputs: Mapping[str, str],
    log: logging.Logger,
) -> dict[str, Any]:
    """Tomtom the filters against the database; match statistics against the planted motifs if any."""
    from ..meme import read_meme
    from .logos import match_logo_grid
    from .matching import accepted_ids, best_hits, match_statistics
    from .tomtom import tomtom_against, write_tomtom_tsv

    filters = read_meme(filters_meme)
    # A filter that never fired has a uniform PPM, which Tomtom can still "match"; it counts in
    # the denominator of the match statistics but is never queried.
    queries = [m for m in filters if m.nsites > 0]
    table, targets = tomtom_against(queries, database_meme, settings)
    write_tomtom_tsv(outputs["tomtom"], table)
    hits = best_hits(table, targets)
    write_tsv(outputs["matches"], hits)
    accepted = accepted_ids(truth)
    n_filters = len(filters)
    stats = match_statistics(table, n_filters, accepted) if accepted else _any_stats(table, n_filters)
    stats["tfs_found"] = sorted(set(hits["target_name"])) if len(hits) else []
    write_json(outputs["stats"], stats)
    match_logo_grid(filters, hits, targets, outputs["logos"])
    log.info(
        "%d of %d filters fired; %d significant pairs; stats %s", len(queries), n_filters, len(table), stats
    )
    return stats


def _any_stats(table, n_filters: int) -> dict[str, Any]:
    """Without ground truth only the fraction of filters with any hit is meaningful."""
    matched = table["Query_ID"].nunique() if len(table) else 0
    return {"n_filters": n_filters, "match_any": matched / max(n_filters, 1)}
