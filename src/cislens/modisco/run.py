"""One motif-discovery job per (dataset, variant): hypothetical contributions of the positive test
sequences, averaged over the variant's trials, -> TF-MoDISco -> patterns against JASPAR (Tomtom) ->
tables, seqlet BED, logos and, where motifs were planted, scores against the truth."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ..io import atomic_open, write_json, write_tsv
from ..meme import Motif, consensus
from ..runtime import limit_threads
from .discover import Discovery, Pattern, trim_bounds

N_MATCHES = 3  # JASPAR matches listed per pattern
BED_COLUMNS = ["chrom", "start", "end", "name", "score", "strand"]


def pattern_motifs(patterns: Sequence[Pattern], threshold: float) -> list[Motif]:
    """Each pattern's trimmed PPM as a MEME motif (nsites = its seqlets), named by its consensus."""
    motifs = []
    for pattern in patterns:
        lo, hi = trim_bounds(pattern.cwm, threshold)
        ppm = pattern.ppm[lo:hi]
        ppm = ppm / ppm.sum(axis=1, keepdims=True)
        motifs.append(Motif(pattern.name, consensus(ppm), ppm, nsites=pattern.n_seqlets))
    return motifs


def pattern_table(
    patterns: Sequence[Pattern],
    motifs: Sequence[Motif],
    tomtom: pd.DataFrame,
    targets: Sequence[Motif],
    annotation: Mapping[str, Mapping[str, str]],
    planted: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per pattern: sign, seqlets, trimmed consensus and its best ``N_MATCHES`` JASPAR matches
    (p/E/q-values, TF class and family); ``planted`` names the planted motif it recovered, if any."""
    names = {m.id: m.name for m in targets}
    rows = []
    for pattern, motif in zip(patterns, motifs, strict=True):
        row: dict[str, Any] = {
            "pattern": pattern.name,
            "metacluster": "positive" if pattern.sign > 0 else "negative",
            "n_seqlets": pattern.n_seqlets,
            "width": motif.width,
            "consensus": motif.name,
        }
        if planted is not None:
            row["planted"] = planted.get(pattern.name, "")
        hits = tomtom[tomtom["Query_ID"] == pattern.name].sort_values(["p-value", "Target_ID"], kind="stable")
        for k in range(N_MATCHES):
            hit = hits.iloc[k] if k < len(hits) else None
            target = str(hit["Target_ID"]) if hit is not None else ""
            row[f"match{k + 1}_id"] = target
            row[f"match{k + 1}_name"] = names.get(target, target)
            for column, key in (("p-value", "p"), ("E-value", "e"), ("q-value", "q")):
                row[f"match{k + 1}_{key}"] = float(hit[column]) if hit is not None else np.nan
            row[f"match{k + 1}_class"] = annotation.get(target, {}).get("tf_class", "")
            row[f"match{k + 1}_family"] = annotation.get(target, {}).get("tf_family", "")
        rows.append(row)
    if rows:
        return pd.DataFrame(rows)
    columns = ["pattern", "metacluster", "n_seqlets", "width", "consensus"]
    columns += ["planted"] if planted is not None else []
    for k in range(1, N_MATCHES + 1):
        columns += [f"match{k}_{c}" for c in ("id", "name", "p", "e", "q", "class", "family")]
    return pd.DataFrame(columns=columns)


def seqlet_bed(seqlets: pd.DataFrame, split: Any, index: np.ndarray) -> pd.DataFrame:
    """Seqlet cores as BED6: genomic coordinates when the sequences came from peaks (windows on the
    minus strand mapped back), else the test sequence's name and offsets within it."""
    rows = index[seqlets["example_idx"].to_numpy()] if len(seqlets) else np.zeros(0, dtype=np.int64)
    core_start = seqlets["core_start"].to_numpy()
    core_end = seqlets["core_end"].to_numpy()
    strand = seqlets["strand"].to_numpy()
    if split.chrom is not None and split.start is not None:
        chrom = np.asarray(split.chrom)[rows].astype(str)
        begin = np.asarray(split.start)[rows].astype(np.int64)
        finish = (
            np.asarray(split.end)[rows].astype(np.int64) if split.end is not None else begin + len(split.x[0])
        )
        minus = (
            np.asarray(split.strand)[rows].astype(str) == "-"
            if split.strand is not None
            else np.zeros(len(rows), dtype=bool)
        )
        start = np.where(minus, finish - core_end, begin + core_start)
        end = np.where(minus, finish - core_start, begin + core_end)
        strand = np.where(minus, np.where(strand == "+", "-", "+"), strand)
    else:
        names = np.asarray(split.name)[rows].astype(str) if split.name is not None else None
        chrom = names if names is not None else np.array([f"test_{i}" for i in rows], dtype=object)
        start, end = core_start, core_end
    bed = pd.DataFrame(
        {
            "chrom": chrom,
            "start": start,
            "end": end,
            "name": seqlets["pattern"].to_numpy(),
            "score": 0,
            "strand": strand,
        },
        columns=BED_COLUMNS,
    )
    return bed.sort_values(["chrom", "start", "end", "name"], kind="stable").reset_index(drop=True)


def write_bed(path: str, bed: pd.DataFrame) -> None:
    with atomic_open(path) as handle:
        bed.to_csv(handle, sep="\t", header=False, index=False)


def planted_paralogs(
    truth: Mapping[str, str], database_meme: str, tomtom_settings: Mapping[str, Any], release: str
) -> dict[str, list[str]]:
    """Each planted TF's indistinguishable paralogs in the database (same JASPAR family, Tomtom match to
    the planted matrix), so a pattern named after a paralog still counts at family level."""
    from ..jaspar import annotations, fetch_by_ids
    from ..motifs.matching import paralog_ids
    from ..motifs.tomtom import tomtom_against

    planted = fetch_by_ids(list(truth.values()), release)
    table, _ = tomtom_against(planted, database_meme, tomtom_settings)
    ids = [*truth.values(), *table["Target_ID"].astype(str)]
    families = {k: v["tf_family"] for k, v in annotations(ids, release).items()}
    return paralog_ids(truth, table, families)


def load_models(paths: Sequence[str]):
    """Trial models one at a time (a variant's ensemble need not fit in memory at once)."""
    from ..models.zoo import load_model

    for path in paths:
        yield load_model(path)


def modisco_variant(
    dataset_path: str,
    model_paths: Sequence[str],
    database_meme: str,
    settings: Mapping[str, Any],
    attribution: Mapping[str, Any],
    tomtom_settings: Mapping[str, Any],
    truth: Mapping[str, str],
    jaspar_release: str,
    threads: int,
    outputs: Mapping[str, str],
    log: logging.Logger,
) -> dict[str, Any]:
    """Run the stage for one variant; returns the truth record written to ``outputs["truth"]``."""
    from .discover import start_compiling

    start_compiling()  # before TensorFlow's threads exist, so modisco-lite may fork its compilers
    limit_threads(threads)
    from ..attribution.evaluate import truth_positions
    from ..attribution.hypothetical import check_source, ensemble, hypothetical_contributions
    from ..attribution.run import attribution_task, select_sequences
    from ..data.dataset import read_split
    from ..jaspar import annotations
    from ..meme import write_meme
    from ..motifs.matching import accepted_ids, best_hits
    from ..motifs.tomtom import tomtom_against, write_tomtom_tsv
    from . import discover, logos
    from .truth import planted_sites, recovery, seqlet_scores

    settings = schema.with_defaults("modisco", settings)
    attribution = schema.with_defaults("attribution", attribution)
    source = settings["source"]
    check_source(source)
    test = read_split(dataset_path, "test")
    index = select_sequences(test.y, int(settings["max_sequences"]))
    x = test.x[index].astype(np.float32)
    task = attribution_task(attribution["task"], test.y[index])
    options = dict((attribution.get("options") or {}).get(source) or {})
    log.info(
        "%s hypothetical contributions of %d positive test sequences, %d trial(s)%s",
        source,
        len(x),
        len(model_paths),
        ", both strands" if settings["both_strands"] else "",
    )

    def compute(model: Any, xs: np.ndarray, t: Any) -> np.ndarray:
        return hypothetical_contributions(
            model, xs, source, target=attribution["target"], task=t, options=options
        )

    hyp = ensemble(compute, load_models(model_paths), x, task, both_strands=bool(settings["both_strands"]))
    found: Discovery = discover.discover(x, hyp, settings)
    discover.save(outputs["h5"], found.pos, found.neg, window_size=x.shape[1] - 2 * found.offset)
    patterns = discover.read(outputs["h5"])
    threshold = float(settings["trim_threshold"])
    motifs = pattern_motifs(patterns, threshold)
    write_meme(outputs["meme"], motifs)
    table, targets = tomtom_against(motifs, database_meme, tomtom_settings)
    write_tomtom_tsv(outputs["tomtom"], table)
    hits = best_hits(table, targets)
    seqlets = discover.seqlet_table(patterns, threshold, found.offset)
    record: dict[str, Any] = {
        "source": source,
        "n_sequences": len(x),
        "n_trials": len(model_paths),
        "both_strands": bool(settings["both_strands"]),
        "n_seqlets_called": found.n_called,
        "n_patterns": len(patterns),
        "n_positive_patterns": sum(p.sign > 0 for p in patterns),
        "n_negative_patterns": sum(p.sign < 0 for p in patterns),
        "n_seqlets": int(sum(p.n_seqlets for p in patterns)),
        "has_truth": bool(truth) and test.truth is not None,
    }
    planted: dict[str, str] | None = None
    if record["has_truth"]:
        accepted = accepted_ids(truth)
        paralogs = planted_paralogs(truth, database_meme, tomtom_settings, jaspar_release)
        scores = recovery(table, [p.name for p in patterns], accepted, paralogs=paralogs)
        record["paralogs"] = paralogs
        planted = {name: ", ".join(tfs) for name, tfs in scores.pop("per_pattern").items() if tfs}
        mask = truth_positions(test.truth[index], threshold=float(attribution["truth_threshold"]))
        record.update(scores)
        record.update(seqlet_scores(seqlets, planted_sites(mask)))
    annotation = annotations(list(table["Target_ID"].astype(str)), jaspar_release) if len(table) else {}
    write_tsv(outputs["patterns"], pattern_table(patterns, motifs, table, targets, annotation, planted))
    write_bed(outputs["seqlets"], seqlet_bed(seqlets, test, index))
    write_json(outputs["truth"], record)
    logos.pattern_logos(patterns, hits, targets, threshold, record, outputs["logos"])
    log.info("%s", {k: v for k, v in record.items() if not isinstance(v, list)})
    return record
