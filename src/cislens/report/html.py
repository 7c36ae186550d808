"""A self-contained HTML report per dataset: tables and embedded images, readable offline."""

from __future__ import annotations

import base64
import datetime as _dt
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
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#eef}
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
    return frame.to_html(
        index=False, float_format=lambda v: f"{v:.{digits}f}", border=0, na_rep="–", escape=True
    )


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


def _trial_section(trial_dir: Path, methods: Sequence[str]) -> str:
    parts = [f"<h3>{html.escape(trial_dir.parent.name)} / {html.escape(trial_dir.name)}</h3>"]
    metrics = json.loads((trial_dir / "metrics.json").read_text())
    per_task = pd.DataFrame(metrics.get("per_task", []))
    headline = ", ".join(
        f"{k.removesuffix('_mean').upper()} {v:.3f}" for k, v in metrics.items() if k.endswith("_mean") and v
    )
    robust = metrics.get("robustness") or {}
    if "adversarial_accuracy" in robust:
        headline += (
            f"; accuracy {robust['clean_accuracy']:.3f} clean, {robust['adversarial_accuracy']:.3f} under "
            f"PGD (epsilon {robust['epsilon']}, {robust['steps']} steps)"
        )
    parts.append(
        f"<p>Test {headline}; {metrics.get('epochs_trained', '?')} epochs, "
        f"{metrics.get('parameters', '?')} parameters, seed {metrics.get('seed', '?')}, "
        f"regime {html.escape(str((metrics.get('regime') or {}).get('kind', 'standard')))}.</p>"
    )
    parts.append("<h4>Training</h4>" + _img(trial_dir / "training.png", "training curve"))
    if len(per_task):
        parts.append(f"<details><summary>Per-task test metrics</summary>{_table(per_task)}</details>")
    stats_path = trial_dir / "filters" / "match_stats.json"
    if stats_path.exists():
        stats = json.loads(stats_path.read_text())
        found = stats.pop("tfs_found", [])
        parts.append("<h4>First-layer filters vs JASPAR (Tomtom)</h4>")
        parts.append(_table(pd.DataFrame([stats])))
        parts.append(
            f"<p>Motifs matched by the filters ({len(found)}): "
            f"{html.escape(', '.join(found)) if found else 'none'}</p>"
        )
        parts.append(_img(trial_dir / "filters" / "logos.png", "filter logos"))
        matches = trial_dir / "filters" / "match.tsv"
        if matches.exists():
            parts.append(
                f"<details><summary>Best hit per filter</summary>"
                f"{_table(pd.read_csv(matches, sep=chr(9)), digits=4)}</details>"
            )
    parts.append("<h4>Attribution</h4>")
    interp = trial_dir / "attribution" / "interpretability.tsv"
    if interp.exists():
        frame = pd.read_csv(interp, sep="\t")
        parts.append(_table(frame) if len(frame) else '<p class="note">No ground truth for this dataset.</p>')
    for method in methods:
        png = trial_dir / "attribution" / f"{method}.png"
        if png.exists():
            parts.append(f"<p>{html.escape(method)}: top-scoring test sequences</p>" + _img(png, method))
    gia = trial_dir / "gia" / "occupancy.tsv"
    if gia.exists():
        parts.append("<h4>Global importance analysis: motif occupancy</h4>")
        parts.append(_img(trial_dir / "gia" / "occupancy.png", "GIA occupancy"))
        table = pd.read_csv(gia, sep="\t")
        parts.append(f"<details><summary>GIA table</summary>{_table(table)}</details>")
    return "\n".join(parts)


def _provenance(config: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
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
        + f"<details><summary>Dataset settings</summary><pre>{html.escape(yaml.safe_dump(dict(settings)))}"
        + "</pre></details>"
        + f"<details><summary>Full config</summary><pre>{html.escape(yaml.safe_dump(dict(config)))}"
        + "</pre></details>"
    )


def write_report(
    path: str | os.PathLike,
    dataset_name: str,
    dataset_path: str,
    summary_path: str,
    trial_dirs: Sequence[str | os.PathLike],
    methods: Sequence[str],
    config: Mapping[str, Any],
    settings: Mapping[str, Any],
) -> None:
    """Write results/{dataset}/report.html from existing result files only (no training, no models)."""
    dataset_html, _ = _dataset_section(dataset_path)
    summary = pd.read_csv(summary_path, sep="\t")
    body = [
        f"<h1>cislens report: {html.escape(dataset_name)}</h1>",
        "<h2 id='dataset'>Dataset</h2>",
        dataset_html,
        "<h2 id='variants'>Variants (mean and sd over trials)</h2>",
        _table(summary),
        "<h2 id='trials'>Per variant and trial</h2>",
    ]
    body += [_trial_section(Path(d), methods) for d in trial_dirs]
    body += ["<h2 id='provenance'>Provenance</h2>", _provenance(config, settings)]
    page = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>cislens: "
        f"{html.escape(dataset_name)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
    with atomic_open(path) as handle:
        handle.write(page)
