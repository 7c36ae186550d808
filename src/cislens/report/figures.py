"""Figures across variants and datasets: vector PDF and PNG, each with the TSV it is drawn from.

Which figures a config gets follows from its variants (:func:`applicable`): the pool-size figure
needs variants that differ only in first-layer pool size, the activation figure pairs of variants
that differ only in ReLU vs exponential first-layer activation (the two design principles of the
reference papers), the robust-training figure a model trained under the ``standard`` regime and at
least one other, the attribution heat map a dataset with planted motifs and more than one method or
variant, the GIA distance curves the ``spacing`` GIA experiment.

File names (stable, under ``results/figures/``): ``match_fraction_vs_pool``, ``relu_vs_exponential``,
``robust_vs_standard``, ``attribution_auroc_heatmap`` (one panel per dataset with ground truth, stacked)
``gia_distance_curves`` (one panel per dataset and motif pair) and ``modisco_recovery`` (discovered
patterns per variant: planted motifs recovered and spurious patterns where the truth is known), each
as ``.pdf``, ``.png`` and the ``.tsv`` it is drawn from.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

from .. import config as cfg
from ..errors import InputError
from ..io import atomic_path, write_tsv
from ..plan import EXPONENTIAL, FIGURES, applicable_figures, variant_rows

COLUMN_WIDTH = 3.5  # inches: one journal column
# Robust-vs-standard panels: the first column present of each tuple (classification, then regression).
ROBUST_METRICS = (
    ("test AUROC", ("test_auroc", "test_pearson")),
    ("accuracy under PGD", ("adversarial_accuracy", "adversarial_auroc", "adversarial_pearson")),
    ("attribution AUROC", ("attr_auroc_saliency",)),
    ("match fraction", ("match_fraction",)),
)
_STYLE = {
    "font.size": 7,
    "axes.titlesize": 7,
    "axes.labelsize": 7,
    "xtick.labelsize": 6,
    "ytick.labelsize": 6,
    "legend.fontsize": 6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "pdf.fonttype": 42,  # editable text in Illustrator / Inkscape
}


def variant_table(config: Mapping[str, Any]) -> pd.DataFrame:
    """One row per (dataset, variant): model and regime names, arch, and the resolved first layer
    (:func:`cislens.plan.variant_rows`)."""
    return pd.DataFrame(variant_rows(config))


def _pool_groups(variants: pd.DataFrame) -> pd.DataFrame:
    """Variants with a first-layer pool, labelled by the group within which only the pool varies."""
    table = variants[variants["first_pool"].notna()].copy()
    table["group"] = (
        table["dataset"] + " " + table["arch"] + " " + table["activation"] + " " + table["regime"]
    )
    table["group_key"] = table["group"] + table["others"]
    sizes = table.groupby("group_key")["first_pool"].nunique()
    return table[table["group_key"].isin(sizes[sizes >= 2].index)]


def activation_pairs(variants: pd.DataFrame) -> pd.DataFrame:
    """(ReLU variant, exponential variant) pairs equal in everything else, per dataset."""
    rows = []
    for _, group in variants.groupby(["dataset", "arch", "regime", "others"], sort=False):
        pooled = group.groupby(group["first_pool"].fillna(-1), sort=False)
        for _, same in pooled:
            relu = same[same["activation"] == "relu"]
            expo = same[same["activation"].isin(EXPONENTIAL)]
            for r in relu.itertuples():
                for e in expo.itertuples():
                    pool = "" if pd.isna(r.first_pool) else f" pool {int(r.first_pool)}"
                    rows.append(
                        {
                            "dataset": r.dataset,
                            "pair": f"{r.dataset}\n{r.arch}{pool}",
                            "relu_variant": r.variant,
                            "exp_variant": e.variant,
                        }
                    )
    return pd.DataFrame(rows, columns=["dataset", "pair", "relu_variant", "exp_variant"])


def applicable(config: Mapping[str, Any]) -> list[str]:
    """The figures this config's variants support (decided by :func:`cislens.plan.applicable_figures`)."""
    return applicable_figures(config)


