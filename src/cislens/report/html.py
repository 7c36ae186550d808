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
        + _table(_trial_provenance(trial_dirs))
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
    nav = " · ".join(f"<a href='#{key}'>{html.escape(title)}</a>" for key, title in SECTIONS)
    body = [f"<h1>cislens report: {html.escape(dataset_name)}</h1>", f"<nav>{nav}</nav>"]
    for key, title in SECTIONS:
        body += [f"<section id='{key}'><h2>{html.escape(title)}</h2>", content[key], "</section>"]
    page = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>cislens: "
        f"{html.escape(dataset_name)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
    with atomic_open(path) as handle:
        handle.write(page)
