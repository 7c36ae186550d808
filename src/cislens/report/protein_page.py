"""results/{dataset}/report.html of a protein family: its sections, composed by :func:`.html.write_page`.

Read from result files only (msa.json, summary.tsv, each model trial's metrics.json and evaluation/);
no model is loaded.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .html import Section, figure_img, img, mean_sd_table, provenance_section, table, trial_label, write_page


def family_section(
    msa_summary: str | os.PathLike, settings: Mapping[str, Any], inputs: Sequence[str]
) -> Section:
    record = json.loads(Path(msa_summary).read_text())
    rows = [{"property": key.replace("_", " "), "value": value} for key, value in record.items()]
    parts = [
        f"<p>Kind <b>{html.escape(settings['kind'])}</b>: sequences weighted at "
        f"{record.get('identity', 0.8):.0%} identity; Neff is the sum of the weights.</p>",
        table(pd.DataFrame(rows).astype(str)),
    ]
    planted = [p for p in inputs if str(p).endswith("planted.json")]
    if planted:
        made = json.loads(Path(planted[0]).read_text())
        parts.append(
            "<h3>Planted model</h3><p class='note'>Gibbs samples of a Potts model with couplings only on "
            "the planted pairs: true contacts are exactly those pairs, and the DMS table holds every single "
            "mutant of the wild type (the focus) scored by its true energy change.</p>"
            + table(pd.DataFrame([{k: v for k, v in made.items() if k != "wild_type"}]))
            + f"<p class='note'>Wild type: <code>{html.escape(str(made.get('wild_type', '')))}</code></p>"
        )
    truth = [f"{key}: {settings[key]}" for key in ("pdb", "distance_table", "dms") if settings.get(key)]
    if settings.get("dms"):
        truth.append(f"DMS score column: {settings.get('dms_score', 'score')}")
    if truth:
        parts.append(
            f"<p>Truth: {html.escape('; '.join(truth))} (contact when distance < "
            f"{settings.get('threshold', 8.0)} Å).</p>"
        )
    return Section("dataset", "Family", "\n".join(parts))


def precision_curves_img(trial_dirs: Sequence[Path], min_separation: int = 6) -> str:
    """Precision of the top-k pairs (|i - j| >= 6, pairs with a known distance) for each model's first
    trial on one plot, read back from the ranked contacts.tsv tables."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves, length = {}, None
    for trial_dir in trial_dirs:
        table_path = trial_dir / "evaluation" / "contacts.tsv"
        model = trial_dir.parent.name
        if model in curves or not table_path.exists():
            continue
        contacts = pd.read_csv(table_path, sep="\t")
        length = int(max(contacts["i"].max(), contacts["j"].max()) + 1)
        far = (contacts["column_j"] - contacts["column_i"]).abs() >= min_separation
        hits = contacts.loc[far, "contact"].dropna().astype(float).to_numpy()[: 5 * length]
        curves[model] = np.cumsum(hits) / np.arange(1, hits.size + 1)
    if not curves:
        return ""
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    for model, curve in curves.items():
        ax.plot(np.arange(1, curve.size + 1), curve, label=model, lw=1.4)
    for frac, style in ((1, "--"), (2, ":"), (5, "-.")):
        ax.axvline(length / frac, color="0.6", ls=style, lw=0.8)
    ax.set(
        xlabel=f"top k predicted pairs (|i - j| >= {min_separation}); lines at L, L/2, L/5",
        ylabel="precision",
        ylim=(0, 1.02),
        xscale="log",
    )
    ax.legend(frameon=False, fontsize=8)
    return figure_img(fig, "precision of the top-k contacts, all models")


def _trial_figures(trial_dirs: Sequence[Path], name: str, alt: str) -> list[str]:
    """Each trial's evaluation/<name> under a per-trial heading (trials without it are skipped)."""
    parts = []
    for trial_dir in trial_dirs:
        png = trial_dir / "evaluation" / name
        if png.exists():
            parts.append(
                f"<h4>{html.escape(trial_label(trial_dir))}</h4>"
                + img(png, f"{alt} {trial_label(trial_dir)}")
            )
    return parts