def regime_pairs(variants: pd.DataFrame) -> pd.DataFrame:
    """(standard variant, other-regime variant) of the same model, per dataset.

    The reference is the regime of kind ``standard`` (the one named ``standard`` if several).
    """
    rows = []
    for (dataset, model), group in variants.groupby(["dataset", "model"], sort=False):
        plain = group[group["regime_kind"] == "standard"]
        if plain.empty:
            continue
        named = plain[plain["regime"] == "standard"]
        reference = (named if len(named) else plain).iloc[0]
        for other in group.itertuples():
            if other.variant != reference["variant"] and other.regime_kind != "standard":
                rows.append(
                    {
                        "dataset": dataset,
                        "model": model,
                        "regime": other.regime,
                        "standard_variant": reference["variant"],
                        "variant": other.variant,
                    }
                )
    return pd.DataFrame(rows, columns=["dataset", "model", "regime", "standard_variant", "variant"])


def pool_table(trials: pd.DataFrame, variants: pd.DataFrame) -> pd.DataFrame:
    """Per trial: match fraction (and test AUROC) against first-layer pool size, one line per group."""
    groups = _pool_groups(variants)
    merged = groups.merge(trials, on=["dataset", "variant"], how="inner")
    columns = ["group", "dataset", "variant", "first_pool", "trial", "match_fraction", "test_auroc"]
    for column in columns:
        if column not in merged:
            merged[column] = np.nan
    merged["first_pool"] = merged["first_pool"].astype(int)
    return merged[columns].sort_values(["group", "first_pool", "trial"], kind="stable").reset_index(drop=True)


def plot_pool(table: pd.DataFrame) -> plt.Figure:
    """Match fraction vs first-layer pool (log x): trials as points, mean +- sd as a line."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.4))
        for color, (group, rows) in zip(
            plt.cm.tab10.colors, table.groupby("group", sort=False), strict=False
        ):
            stats = rows.groupby("first_pool")["match_fraction"].agg(["mean", "std"]).reset_index()
            bars = ax.errorbar(
                stats["first_pool"],
                stats["mean"],
                yerr=stats["std"].fillna(0),
                color=color,
                marker="o",
                ms=3,
                lw=1,
                capsize=2,
                label=group,
            )
            bars.lines[0].set_gid(f"mean {group}")  # tests find the plotted means by this id
            ax.scatter(rows["first_pool"], rows["match_fraction"], s=6, color=color, alpha=0.5, lw=0)
        ax.set_xscale("log")
        pools = sorted(table["first_pool"].unique())
        ax.set_xticks(pools, [str(p) for p in pools])
        ax.minorticks_off()
        ax.set_xlabel("first-layer max-pool size")
        ax.set_ylabel("match fraction (Tomtom)")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(frameon=False, loc="lower right")
        fig.tight_layout()
    return fig


def activation_table(trials: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Long table: per pair, trial and activation, the match fraction and attribution AUROCs."""
    metrics = ["match_fraction", *sorted(c for c in trials.columns if c.startswith("attr_auroc_"))]
    rows = []
    for pair in pairs.itertuples():
        for activation, variant in (("relu", pair.relu_variant), ("exponential", pair.exp_variant)):
            chosen = trials[(trials["dataset"] == pair.dataset) & (trials["variant"] == variant)]
            for rec in chosen.itertuples():
                row = {"pair": pair.pair, "dataset": pair.dataset, "variant": variant}
                row |= {"activation": activation, "trial": rec.trial}
                row |= {m: getattr(rec, m, np.nan) for m in metrics}
                rows.append(row)
    return pd.DataFrame(rows, columns=["pair", "dataset", "variant", "activation", "trial", *metrics])


