"""One tracks job per (dataset on a genome, variant): bigWigs of the variant's ensemble over the test
windows, and ``tracks.txt`` listing them.

- ``prediction.<task>.bw``: the mean over trials of the model's output (``tracks.target``: probability,
  a regression model's value, or the logit) for each window, written over the whole window;
- ``contribution.<task>.bw``: per base, the contribution of the observed base (sum over A, C, G, T of
  attribution x one-hot) explaining that task, mean over trials, for the first ``tracks.max_windows``
  windows in genomic order. Method: ``tracks.method``, else the first of ``attribution.methods``, with
  that block's target, correction and options; ISM deltas are centred per position first, so the
  observed base carries minus the mean effect of mutating it.

Windows come from the dataset's test split with their coordinates. Only rows whose sequence is the
genome's at their coordinates are used (shuffled negatives, which borrow a peak's coordinates, are
left out); a reverse-complement copy (strand ``-``) is one more window, mapped back to the forward
strand. Where windows overlap, each base takes the mean (:mod:`cislens.tracks.bigwig`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import schema
from ..data.bigwig import write_bigwig
from ..errors import InputError
from ..io import atomic_dir
from ..runtime import limit_threads
from .bigwig import check_windows, window_intervals
from .layout import LISTING, Track, contribution_method, file_stems, write_listing


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def genomic_rows(
    chrom: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    strand: np.ndarray | None,
    x: np.ndarray,
    fasta: str | os.PathLike,
) -> np.ndarray:
    """Boolean (N,): the window's one-hot (reverse-complemented back for strand ``-``) is the genome's."""
    import pandas as pd

    from ..data import onehot
    from ..data.windows import fetch_onehot

    keep = np.zeros(len(x), dtype=bool)
    widths = end - start
    for width in np.unique(widths):
        rows = np.flatnonzero(widths == width)
        if width != x.shape[1]:
            continue  # not the model's window: cannot be the genome's sequence as stored
        frame = pd.DataFrame({"chrom": chrom[rows], "start": start[rows], "end": end[rows]})
        ref = fetch_onehot(fasta, frame)
        seq = np.asarray(x[rows]).astype(np.uint8)
        if strand is not None:
            minus = np.asarray(strand)[rows].astype(str) == "-"
            seq[minus] = onehot.reverse_complement(seq[minus])
        keep[rows] = (seq == ref).all(axis=(1, 2))
    return keep


def ensemble_prediction(models: Sequence[Any], x: np.ndarray, target: str, batch_size: int) -> np.ndarray:
    """(N, T) float64: the mean over ``models`` of their ``target`` output (one compiled forward each)."""
    from ..models.predict import memo, scorer

    total = np.zeros(0)
    for i, model in enumerate(models):
        score = memo(
            model,
            ("scorer", target, batch_size, "frozen"),
            lambda m=model: scorer(m, target, batch_size, frozen=True),
        )
        out = score(x)
        total = out if i == 0 else total + out
    if not len(models):
        raise InputError("no models to ensemble")
    return total / len(models)


def observed_contribution(attr: np.ndarray, x: np.ndarray, method: str) -> np.ndarray:
    """(N, L): the contribution of the observed base, sum over channels of attribution x one-hot (ISM
    deltas centred per position first, as ``evaluate.ism_position_map(kind="centered")`` reads them: a
    substitution map is 0 at the observed base)."""
    from ..attribution.evaluate import ism_position_map

    if method == "ism":
        return ism_position_map(attr, x, kind="centered").sum(axis=-1, dtype=np.float64)
    return (np.asarray(attr, dtype=np.float64) * np.asarray(x, dtype=np.float64)).sum(axis=-1)


def ensemble_contribution(
    models: Sequence[Any], x: np.ndarray, method: str, attribution: Mapping[str, Any], task: int
) -> np.ndarray:
    """(N, L) float64: :func:`observed_contribution` of one task, mean over ``models``."""
    from ..attribution.run import compute_attribution

    total = np.zeros(x.shape[:2])
    for model in models:
        attr = compute_attribution(model, x, method, attribution, task, progress=False)
        total += observed_contribution(attr, x, method)
    return total / len(models)


def tracks_variant(
    *,
    dataset_path: str,
    model_paths: Sequence[str],
    genome: str,
    settings: Mapping[str, Any],
    attribution: Mapping[str, Any],
    output_dir: str,
    label: str = "",
    threads: int = 1,
    log: logging.Logger | None = None,
) -> dict[str, Any]:
    """Write ``output_dir`` (atomically): the bigWigs and ``tracks.txt``; returns a record of the run.
    ``genome``: the dataset's plain, indexed FASTA; ``label``: names the tracks (dataset and variant)."""
    log = log or logging.getLogger(__name__)
    limit_threads(threads)
    from ..data.dataset import read_info, read_split
    from ..data.genome import chrom_sizes
    from ..models.zoo import load_model

    settings = schema.with_defaults("tracks", settings)
    attribution = schema.with_defaults("attribution", attribution)
    method = contribution_method(settings, attribution)
    tasks = read_info(dataset_path)["tasks"]
    test = read_split(dataset_path, "test", truth=False)
    if test.chrom is None or test.start is None or test.end is None:
        raise InputError(f"{dataset_path}: the test windows have no genomic coordinates (no tracks)")
    sizes = chrom_sizes(genome)
    chrom, start, end = test.chrom.astype(str), test.start.astype(np.int64), test.end.astype(np.int64)
    check_windows(chrom, start, end, sizes, source=dataset_path)
    keep = genomic_rows(chrom, start, end, test.strand, test.x, genome)
    rows = np.flatnonzero(keep)
    if not rows.size:
        raise InputError(f"{dataset_path}: no test window holds the genome's sequence at its coordinates")
    rank = {name: i for i, name in enumerate(sizes)}
    rows = rows[np.lexsort((start[rows], [rank[c] for c in chrom[rows]]))]  # genomic order
    strand = test.strand[rows] if test.strand is not None else None
    x = test.x[rows].astype(np.float32)
    models = [load_model(path) for path in model_paths]
    n_out = int(models[0].outputs[0].shape[-1])
    if n_out != len(tasks):
        raise InputError(f"{model_paths[0]}: {n_out} outputs, but {dataset_path} has {len(tasks)} tasks")
    log.info(
        "%d test windows on the genome (%d others left out: not the genome's sequence), %d trial(s)",
        len(rows),
        len(keep) - len(rows),
        len(models),
    )
    prediction = ensemble_prediction(models, x, settings["target"], int(settings["batch_size"]))
    n_explained = min(len(rows), int(settings["max_windows"]))  # the first windows in genomic order
    log.info("%s contributions of %d windows, %d task(s)", method, n_explained, len(tasks))

    stems = file_stems(tasks)
    trials = f"mean of {len(models)} trial{'s' if len(models) != 1 else ''}"
    written: list[Track] = []
    with atomic_dir(output_dir) as folder:
        folder.chmod(0o777 & ~_umask())  # mkdtemp's 0700 would hide a hub from a web server
        for t, (task, stem) in enumerate(zip(tasks, stems, strict=True)):
            pred = Track(
                "prediction", task, f"prediction.{stem}.bw", f"{label} {task}: {settings['target']}, {trials}"
            )
            write_bigwig(
                folder / pred.file,
                sizes,
                window_intervals(chrom[rows], start[rows], end[rows], prediction[:, t], sizes),
            )
            contrib = Track(
                "contribution", task, f"contribution.{stem}.bw", f"{label} {task}: {method} x input, {trials}"
            )
            values = ensemble_contribution(models, x[:n_explained], method, attribution, t)
            part = slice(0, n_explained)
            write_bigwig(
                folder / contrib.file,
                sizes,
                window_intervals(
                    chrom[rows][part],
                    start[rows][part],
                    end[rows][part],
                    values,
                    sizes,
                    None if strand is None else strand[part],
                ),
            )
            written += [pred, contrib]
            log.info("task %s: %s, %s", task, pred.file, contrib.file)
        write_listing(folder / LISTING, written, prefix=label or "cislens")
    return {
        "n_windows": len(rows),
        "n_left_out": int(len(keep) - len(rows)),
        "n_explained": n_explained,
        "n_trials": len(models),
        "method": method,
        "target": settings["target"],
        "files": [track.file for track in written],
    }