def models_section(summary: pd.DataFrame, trial_dirs: Sequence[Path]) -> Section:
    parts = [
        "<h3>Models</h3>",
        table(mean_sd_table(summary)),
        '<p class="note">Mean ± sd over trials. precision_K_sepS: fraction of the top K pairs (K = L, L/2, '
        "L/5) at |i - j| >= S that are true contacts (Frobenius norm with APC); dms_spearman: Spearman "
        "correlation of predicted effects with the DMS scores.</p>",
    ]
    rows = []
    for trial_dir in trial_dirs:
        table_path = trial_dir / "evaluation" / "precision.tsv"
        if table_path.exists():
            precision = pd.read_csv(table_path, sep="\t")
            row = {"model": trial_dir.parent.name, "trial": trial_dir.name}
            row.update({f"P@{r.top} sep{r.min_separation}": r.precision for r in precision.itertuples()})
            rows.append(row)
    if rows:
        parts += ["<h3>Contact precision</h3>", table(pd.DataFrame(rows)), precision_curves_img(trial_dirs)]
        parts.append(
            "<h3>Contact maps</h3><p class='note'>Upper triangle: the top L predicted pairs "
            "(true or false positive); lower triangle: the true contacts.</p>"
        )
        parts += _trial_figures(trial_dirs, "contact_map.png", "contact map")
    effects = _trial_figures(trial_dirs, "dms.png", "DMS scatter")
    if effects:
        parts += [
            "<h3>Mutation effects</h3><p class='note'>Predicted effect (energy or ELBO difference, "
            "mutant minus wild type) against the measured DMS score. Mutants the alignment does not cover "
            "are left out of the correlation and counted by reason in the table above (dms_outside_focus: "
            "beyond the focus sequence; dms_insert: an inserted focus residue; dms_dropped_column: a "
            "column filtered out for gaps); dms.tsv labels each mutant's coverage.</p>",
            *effects,
        ]
    heads = _trial_figures(trial_dirs, "attention.png", "attention heads")
    if heads:
        parts += [
            "<h3>Attention heads</h3><p class='note'>Factored attention's per-head maps, ordered by "
            "their own contact precision at L/2.</p>",
            *heads,
        ]
    return Section("protein", "Protein models", "\n".join(parts))


def trials_table(trial_dirs: Sequence[Path]) -> pd.DataFrame:
    """The provenance section's trials: model, its kind, trial, seed and fitting time."""
    rows = []
    for trial_dir in trial_dirs:
        metrics = json.loads((trial_dir / "metrics.json").read_text())
        rows.append(
            {
                "model": trial_dir.parent.name,
                "kind": metrics.get("kind"),
                "trial": trial_dir.name,
                "seed": metrics.get("seed"),
                "fit seconds": metrics.get("fit_seconds"),
            }
        )
    return pd.DataFrame(rows)


def write_report(
    path: str | os.PathLike,
    dataset_name: str,
    msa_summary: str | os.PathLike,
    summary_path: str | os.PathLike,
    trial_dirs: Sequence[str | os.PathLike],
    config: Mapping[str, Any],
    settings: Mapping[str, Any],
    inputs: Sequence[str | os.PathLike] = (),
) -> None:
    """results/{dataset}/report.html of a protein family from its result files.

    ``trial_dirs`` are results/{dataset}/{model}/{trial}; ``inputs`` are the alignment and truth files
    (checksummed in the provenance section).
    """
    trials = [Path(d) for d in trial_dirs]
    sections = [
        family_section(msa_summary, settings, [str(p) for p in inputs]),
        models_section(pd.read_csv(summary_path, sep="\t"), trials),
        provenance_section(config, settings, trials_table(trials), list(inputs)),
    ]
    write_page(path, dataset_name, sections)
