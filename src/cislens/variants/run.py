"""The variant_effects and predict jobs: read inputs, score with every trial, write tables and figures.

variant_effects (dataset x variant x VCF): effects.tsv (one row per scored allele, sorted by |effect|),
skipped.tsv (one row per allele left out, with its reason), the VCF annotated with CISLENS_* INFO
fields, top.png/top.pdf (attribution logos of both alleles of the top variants, side by side),
hist.png (distribution of effects; split by truth where the VCF carries INFO TRUTH) and
metrics.json (counts, and the AUROC of |effect| for disrupting vs neutral where truth is known).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import write_json, write_tsv
from ..runtime import limit_threads
from .alleles import allele_windows
from .score import effect_table, ensemble_table, score_alleles, trial_logits

INFO_FIELDS = [
    ("CISLENS_EFFECT", "A", "Float", "mean change in logit (alt - ref) of CISLENS_TASK over trials"),
    ("CISLENS_EFFECT_SD", "A", "Float", "sd over trials of CISLENS_EFFECT"),
    ("CISLENS_AGREE", "A", "Integer", "trials whose change has the sign of CISLENS_EFFECT"),
    ("CISLENS_TASK", "A", "String", "the task with the largest absolute mean logit change"),
    ("CISLENS_SKIP", "A", "String", "why the allele was not scored"),
]
TRUTH_KEYS = ("TRUTH", "KIND", "TF")


def _task_type(dataset: str | os.PathLike) -> tuple[list[str], str]:
    from ..data.dataset import read_info

    info = read_info(dataset)
    return info["tasks"], str(info["summary"].get("task_type", "binary"))


def _load(models: Sequence[str]) -> list[Any]:
    from ..models.zoo import load_model

    return [load_model(path) for path in models]


def _width(model: Any) -> int:
    return int(model.inputs[0].shape[1])


def truth_auroc(effects: pd.DataFrame) -> float | None:
    """AUROC of |effect| for TRUTH=disrupting against neutral (None without both classes)."""
    if "TRUTH" not in effects:
        return None
    labelled = effects[effects["TRUTH"].isin(["disrupting", "neutral"])]
    y = (labelled["TRUTH"] == "disrupting").to_numpy()
    if y.all() or not y.any():
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, labelled["effect"].abs().to_numpy()))


def variant_effects(
    *,
    vcf: str,
    genome: str,
    dataset: str,
    models: Sequence[str],
    settings: Mapping[str, Any],
    attribution: Mapping[str, Any],
    reverse_complement: bool,
    outputs: Mapping[str, str],
    threads: int = 1,
    log: logging.Logger | None = None,
    name: str | None = None,
) -> pd.DataFrame:
    """Score every ALT allele of ``vcf`` with the ensemble ``models``; ``name`` (the config's, default the
    file's stem) labels metrics.json and the summary line."""
    log = log or logging.getLogger(__name__)
    limit_threads(threads)
    from ..vcf import annotate_vcf, read_variants, vcf_name

    tasks, task_type = _task_type(dataset)
    variants = read_variants(vcf, TRUTH_KEYS)
    nets = _load(models)
    width = _width(nets[0])
    windows = allele_windows(genome, variants, width, source=vcf)
    log.info(
        "%s: %d alleles, %d scored, %d skipped (%s)",
        vcf,
        len(variants),
        len(windows.kept),
        len(windows.skipped),
        windows.skipped["reason"].value_counts().to_dict(),
    )
    ref, alt = score_alleles(
        nets,
        windows.ref,
        windows.alt,
        reverse_complement=reverse_complement,
        batch_size=int(settings.get("batch_size", 2048)),
    )
    table = pd.concat([windows.kept, effect_table(ref, alt, tasks, task_type)], axis=1)
    table = table.iloc[np.argsort(-table["effect"].abs().to_numpy(), kind="stable")].reset_index(drop=True)
    write_tsv(outputs["effects"], table)
    write_tsv(outputs["skipped"], windows.skipped)

    values = table[["record", "allele", "effect", "effect_sd", "effect_agree", "effect_task"]].rename(
        columns={
            "effect": "CISLENS_EFFECT",
            "effect_sd": "CISLENS_EFFECT_SD",
            "effect_agree": "CISLENS_AGREE",
            "effect_task": "CISLENS_TASK",
        }
    )
    skips = windows.skipped[["record", "allele", "reason"]].rename(columns={"reason": "CISLENS_SKIP"})
    annotate_vcf(vcf, outputs["vcf"], pd.concat([values, skips], ignore_index=True), INFO_FIELDS)

    auroc = truth_auroc(table)
    record: dict[str, Any] = {
        "vcf": name or vcf_name(vcf),
        "n_alleles": len(variants),
        "n_scored": len(table),
        "n_skipped": len(windows.skipped),
        "skipped": {k: int(v) for k, v in windows.skipped["reason"].value_counts().items()},
        "n_trials": len(nets),
        "strands": 2 if reverse_complement else 1,
        "max_abs_effect": float(table["effect"].abs().max()) if len(table) else None,
        "auroc_truth": auroc,
    }
    if auroc is not None:
        log.info("truth: |effect| separates disrupting from neutral with AUROC %.3f", auroc)
    write_json(outputs["metrics"], record)

    method, corrected = logo_method(attribution)
    top = table.head(int(settings.get("top_k", 6)))
    pick = [
        int(np.flatnonzero(windows.kept["record"].eq(r) & windows.kept["allele"].eq(a))[0])
        for r, a in zip(top["record"], top["allele"], strict=True)
    ]
    maps = allele_attributions(nets, windows.ref[pick], windows.alt[pick], top, tasks, method, attribution)
    plot_top(
        top,
        windows.ref[pick],
        windows.alt[pick],
        maps,
        method,
        corrected,
        width,
        int(settings.get("logo_flank", 30)),
        [outputs["top_png"], outputs["top_pdf"]],
    )
    plot_histogram(table, auroc, outputs["hist"])
    return table


def logo_method(attribution: Mapping[str, Any]) -> tuple[str, bool]:
    """The dataset's first configured gradient method (saliency when none is), and its correction."""
    from ..attribution.methods import CORRECTABLE

    methods = [m for m in attribution.get("methods", []) if m in CORRECTABLE]
    return (methods[0] if methods else "saliency"), bool(attribution.get("correct", True))


def allele_attributions(
    nets: Sequence[Any],
    ref: np.ndarray,
    alt: np.ndarray,
    top: pd.DataFrame,
    tasks: Sequence[str],
    method: str,
    attribution: Mapping[str, Any],
) -> tuple[np.ndarray, np.ndarray]:
    """Corrected gradient maps of both alleles, explaining each variant's effect task, mean over trials."""
    from ..attribution.run import compute_attribution

    if len(top) == 0:
        return np.zeros(ref.shape, np.float32), np.zeros(alt.shape, np.float32)
    weights = np.zeros((len(top), len(tasks)), dtype=np.float32)
    weights[np.arange(len(top)), [tasks.index(t) for t in top["effect_task"]]] = 1
    both = np.concatenate([ref, alt]).astype(np.float32)
    task = np.concatenate([weights, weights])
    maps = np.mean(
        [compute_attribution(net, both, method, attribution, task, progress=False) for net in nets], axis=0
    )
    return maps[: len(ref)], maps[len(ref) :]


def plot_top(
    top: pd.DataFrame,
    ref: np.ndarray,
    alt: np.ndarray,
    maps: tuple[np.ndarray, np.ndarray],
    method: str,
    corrected: bool,
    width: int,
    flank: int,
    paths: Sequence[str],
) -> None:
    """Rows: the top variants; columns: reference and alternative allele logos (map x one-hot)."""
    import matplotlib.pyplot as plt

    from ..motifs.logos import plot_logo
    from ..plots import save_figure

    n = len(top)
    centre = width // 2
    lo, hi = max(0, centre - flank), min(width, centre + flank + 1)
    for path in paths:
        if n == 0:
            fig = plt.figure(figsize=(4, 0.6))
            fig.text(0.5, 0.5, "no variant could be scored", ha="center", va="center")
            save_figure(fig, path)
            continue
        fig, axes = plt.subplots(n, 2, figsize=(14, 1.5 * n), squeeze=False, sharey="row")
        for i, row in enumerate(top.itertuples(index=False)):
            for j, (x, attr, allele) in enumerate(((ref, maps[0], row.ref), (alt, maps[1], row.alt))):
                ax = axes[i, j]
                plot_logo((attr[i] * x[i])[lo:hi], ax, kind="weight")
                ax.axvline(centre - lo - 0.5, color="#888888", lw=0.6, ls=":")
                label = "REF" if j == 0 else "ALT"
                ax.set_title(
                    f"{row.id} {label} {_short(allele)}  ({row.effect_task}: effect {row.effect:+.2f})",
                    fontsize=8,
                    loc="left",
                )
        fig.suptitle(
            f"{method}{' (corrected)' if corrected else ''} x input, {hi - lo} bp around the variant "
            "(dotted: its first base)",
            fontsize=9,
        )
        fig.tight_layout()
        save_figure(fig, path)


def _short(allele: str, n: int = 12) -> str:
    return allele if len(allele) <= n else f"{allele[:n]}..({len(allele)} bp)"


def plot_histogram(table: pd.DataFrame, auroc: float | None, path: str) -> None:
    import matplotlib.pyplot as plt

    from ..plots import save_figure

    fig, ax = plt.subplots(figsize=(5, 3.2))
    if len(table) == 0:
        ax.text(0.5, 0.5, "no variant could be scored", ha="center", va="center")
    elif "TRUTH" in table and table["TRUTH"].notna().any():
        bins = np.histogram_bin_edges(table["effect"], bins=40)
        for label, colour in (("disrupting", "#c0392b"), ("neutral", "#7f8c8d")):
            part = table.loc[table["TRUTH"] == label, "effect"]
            ax.hist(part, bins=bins, alpha=0.6, color=colour, label=f"{label} ({len(part)})")
        ax.legend(fontsize=7)
    else:
        ax.hist(table["effect"], bins=40, color="#34495e")
    title = "variant effects"
    if auroc is not None:
        title += f" (|effect| AUROC {auroc:.3f})"
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("change in logit, alt - ref (headline task)")
    ax.set_ylabel("alleles")
    save_figure(fig, path)


# ---------------------------------------------------------------------------------- predict


def read_sequences(path: str, width: int, genome: str | None = None) -> tuple[list[str], np.ndarray]:
    """Names and uint8 one-hot (N, width, 4) of a FASTA (sequences centre-cropped or N-padded to the
    model's width) or a BED (windows of the model's width centred on each interval, from ``genome``)."""
    from ..data import onehot

    lower = path.lower()
    if lower.endswith((".bed", ".bed.gz", ".narrowpeak", ".narrowpeak.gz")):
        if genome is None:
            raise InputError(f"{path}: a BED of sequences to score needs the dataset's genome")
        from ..data.genome import chrom_sizes
        from ..data.peaks import read_peaks
        from ..data.windows import center_windows, drop_off_chrom, fetch_onehot

        peaks = center_windows(read_peaks(path), width, center="midpoint")
        kept, dropped = drop_off_chrom(peaks, chrom_sizes(genome))
        if dropped:
            raise InputError(
                f"{path}: {dropped} windows run off a chromosome of {genome} or name unknown contigs"
            )
        names = [f"{c}:{s}-{e}" for c, s, e in zip(kept["chrom"], kept["start"], kept["end"], strict=True)]
        return names, fetch_onehot(genome, kept)
    import pysam

    names, seqs = [], []
    try:
        with pysam.FastxFile(path) as handle:
            for entry in handle:
                names.append(entry.name)
                seqs.append(_fit(entry.sequence.upper(), width))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a readable FASTA ({error})") from None
    if not seqs:
        raise InputError(f"{path}: no sequences to score")
    return names, onehot.one_hot(seqs, dtype=np.uint8)


def _fit(seq: str, width: int) -> str:
    if len(seq) >= width:
        start = (len(seq) - width) // 2
        return seq[start : start + width]
    left = (width - len(seq)) // 2
    return "N" * left + seq + "N" * (width - len(seq) - left)


def predict_sequences(
    *,
    sequences: str,
    dataset: str,
    models: Sequence[str],
    reverse_complement: bool,
    output: str,
    genome: str | None = None,
    batch_size: int = 2048,
    threads: int = 1,
    log: logging.Logger | None = None,
) -> pd.DataFrame:
    log = log or logging.getLogger(__name__)
    limit_threads(threads)
    tasks, task_type = _task_type(dataset)
    nets = _load(models)
    names, x = read_sequences(sequences, _width(nets[0]), genome)
    logits = trial_logits(nets, x, reverse_complement=reverse_complement, batch_size=batch_size)
    table = pd.concat([pd.DataFrame({"name": names}), ensemble_table(logits, tasks, task_type)], axis=1)
    table.insert(1, "n_trials", len(nets))
    write_tsv(output, table)
    log.info("%s: %d sequences scored with %d trials", sequences, len(table), len(nets))
    return table