def plot_activation(table: pd.DataFrame) -> plt.Figure:
    """ReLU vs exponential per pair: one panel per metric, trials as points joined by trial index."""
    metrics = [c for c in table.columns if c == "match_fraction" or c.startswith("attr_auroc_")]
    metrics = [m for m in metrics if table[m].notna().any()] or ["match_fraction"]
    pairs = list(dict.fromkeys(table["pair"]))
    with plt.rc_context(_STYLE):
        fig, axes = plt.subplots(
            1, len(metrics), figsize=(COLUMN_WIDTH * min(2, len(metrics)) / 1.2, 2.4), squeeze=False
        )
        for ax, metric in zip(axes[0], metrics, strict=True):
            for x, pair in enumerate(pairs):
                rows = table[table["pair"] == pair]
                relu = rows[rows["activation"] == "relu"].set_index("trial")[metric]
                expo = rows[rows["activation"] == "exponential"].set_index("trial")[metric]
                for trial in relu.index.intersection(expo.index):
                    ax.plot([x - 0.15, x + 0.15], [relu[trial], expo[trial]], color="0.7", lw=0.6, zorder=1)
                ax.scatter(np.full(len(relu), x - 0.15), relu, s=10, color="0.35", zorder=2)
                ax.scatter(np.full(len(expo), x + 0.15), expo, s=10, color="#d95f02", zorder=2)
            ax.set_xticks(range(len(pairs)), pairs)
            ax.set_xlim(-0.6, len(pairs) - 0.4)
            label = metric.replace("attr_auroc_", "attribution AUROC, ").replace("_", " ")
            ax.set_ylabel(label)
        axes[0, 0].scatter([], [], s=10, color="0.35", label="ReLU")
        axes[0, 0].scatter([], [], s=10, color="#d95f02", label="exponential")
        axes[0, 0].legend(frameon=False, loc="best")
        fig.tight_layout()
    return fig


