"""The one report page writer: a self-contained HTML page (tables and embedded images, readable offline)
composed of sections, and the section builders both page kinds share (tables, images, provenance).

The genomics page (:mod:`.genomics_page`) and the protein-family page (:mod:`.protein_page`) each build
their own sections from result files and hand them to :func:`write_page`.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import html
import io
import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import yaml

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


class Section(NamedTuple):
    """One ``<section id=key>`` of a page: its nav and heading ``title`` and its HTML ``body``."""

    key: str
    title: str
    body: str


def img(path: str | os.PathLike, alt: str) -> str:
    """A PNG file embedded as a data URI."""
    return _png(Path(path).read_bytes(), alt)


def figure_img(fig: Any, alt: str) -> str:
    """A matplotlib figure drawn at report time (from result tables), embedded as PNG."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return _png(buffer.getvalue(), alt)


def _png(data: bytes, alt: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def table(frame: pd.DataFrame | None, digits: int = 3) -> str:
    if frame is None or len(frame) == 0:
        return '<p class="note">(no rows)</p>'
    rendered = frame.to_html(
        index=False, float_format=lambda v: f"{v:.{digits}f}", border=0, na_rep="–", escape=True
    )
    return f'<div class="wide">{rendered}</div>'  # wide tables scroll instead of squeezing their cells


def trial_label(trial_dir: Path) -> str:
    """``<variant or model> / <trial>`` of a results/{dataset}/.../{trial} folder."""
    return f"{trial_dir.parent.name} / {trial_dir.name}"


def mean_sd_table(summary: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
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


def checksums(paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
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


def provenance_section(
    config: Mapping[str, Any],
    settings: Mapping[str, Any],
    trials: pd.DataFrame,
    inputs: Sequence[str | os.PathLike],
) -> Section:
    """Package versions, commit, the page's own ``trials`` table, input checksums, settings and config."""
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
    body = (
        f"<p>cislens commit {html.escape(commit)}; Python {platform.python_version()}; written {when}.</p>"
        + table(pd.DataFrame(versions))
        + "<h3>Trials</h3>"
        + table(trials)
        + "<h3>Inputs</h3>"
        + table(checksums(inputs))
        + f"<details><summary>Dataset settings</summary><pre>{html.escape(yaml.safe_dump(dict(settings)))}"
        + "</pre></details>"
        + f"<details><summary>Full config</summary><pre>{html.escape(yaml.safe_dump(dict(config)))}"
        + "</pre></details>"
    )
    return Section("provenance", "Provenance", body)


def write_page(path: str | os.PathLike, dataset_name: str, sections: Sequence[Section]) -> None:
    """One self-contained page: title, a nav bar, and a <section id=key> per section, written atomically."""
    nav = " · ".join(f"<a href='#{s.key}'>{html.escape(s.title)}</a>" for s in sections)
    body = [f"<h1>cislens report: {html.escape(dataset_name)}</h1>", f"<nav>{nav}</nav>"]
    for section in sections:
        heading = f"<section id='{section.key}'><h2>{html.escape(section.title)}</h2>"
        body += [heading, section.body, "</section>"]
    page = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>cislens: "
        f"{html.escape(dataset_name)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
    with atomic_open(path) as handle:
        handle.write(page)
