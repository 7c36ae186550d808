"""A self-contained HTML report per dataset: tables and embedded images, readable offline."""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import html
import json
import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..data.dataset import read_dataset
from ..io import atomic_open

PACKAGES = (
    "cislens",
    "tensorflow-cpu",
    "keras",
    "numpy",
    "pandas",
    "memelite",
    "tangermeme",
    "pyjaspar",
    "pybedtools",
    "pyfaidx",
    "snakemake",
)

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1180px;margin:2em auto;
color:#222;line-height:1.45;padding:0 1em}
h1{border-bottom:2px solid #335;padding-bottom:.2em}h2{margin-top:1.8em;color:#335}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right;white-space:nowrap}th{background:#eef}
.wide{overflow-x:auto}
td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #eee;margin:.3em 0}
.note{color:#666;font-size:.9em}details{margin:.5em 0}pre{background:#f6f6f6;padding:.6em;overflow:auto;
font-size:.8em}
"""


def _img(path: str | os.PathLike, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(frame: pd.DataFrame, digits: int = 3) -> str:
    if frame is None or len(frame) == 0:
        return '<p class="note">(no rows)</p>'
    table = frame.to_html(
        index=False, float_format=lambda v: f"{v:.{digits}f}", border=0, na_rep="–", escape=True
    )
    return f'<div class="wide">{table}</div>'  # wide tables scroll instead of squeezing their cells


def _dataset_section(dataset_path: str) -> tuple[str, list[str]]:
    data = read_dataset(dataset_path, truth=True)
    rows = []
    for name, split in data.splits.items():
        y = np.asarray(split.y)
        gc = (split.x[..., 1].sum() + split.x[..., 2].sum()) / max(split.x.sum(), 1)
        row = {"split": name, "sequences": len(split), "length": split.x.shape[1], "GC": gc}
        for t, task in enumerate(data.tasks):
            row[f"{task} +"] = int((y[:, t] > 0.5).sum()) if len(y) else 0
        if split.chrom is not None and len(split):
            chroms = sorted(set(split.chrom))
            row["chromosomes"] = ", ".join(chroms[:8]) + (" ..." if len(chroms) > 8 else "")
        rows.append(row)
    parts = [
        f"<p>Kind <b>{html.escape(data.kind)}</b>, {len(data.tasks)} task(s), seed {data.seed}; ground truth "
        f"{'kept' if data.splits['test'].truth is not None else 'not available'}.</p>",
        _table(pd.DataFrame(rows)),
    ]
    if data.summary:
        flat = {k: v for k, v in data.summary.items() if not isinstance(v, dict | list)}
        nested = {k: v for k, v in data.summary.items() if isinstance(v, dict | list)}
        if flat:
            parts.append(
                "<h3>Preparation</h3>"
                + _table(pd.DataFrame([{"step": k, "count": v} for k, v in flat.items()]))
            )
        if nested:
            parts.append(
                f"<details><summary>Details</summary><pre>{html.escape(json.dumps(nested, indent=1))}"
                "</pre></details>"
            )
    return "\n".join(parts), data.tasks


SECTIONS = (
    ("dataset", "Dataset"),
    ("variants", "Variants"),
    ("training", "Training"),
    ("filters", "First-layer filters"),
    ("attribution", "Attribution"),
    ("gia", "Global importance analysis"),
    ("provenance", "Provenance"),
)


def _label(trial_dir: Path) -> str:
    return f"{trial_dir.parent.name} / {trial_dir.name}"


def _mean_sd_table(summary: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Summary columns ``x_mean`` and ``x_sd`` merged into one readable ``x`` column: mean ± sd."""
    out = summary[["variant", "n_trials"]].copy() if "n_trials" in summary else summary[["variant"]].copy()
    for column in summary.columns:
        if not column.endswith("_mean"):
            continue
        name = column.removesuffix("_mean")
        mean, sd = summary[column], summary.get(f"{name}_sd", pd.Series(np.nan, index=summary.index))
        out[name] = [
            "–" if pd.isna(m) else (f"{m:.{digits}f}" + ("" if pd.isna(d) else f" ± {d:.{digits}f}"))
            for m, d in zip(mean, sd, strict=True)
        ]
    return out


def _training_section(trial_dirs: Sequence[Path]) -> str:
    parts = []
    for trial_dir in trial_dirs:
        metrics = json.loads((trial_dir / "metrics.json").read_text())
        headline = ", ".join(
            f"{k.removesuffix('_mean').upper()} {v:.3f}"
            for k, v in metrics.items()
            if k.endswith("_mean") and v is not None
        )
        robust = metrics.get("robustness") or {}
        if "adversarial_accuracy" in robust:
            headline += (
                f"; accuracy {robust['clean_accuracy']:.3f} clean, {robust['adversarial_accuracy']:.3f} "
                f"under PGD (epsilon {robust['epsilon']}, {robust['steps']} steps)"
            )
        regime = html.escape(str((metrics.get("regime") or {}).get("kind", "standard")))
        parts.append(
            f"<h3>{html.escape(_label(trial_dir))}</h3><p>Test {headline}; "
            f"{metrics.get('epochs_trained', '?')} epochs in {metrics.get('train_seconds', '?')} s, "
            f"{metrics.get('parameters', '?')} parameters, seed {metrics.get('seed', '?')}, "
            f"regime {regime}.</p>"
        )
        parts.append(_img(trial_dir / "training.png", f"training curve {_label(trial_dir)}"))
        per_task = pd.DataFrame(metrics.get("per_task", []))
        if len(per_task):
            parts.append(f"<details><summary>Per-task test metrics</summary>{_table(per_task)}</details>")
    return "\n".join(parts)


def _filters_section(trial_dirs: Sequence[Path]) -> str:
    parts = [
        '<p class="note">Each filter\'s logo (from the test sequences that activate it to at least half '
        "its maximum) above its best JASPAR match, aligned as Tomtom aligned them.</p>"
    ]
    for trial_dir in trial_dirs:
        stats_path = trial_dir / "filters" / "match_stats.json"
        if not stats_path.exists():
            continue
        stats = json.loads(stats_path.read_text())
        found = stats.pop("tfs_found", [])
        stats.pop("tfs_hit", None)
        parts.append(f"<h3>{html.escape(_label(trial_dir))}</h3>" + _table(pd.DataFrame([stats])))
        parts.append(
            f"<p>Motifs matched by the filters ({len(found)}): "
            f"{html.escape(', '.join(found)) if found else 'none'}</p>"
        )
        parts.append(_img(trial_dir / "filters" / "logos.png", f"filter logos {_label(trial_dir)}"))
        matches = trial_dir / "filters" / "match.tsv"
        if matches.exists():
            parts.append(
                "<details><summary>Best hit per filter</summary>"
                f"{_table(pd.read_csv(matches, sep=chr(9)), digits=4)}</details>"
            )
    return "\n".join(parts)


def _attribution_section(trial_dirs: Sequence[Path], methods: Sequence[str]) -> str:
    parts = []
    for trial_dir in trial_dirs:
        parts.append(f"<h3>{html.escape(_label(trial_dir))}</h3>")
        interp = trial_dir / "attribution" / "interpretability.tsv"
        if interp.exists():
            frame = pd.read_csv(interp, sep="\t")
            parts.append(
                _table(frame) if len(frame) else '<p class="note">No ground truth for this dataset.</p>'
            )
        for method in methods:
            png = trial_dir / "attribution" / f"{method}.png"
            if png.exists():
                parts.append(
                    f"<p>{html.escape(method)}: top-scoring test sequences</p>"
                    + _img(png, f"{method} {_label(trial_dir)}")
                )
    return "\n".join(parts)


def _gia_section(trial_dirs: Sequence[Path]) -> str:
    parts = []
    for trial_dir in trial_dirs:
        folder = trial_dir / "gia"
        pngs = sorted(folder.glob("*.png")) if folder.exists() else []
        if not pngs:
            continue
        parts.append(f"<h3>{html.escape(_label(trial_dir))}</h3>")
        for png in pngs:  # one plot and one table per experiment
            parts.append(f"<h4>{html.escape(png.stem.replace('_', ' '))}</h4>" + _img(png, png.stem))
            tsv = png.with_suffix(".tsv")
            if tsv.exists():
                table = pd.read_csv(tsv, sep="\t")
                parts.append(f"<details><summary>{html.escape(tsv.name)}</summary>{_table(table)}</details>")
    return "\n".join(parts) or '<p class="note">No GIA results.</p>'


def _checksums(paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """SHA-256 of each input file (streamed), so a reader can tell which data a report came from."""
    rows = []
    for path in paths:
        p = Path(path)
        if not p.is_file():
            continue
        digest = hashlib.sha256()
        with open(p, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        rows.append({"file": str(path), "bytes": p.stat().st_size, "sha256": digest.hexdigest()})
    return pd.DataFrame(rows)


def _provenance(
    config: Mapping[str, Any],
    settings: Mapping[str, Any],
    trial_dirs: Sequence[Path],
    inputs: Sequence[str | os.PathLike],
    trials: pd.DataFrame | None = None,
) -> str:
    versions = []
    for name in PACKAGES:
        try:
            versions.append({"package": name, "version": metadata.version(name)})
        except metadata.PackageNotFoundError:
            continue
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or "unknown"
        )
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    when = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"<p>cislens commit {html.escape(commit)}; Python {platform.python_version()}; written {when}.</p>"
        + _table(pd.DataFrame(versions))
        + "<h3>Trials</h3>"
        + _table(_trial_provenance(trial_dirs) if trials is None else trials)
        + "<h3>Inputs</h3>"
        + _table(_checksums(inputs))
        + f"<details><summary>Dataset settings</summary><pre>{html.escape(yaml.safe_dump(dict(settings)))}"
        + "</pre></details>"
        + f"<details><summary>Full config</summary><pre>{html.escape(yaml.safe_dump(dict(config)))}"
        + "</pre></details>"
    )


def _trial_provenance(trial_dirs: Sequence[Path]) -> pd.DataFrame:
    rows = []
    for trial_dir in trial_dirs:
        metrics = json.loads((trial_dir / "metrics.json").read_text())
        rows.append(
            {
                "variant": trial_dir.parent.name,
                "trial": trial_dir.name,
                "seed": metrics.get("seed"),
                "epochs": metrics.get("epochs_trained"),
                "train seconds": metrics.get("train_seconds"),
            }
        )
    return pd.DataFrame(rows)


def _write_page(
    path: str | os.PathLike,
    dataset_name: str,
    sections: Sequence[tuple[str, str]],
    content: Mapping[str, str],
) -> None:
    """One self-contained page: title, a nav bar, and a <section id=key> per section, written atomically."""
    nav = " · ".join(f"<a href='#{key}'>{html.escape(title)}</a>" for key, title in sections)
    body = [f"<h1>cislens report: {html.escape(dataset_name)}</h1>", f"<nav>{nav}</nav>"]
    for key, title in sections:
        body += [f"<section id='{key}'><h2>{html.escape(title)}</h2>", content[key], "</section>"]
    page = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>cislens: "
        f"{html.escape(dataset_name)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
    with atomic_open(path) as handle:
        handle.write(page)


def write_report(
    path: str | os.PathLike,
    dataset_name: str,
    dataset_path: str,
    summary_path: str,
    trial_dirs: Sequence[str | os.PathLike],
    methods: Sequence[str],
    config: Mapping[str, Any],
    settings: Mapping[str, Any],
    inputs: Sequence[str | os.PathLike] = (),
) -> None:
    """Write results/{dataset}/report.html from existing result files only (no training, no models).

    ``inputs`` are the files the dataset was built from (checksummed in the provenance section).
    """
    dataset_html, _ = _dataset_section(dataset_path)
    summary = pd.read_csv(summary_path, sep="\t")
    trials = [Path(d) for d in trial_dirs]
    content = {
        "dataset": dataset_html,
        "variants": _table(_mean_sd_table(summary))
        + '<p class="note">Mean ± sd over trials; match fraction and coverage from Tomtom against '
        "JASPAR; attribution AUROC per method against the planted motifs where known.</p>",
        "training": _training_section(trials),
        "filters": _filters_section(trials),
        "attribution": _attribution_section(trials, methods),
        "gia": _gia_section(trials),
        "provenance": _provenance(config, settings, trials, [dataset_path, *inputs]),
    }
    _write_page(path, dataset_name, SECTIONS, content)


# ------------------------------------------------------------------------------------ protein branch
PROTEIN_SECTIONS = (("dataset", "Family"), ("protein", "Protein models"), ("provenance", "Provenance"))


def _figure_img(fig: Any, alt: str) -> str:
    """A matplotlib figure drawn at report time (from result tables), embedded as PNG."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _family_section(
    msa_summary: str | os.PathLike, settings: Mapping[str, Any], inputs: Sequence[str]
) -> str:
    record = json.loads(Path(msa_summary).read_text())
    rows = [{"property": key.replace("_", " "), "value": value} for key, value in record.items()]
    parts = [
        f"<p>Kind <b>{html.escape(settings['kind'])}</b>: sequences weighted at "
        f"{record.get('identity', 0.8):.0%} identity; Neff is the sum of the weights.</p>",
        _table(pd.DataFrame(rows).astype(str)),
    ]
    planted = [p for p in inputs if str(p).endswith("planted.json")]
    if planted:
        made = json.loads(Path(planted[0]).read_text())
        parts.append(
            "<h3>Planted model</h3><p class='note'>Gibbs samples of a Potts model with couplings only on "
            "the planted pairs: true contacts are exactly those pairs, and the DMS table holds every single "
            "mutant of the wild type (the focus) scored by its true energy change.</p>"
            + _table(pd.DataFrame([{k: v for k, v in made.items() if k != "wild_type"}]))
            + f"<p class='note'>Wild type: <code>{html.escape(str(made.get('wild_type', '')))}</code></p>"
        )
    truth = [f"{key}: {settings[key]}" for key in ("pdb", "distance_table", "dms") if settings.get(key)]
    if truth:
        parts.append(
            f"<p>Truth: {html.escape('; '.join(truth))} (contact when distance < "
            f"{settings.get('threshold', 8.0)} Å).</p>"
        )
    return "\n".join(parts)


def _precision_curves_img(trial_dirs: Sequence[Path], min_separation: int = 6) -> str:
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
        table = pd.read_csv(table_path, sep="\t")
        length = int(max(table["i"].max(), table["j"].max()) + 1)
        far = (table["column_j"] - table["column_i"]).abs() >= min_separation
        hits = table.loc[far, "contact"].dropna().astype(float).to_numpy()[: 5 * length]
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
    return _figure_img(fig, "precision of the top-k contacts, all models")


def _protein_section(summary: pd.DataFrame, trial_dirs: Sequence[Path]) -> str:
    parts = [
        "<h3>Models</h3>",
        _table(_mean_sd_table(summary)),
        '<p class="note">Mean ± sd over trials. precision_K_sepS: fraction of the top K pairs (K = L, L/2, '
        "L/5) at |i - j| >= S that are true contacts (Frobenius norm with APC); dms_spearman: Spearman "
        "correlation of predicted effects with the DMS scores.</p>",
    ]
    rows = []
    for trial_dir in trial_dirs:
        table_path = trial_dir / "evaluation" / "precision.tsv"
        if table_path.exists():
            table = pd.read_csv(table_path, sep="\t")
            row = {"model": trial_dir.parent.name, "trial": trial_dir.name}
            row.update({f"P@{r.top} sep{r.min_separation}": r.precision for r in table.itertuples()})
            rows.append(row)
    if rows:
        parts += ["<h3>Contact precision</h3>", _table(pd.DataFrame(rows)), _precision_curves_img(trial_dirs)]
        parts.append(
            "<h3>Contact maps</h3><p class='note'>Upper triangle: the top L predicted pairs "
            "(true or false positive); lower triangle: the true contacts.</p>"
        )
        for trial_dir in trial_dirs:
            png = trial_dir / "evaluation" / "contact_map.png"
            if png.exists():
                parts.append(
                    f"<h4>{html.escape(_label(trial_dir))}</h4>"
                    + _img(png, f"contact map {_label(trial_dir)}")
                )
    effects = []
    for trial_dir in trial_dirs:
        png = trial_dir / "evaluation" / "dms.png"
        if png.exists():
            effects.append(
                f"<h4>{html.escape(_label(trial_dir))}</h4>" + _img(png, f"DMS scatter {_label(trial_dir)}")
            )
    if effects:
        parts += [
            "<h3>Mutation effects</h3><p class='note'>Predicted effect (energy or ELBO difference, "
            "mutant minus wild type) against the measured DMS score.</p>",
            *effects,
        ]
    heads = []
    for trial_dir in trial_dirs:
        png = trial_dir / "evaluation" / "attention.png"
        if png.exists():
            heads.append(
                f"<h4>{html.escape(_label(trial_dir))}</h4>"
                + _img(png, f"attention heads {_label(trial_dir)}")
            )
    if heads:
        parts += [
            "<h3>Attention heads</h3><p class='note'>Factored attention's per-head maps, ordered by "
            "their own contact precision at L/2.</p>",
            *heads,
        ]
    return "\n".join(parts)


def _protein_trials(trial_dirs: Sequence[Path]) -> pd.DataFrame:
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


def write_protein_report(
    path: str | os.PathLike,
    dataset_name: str,
    msa_summary: str | os.PathLike,
    summary_path: str | os.PathLike,
    trial_dirs: Sequence[str | os.PathLike],
    config: Mapping[str, Any],
    settings: Mapping[str, Any],
    inputs: Sequence[str | os.PathLike] = (),
) -> None:
    """results/{dataset}/report.html of a protein family, from result files only (no model is loaded)."""
    trials = [Path(d) for d in trial_dirs]
    content = {
        "dataset": _family_section(msa_summary, settings, [str(p) for p in inputs]),
        "protein": _protein_section(pd.read_csv(summary_path, sep="\t"), trials),
        "provenance": _provenance(config, settings, trials, list(inputs), _protein_trials(trials)),
    }
    _write_page(path, dataset_name, PROTEIN_SECTIONS, content)