def robust_table(trials: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Long table: per regime pair, trial and metric, the standard and the other regime's value.

    Trials are paired by name (same trial index, so the same seed for both regimes).
    """
    columns = ["dataset", "model", "regime", "standard_variant", "variant", "trial", "metric"]
    columns += ["standard", "robust"]
    metrics = []
    for label, candidates in ROBUST_METRICS:
        present = [c for c in candidates if c in trials and trials[c].notna().any()]
        if label == "attribution AUROC" and not present:  # saliency by default, else the first method
            present = sorted(c for c in trials if c.startswith("attr_auroc_") and trials[c].notna().any())
        if present:
            metrics.append((label, present[0]))
    keyed = trials.set_index(["dataset", "variant", "trial"])
    rows = []
    for pair in pairs.itertuples():
        for label, column in metrics:
            for trial in sorted(set(trials.loc[trials["variant"] == pair.variant, "trial"])):
                try:
                    plain = keyed.loc[(pair.dataset, pair.standard_variant, trial), column]
                    other = keyed.loc[(pair.dataset, pair.variant, trial), column]
                except KeyError:
                    continue  # a trial of one regime only: nothing to pair it with
                if pd.isna(plain) and pd.isna(other):
                    continue
                rows.append(
                    {
                        "dataset": pair.dataset,
                        "model": pair.model,
                        "regime": pair.regime,
                        "standard_variant": pair.standard_variant,
                        "variant": pair.variant,
                        "trial": trial,
                        "metric": f"{label} ({column})",
                        "standard": plain,
                        "robust": other,
                    }
                )
    return pd.DataFrame(rows, columns=columns)


def plot_robust(table: pd.DataFrame) -> plt.Figure:
    """Standard (x) vs other regime (y) per metric: one point per model, dataset and trial.

    Points above the dashed diagonal are trials where the regime beat standard training on that metric.
    """
    metrics = list(dict.fromkeys(table["metric"])) or ["test AUROC (test_auroc)"]
    regimes = list(dict.fromkeys(table["regime"]))
    cols = min(2, len(metrics))
    nrows = -(-len(metrics) // cols)
    with plt.rc_context(_STYLE):
        fig, axes = plt.subplots(nrows, cols, figsize=(COLUMN_WIDTH, 1.75 * nrows + 0.35), squeeze=False)
        for ax, metric in zip(axes.flat, metrics, strict=False):
            rows = table[table["metric"] == metric]
            values = rows[["standard", "robust"]].to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
            pad = max(0.02, 0.08 * (high - low))
            lims = (low - pad, high + pad)
            ax.plot(lims, lims, color="0.6", lw=0.6, ls="--", zorder=1)
            for color, regime in zip(plt.cm.Dark2.colors, regimes, strict=False):
                mine = rows[rows["regime"] == regime]
                points = ax.scatter(
                    mine["standard"], mine["robust"], s=10, color=color, lw=0, zorder=2, label=regime
                )
                points.set_gid(f"{metric} | {regime}")  # tests read the plotted points by this id
            ax.set_xlim(lims)
            ax.set_ylim(lims)
            ax.set_aspect("equal", adjustable="box")
            ax.set_title(metric.partition(" (")[0])
            ax.set_xlabel("standard training")
            ax.set_ylabel("robust regime")
        for ax in list(axes.flat)[len(metrics) :]:
            ax.set_axis_off()
        _legend_on_top(fig, axes[0, 0], ncol=5)
    return fig


def heatmap_table(trials: pd.DataFrame, config: Mapping[str, Any]) -> pd.DataFrame:
    """Attribution AUROC per dataset, method and variant: mean and sd over trials (ground truth only)."""
    columns = ["dataset", "method", "variant", "auroc_mean", "auroc_sd", "n_trials"]
    methods = [c for c in trials.columns if c.startswith("attr_auroc_")]
    rows = []
    for dataset in config["datasets"]:
        mine = trials[trials["dataset"] == dataset]
        present = [m for m in methods if mine[m].notna().any()] if len(mine) else []
        for method in present:
            for variant in cfg.variant_names(config, dataset):
                values = pd.to_numeric(mine.loc[mine["variant"] == variant, method], errors="coerce").dropna()
                rows.append(
                    {
                        "dataset": dataset,
                        "method": method.removeprefix("attr_auroc_"),
                        "variant": variant,
                        "auroc_mean": values.mean() if len(values) else np.nan,
                        "auroc_sd": values.std(ddof=1) if len(values) > 1 else np.nan,
                        "n_trials": len(values),
                    }
                )
    return pd.DataFrame(rows, columns=columns)


def plot_heatmap(table: pd.DataFrame) -> plt.Figure:
    """One heat map per dataset (methods x variants), mean AUROC written in each cell, one colour scale."""
    datasets = list(dict.fromkeys(table["dataset"]))
    finite = table["auroc_mean"].dropna()
    vmin = min(0.5, float(finite.min())) if len(finite) else 0.5
    grids = []
    for dataset in datasets:
        rows = table[table["dataset"] == dataset]
        grid = rows.pivot(index="method", columns="variant", values="auroc_mean")
        grids.append(grid.loc[list(dict.fromkeys(rows["method"])), list(dict.fromkeys(rows["variant"]))])
    heights = [0.3 * len(g) + 1.0 for g in grids] or [1.0]
    with plt.rc_context(_STYLE):
        fig, axes = plt.subplots(
            max(1, len(grids)),
            1,
            figsize=(COLUMN_WIDTH, sum(heights) + 0.3),
            squeeze=False,
            gridspec_kw={"height_ratios": heights},
        )
        image = None
        for ax, dataset, grid in zip(axes[:, 0], datasets, grids, strict=False):
            values = grid.to_numpy(dtype=float)
            image = ax.imshow(values, cmap="viridis", vmin=vmin, vmax=1.0, aspect="auto")
            image.set_gid(f"heatmap {dataset}")  # tests read the plotted grid by this id
            for (i, j), value in np.ndenumerate(values):
                if np.isfinite(value):
                    shade = "white" if value < (vmin + 1.0) / 2 else "black"
                    ax.text(j, i, f"{value:.2f}", ha="center", va="center", color=shade, fontsize=5.5)
            ax.set_xticks(range(grid.shape[1]), [v.replace("__", "\n") for v in grid.columns])
            ax.set_yticks(range(grid.shape[0]), [m.replace("_", " ") for m in grid.index])
            ax.tick_params(length=0)
            for side in ("left", "bottom"):
                ax.spines[side].set_visible(False)
            ax.set_title(dataset)
        if image is not None:
            bar = fig.colorbar(image, ax=axes[:, 0].tolist(), shrink=0.8, pad=0.02)
            bar.set_label("attribution AUROC (mean over trials)")
    return fig


def read_gia(dirs: Mapping[str, Sequence[str | os.PathLike]], experiment: str = "spacing") -> pd.DataFrame:
    """``gia/<experiment>.tsv`` of every trial directory, with dataset, variant and trial columns."""
    frames = []
    for dataset, trial_dirs in dirs.items():
        for trial_dir in map(Path, trial_dirs):
            path = trial_dir / "gia" / f"{experiment}.tsv"
            if path.exists():
                frame = pd.read_csv(path, sep="\t")
                frames.append(
                    frame.assign(dataset=dataset, variant=trial_dir.parent.name, trial=trial_dir.name)
                )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def gia_curve_table(spacing: pd.DataFrame, measure: str = "cooperativity") -> pd.DataFrame:
    """Spacing-experiment effect vs distance per dataset, pair and variant, pooled over trials.

    Each pair is shown on one task and orientation, the same for every variant: those where the
    variants' mean effect reaches its largest magnitude. Pooling treats every (trial, background)
    effect as one sample: the mean weights trials by their backgrounds, the variance adds the spread
    between trial means to the within-trial spread, and the 95% CI is the normal one of that mean
    (with one trial it is exactly the GIA table's own CI).
    """
    columns = ["dataset", "motif_a", "motif_b", "task", "orientation", "measure", "variant", "distance"]
    columns += ["effect_mean", "ci95_low", "ci95_high", "n", "n_trials"]
    if spacing.empty:
        return pd.DataFrame(columns=columns)
    rows = spacing[spacing["measure"] == measure]
    out = []
    for (dataset, a, b), pair in rows.groupby(["dataset", "motif_a", "motif_b"], sort=False):
        strength = pair.groupby(["task", "orientation"], sort=False)["effect_mean"].apply(
            lambda s: s.abs().max()
        )
        task, orientation = strength.idxmax()
        chosen = pair[(pair["task"] == task) & (pair["orientation"] == orientation)]
        for (variant, distance), cell in chosen.groupby(["variant", "distance"], sort=False):
            n = cell["n"].to_numpy(dtype=float)
            means = cell["effect_mean"].to_numpy(dtype=float)
            sds = np.nan_to_num(cell["effect_sd"].to_numpy(dtype=float))
            total = n.sum()
            mean = float((n * means).sum() / total)
            var = ((n - 1) * sds**2 + n * (means - mean) ** 2).sum() / (total - 1) if total > 1 else np.nan
            half = 1.96 * np.sqrt(var / total)
            out.append(
                {
                    "dataset": dataset,
                    "motif_a": a,
                    "motif_b": b,
                    "task": task,
                    "orientation": orientation,
                    "measure": measure,
                    "variant": variant,
                    "distance": int(distance),
                    "effect_mean": mean,
                    "ci95_low": mean - half,
                    "ci95_high": mean + half,
                    "n": int(total),
                    "n_trials": len(cell),
                }
            )
    table = pd.DataFrame(out, columns=columns)
    order = {k: {v: i for i, v in enumerate(dict.fromkeys(spacing[k]))} for k in ("dataset", "variant")}
    # datasets and variants in the config's order (as read), pairs and distances ascending
    keys = ["dataset", "motif_a", "motif_b", "variant", "distance"]
    return table.sort_values(
        keys, key=lambda c: c.map(order[c.name]) if c.name in order else c, kind="stable"
    ).reset_index(drop=True)


def plot_gia_curves(table: pd.DataFrame, max_panels: int = 6) -> plt.Figure:
    """Effect vs bases between the two motifs, one line per variant with its 95% CI band, per pair."""
    panels = list(dict.fromkeys(zip(table["dataset"], table["motif_a"], table["motif_b"], strict=True)))
    panels = panels[:max_panels] or [("", "", "")]
    variants = list(dict.fromkeys(table["variant"]))
    colors = dict(zip(variants, plt.cm.tab10.colors * 3, strict=False))
    cols = min(2, len(panels))
    nrows = -(-len(panels) // cols)
    with plt.rc_context(_STYLE):
        fig, axes = plt.subplots(nrows, cols, figsize=(COLUMN_WIDTH, 1.9 * nrows + 0.35), squeeze=False)
        for ax, (dataset, a, b) in zip(axes.flat, panels, strict=False):
            rows = table[(table["dataset"] == dataset) & (table["motif_a"] == a) & (table["motif_b"] == b)]
            if rows.empty:
                ax.text(0.5, 0.5, "no motif pairs tested", ha="center", va="center", transform=ax.transAxes)
                continue
            for variant, line in rows.groupby("variant", sort=False):
                line = line.sort_values("distance")
                x = line["distance"].to_numpy(dtype=float)
                band = ax.fill_between(
                    x, line["ci95_low"], line["ci95_high"], color=colors[variant], alpha=0.2, lw=0
                )
                band.set_gid(f"ci {dataset} {a} {b} {variant}")
                (drawn,) = ax.plot(x, line["effect_mean"], color=colors[variant], lw=1, label=variant)
                drawn.set_gid(f"mean {dataset} {a} {b} {variant}")  # tests read the plotted curve by this id
            ax.axhline(0, color="0.5", lw=0.5)
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
            first = rows.iloc[0]
            ax.set_title(f"{dataset}: {a} + {b} ({first['orientation']}) on {first['task']}")
            ax.set_xlabel("bases between motifs")
            ax.set_ylabel(f"{first['measure']} (GIA)")
        for ax in list(axes.flat)[len(panels) :]:
            ax.set_axis_off()
        _legend_on_top(fig, axes[0, 0], ncol=3)
    return fig


def _legend_on_top(fig: plt.Figure, ax: plt.Axes, ncol: int) -> None:
    """One legend for all panels above them (panels share series), then a tight layout below it."""
    handles, labels = ax.get_legend_handles_labels()
    top = 1.0
    if handles:
        rows = -(-len(labels) // ncol)
        fig.legend(handles, labels, frameon=False, loc="upper center", ncol=min(ncol, len(labels)))
        top = 1 - (0.13 * rows + 0.04) / fig.get_figheight()
    fig.tight_layout(rect=(0, 0, 1, top))


def variant_effect_rows(metrics_paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """One results/summary.tsv line per (dataset, variant, VCF) from its variants/<vcf>/metrics.json."""
    rows = []
    for path in metrics_paths:
        folder = Path(path).parent  # results/<dataset>/<variant>/variants/<vcf>
        record = json.loads(Path(path).read_text())
        rows.append(
            {
                "dataset": folder.parents[2].name,
                "variant": folder.parents[1].name,
                "vcf": record["vcf"],
                "variants_scored": record["n_scored"],
                "variants_skipped": record["n_skipped"],
                "variant_max_abs_effect": record.get("max_abs_effect"),
                "variant_auroc_truth": record.get("auroc_truth"),
            }
        )
    return pd.DataFrame(rows)


def stack_rows(*frames: pd.DataFrame) -> pd.DataFrame:
    """Tables with different columns in one (the summary's variant rows, then its VCF rows), integer
    columns kept integer where the other table leaves them empty (not 1.0 for one trial)."""
    frames = tuple(f for f in frames if not f.empty)
    if not frames:
        return pd.DataFrame()
    integer = {c for f in frames for c in f.columns if pd.api.types.is_integer_dtype(f[c])}
    stacked = pd.concat(frames, ignore_index=True)
    for column in integer:
        stacked[column] = stacked[column].astype("Int64")
    return stacked


def read_trials(paths: Mapping[str, str | os.PathLike]) -> pd.DataFrame:
    """Every dataset's trials.tsv (from the summarise rule) in one table with a dataset column."""
    frames = [pd.read_csv(path, sep="\t").assign(dataset=name) for name, path in paths.items()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["dataset"])


MODISCO_TABLE = ["dataset", "variant", "modisco_patterns", "modisco_recovered", "modisco_recovered_family"]
MODISCO_TABLE += ["modisco_recovered_any", "modisco_spurious", "seqlet_precision", "seqlet_recall"]


def modisco_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, variant): patterns discovered and, where motifs were planted, how many were
    recovered (best match is the TF; best match is the TF or a paralog; any match) and how many
    patterns match nothing planted."""
    if "modisco_patterns" not in summary:
        return pd.DataFrame(columns=MODISCO_TABLE)
    rows = summary[summary["modisco_patterns"].notna()]
    return rows.reindex(columns=MODISCO_TABLE).reset_index(drop=True)


def plot_modisco(table: pd.DataFrame) -> plt.Figure:
    """Bars per variant, one panel per dataset: planted motifs recovered (best match the TF, the TF or a
    paralog, then any match)
    and spurious patterns where the truth is known, else the number of patterns."""
    datasets = list(dict.fromkeys(table["dataset"])) or ["(no modisco results)"]
    with plt.rc_context(_STYLE):
        fig, axes = plt.subplots(
            len(datasets),
            1,
            figsize=(COLUMN_WIDTH * 1.4, 0.35 * max(len(table), 1) + 1.0 * len(datasets)),
            squeeze=False,
        )
        for ax, dataset in zip(axes[:, 0], datasets, strict=True):
            rows = table[table["dataset"] == dataset]
            y = np.arange(len(rows))
            truth = rows["modisco_recovered"].notna().any() if len(rows) else False
            bars = (
                [("recovered (best match)", "modisco_recovered", "#1a6"), ("recovered (best match, TF "
                  "or paralog)", "modisco_recovered_family", "#5b8"), ("recovered (any match)",
                  "modisco_recovered_any", "#9d9"), ("spurious patterns", "modisco_spurious", "#c55")]
                if truth
                else [("patterns", "modisco_patterns", "#48a")]
            )  # fmt: skip
            height = 0.8 / len(bars)
            for k, (label, column, colour) in enumerate(bars):
                values = pd.to_numeric(rows[column], errors="coerce").fillna(0).to_numpy()
                ax.barh(y + (k - (len(bars) - 1) / 2) * height, values, height, label=label, color=colour)
            ax.set_yticks(y, list(rows["variant"]))
            ax.invert_yaxis()
            ax.set_title(dataset, fontsize=8, loc="left")
            ax.set_xlabel("motifs" if truth else "patterns")
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
            ax.legend(fontsize=6, frameon=False, loc="lower right")
        fig.tight_layout()
    return fig


def write_figures(
    config: Mapping[str, Any],
    trials: pd.DataFrame,
    outdir: str | os.PathLike,
    names: Sequence[str],
    spacing: pd.DataFrame | None = None,
    summary: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Write ``{name}.pdf``, ``{name}.png`` and ``{name}.tsv`` under ``outdir`` for each named figure.

    ``spacing``: every trial's ``gia/spacing.tsv`` (:func:`read_gia`), for ``gia_distance_curves``;
    ``summary``: the datasets' summaries with their ``modisco_*`` columns, for ``modisco_recovery``.
    """
    unknown = sorted(set(names) - set(FIGURES))
    if unknown:
        raise InputError(f"unknown figure(s) {', '.join(unknown)}; known: {', '.join(FIGURES)}")
    variants = variant_table(config)
    out = Path(outdir)
    written = {}
    for name in names:
        if name == "match_fraction_vs_pool":
            table = pool_table(trials, variants)
            fig = plot_pool(table)
        elif name == "relu_vs_exponential":
            table = activation_table(trials, activation_pairs(variants))
            fig = plot_activation(table)
        elif name == "robust_vs_standard":
            table = robust_table(trials, regime_pairs(variants))
            fig = plot_robust(table)
        elif name == "attribution_auroc_heatmap":
            table = heatmap_table(trials, config)
            fig = plot_heatmap(table)
        elif name == "modisco_recovery":
            table = modisco_table(summary if summary is not None else pd.DataFrame())
            fig = plot_modisco(table)
        else:
            table = gia_curve_table(spacing if spacing is not None else pd.DataFrame())
            fig = plot_gia_curves(table)
        write_tsv(out / f"{name}.tsv", table)
        for suffix in ("pdf", "png"):
            with plt.rc_context({"pdf.fonttype": 42}), atomic_path(out / f"{name}.{suffix}") as tmp:
                fig.savefig(tmp, dpi=300, bbox_inches="tight", format=suffix)
        plt.close(fig)
        written[name] = out / f"{name}.pdf"
    return written
