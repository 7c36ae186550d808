"""Figures across variants and datasets: vector PDF and PNG, each with the TSV it is drawn from.

Which figures a config gets follows from its variants (:func:`applicable`): the pool-size figure
needs variants that differ only in first-layer pool size, the activation figure pairs of variants
that differ only in ReLU vs exponential first-layer activation (the two design principles of the
reference papers).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import config as cfg
from ..errors import InputError
from ..io import atomic_path, write_tsv

COLUMN_WIDTH = 3.5  # inches: one journal column
EXPONENTIAL = ("exponential", "exp_shift_scale")
FIGURES = ("match_fraction_vs_pool", "relu_vs_exponential")
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
_DESIGN_KEYS = ("first_pool", "activation", "activation_shift", "activation_scale", "pool_total")


def variant_table(config: Mapping[str, Any]) -> pd.DataFrame:
    """One row per (dataset, variant): model and regime names, arch, and the resolved first layer."""
    from ..models.hparams import hyperparameters

    rows = []
    described: dict[str, dict[str, Any]] = {}  # a variant's columns do not depend on the dataset
    for dataset, settings in config["datasets"].items():
        if settings["kind"] in cfg.PROTEIN_KINDS:
            continue  # protein models have no first layer: no design-principle figures
        for variant in cfg.variant_names(config, dataset):
            if variant not in described:
                model_settings, regime = cfg.parse_variant(config, variant)
                model_name, regime_name = cfg.VARIANT_RE.match(variant).groups()
                hp = {k: v for k, v in model_settings.items() if k != "arch"}
                full = hyperparameters(model_settings["arch"], **hp)
                described[variant] = {
                    "model": model_name,
                    "regime": regime_name,
                    "regime_kind": regime.get("kind", "standard"),
                    "arch": model_settings["arch"],
                    "first_pool": full.get("first_pool"),
                    "activation": full["activation"],
                    # everything but the design variables: variants equal here differ only in those
                    "others": repr(sorted((k, repr(v)) for k, v in full.items() if k not in _DESIGN_KEYS)),
                }
            rows.append({"dataset": dataset, "variant": variant, **described[variant]})
    return pd.DataFrame(rows)


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
    """The figures this config's variants support."""
    variants = variant_table(config)
    names = []
    if variants.empty:  # a protein-only config
        return names
    if len(_pool_groups(variants)):
        names.append("match_fraction_vs_pool")
    if _has_activation_pair(variants):
        names.append("relu_vs_exponential")
    return names


def _has_activation_pair(variants: pd.DataFrame) -> bool:
    """Whether :func:`activation_pairs` finds any pair, in one grouped pass (the DAG is built with it)."""
    if variants.empty:
        return False
    flags = pd.DataFrame(
        {
            "relu": variants["activation"].eq("relu"),
            "expo": variants["activation"].isin(EXPONENTIAL),
        }
    )
    keys = [variants[k] for k in ("dataset", "arch", "regime", "others")]
    keys.append(variants["first_pool"].fillna(-1))
    found = flags.groupby(keys, sort=False).any()
    return bool((found["relu"] & found["expo"]).any())


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


def read_trials(paths: Mapping[str, str | os.PathLike]) -> pd.DataFrame:
    """Every dataset's trials.tsv (from the summarise rule) in one table with a dataset column."""
    frames = [pd.read_csv(path, sep="\t").assign(dataset=name) for name, path in paths.items()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["dataset"])


def write_figures(
    config: Mapping[str, Any], trials: pd.DataFrame, outdir: str | os.PathLike, names: Sequence[str]
) -> dict[str, Path]:
    """Write ``{name}.pdf``, ``{name}.png`` and ``{name}.tsv`` under ``outdir`` for each named figure."""
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
        else:
            table = activation_table(trials, activation_pairs(variants))
            fig = plot_activation(table)
        write_tsv(out / f"{name}.tsv", table)
        for suffix in ("pdf", "png"):
            with plt.rc_context({"pdf.fonttype": 42}), atomic_path(out / f"{name}.{suffix}") as tmp:
                fig.savefig(tmp, dpi=300, bbox_inches="tight", format=suffix)
        plt.close(fig)
        written[name] = out / f"{name}.pdf"
    return written
