"""results/{dataset}/report.html of a genomics dataset: its sections, composed by :func:`.html.write_page`."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.dataset import read_dataset
from ..data.validate import validate_dataset
from ..errors import InputError
from .html import Section, img, mean_sd_table, provenance_section, table, trial_label, write_page


def dataset_section(dataset_path: str | os.PathLike) -> Section:
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
    try:  # the prepare step's validation, recomputed: its warnings become the page's banner
        check = validate_dataset(data, str(data.summary.get("task_type", "auto")), str(dataset_path))
        task_type, warnings = check.description, check.warnings
    except InputError as err:  # a dataset.h5 written before validation existed
        task_type, warnings = "not valid", [str(err)]
    banner = (
        '<div style="border:2px solid #c60;background:#fff4e5;padding:.5em 1em;margin:.6em 0">'
        "<b>Degenerate labels: these tasks' scores mean little</b><ul>"
        + "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        + "</ul></div>"
        if warnings
        else ""
    )
    parts = [
        banner,
        f"<p>Kind <b>{html.escape(data.kind)}</b>, {len(data.tasks)} task(s), task type "
        f"{html.escape(task_type)}, seed {data.seed}; ground truth "
        f"{'kept' if data.splits['test'].truth is not None else 'not available'}.</p>",
        table(pd.DataFrame(rows)),
    ]
    if data.summary:
        flat = {k: v for k, v in data.summary.items() if not isinstance(v, dict | list)}
        nested = {k: v for k, v in data.summary.items() if isinstance(v, dict | list)}
        if flat:
            parts.append(
                "<h3>Preparation</h3>"
                + table(pd.DataFrame([{"step": k, "count": v} for k, v in flat.items()]))
            )
        if nested:
            parts.append(
                f"<details><summary>Details</summary><pre>{html.escape(json.dumps(nested, indent=1))}"
                "</pre></details>"
            )
    return Section("dataset", "Dataset", "\n".join(parts))


def variants_section(summary: pd.DataFrame) -> Section:
    body = (
        table(mean_sd_table(summary))
        + '<p class="note">Mean ± sd over trials; match fraction and coverage from Tomtom against '
        "JASPAR; attribution AUROC per method against the planted motifs where known.</p>"
    )
    return Section("variants", "Variants", body)


def training_section(trial_dirs: Sequence[Path]) -> Section:
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
            f"<h3>{html.escape(trial_label(trial_dir))}</h3><p>Test {headline}; "
            f"{metrics.get('epochs_trained', '?')} epochs in {metrics.get('train_seconds', '?')} s, "
            f"{metrics.get('parameters', '?')} parameters, seed {metrics.get('seed', '?')}, "
            f"regime {regime}.</p>"
        )
        parts.append(img(trial_dir / "training.png", f"training curve {trial_label(trial_dir)}"))
        per_task = pd.DataFrame(metrics.get("per_task", []))
        if len(per_task):
            parts.append(f"<details><summary>Per-task test metrics</summary>{table(per_task)}</details>")
    return Section("training", "Training", "\n".join(parts))


def filters_section(trial_dirs: Sequence[Path]) -> Section:
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
        parts.append(f"<h3>{html.escape(trial_label(trial_dir))}</h3>" + table(pd.DataFrame([stats])))
        parts.append(
            f"<p>Motifs matched by the filters ({len(found)}): "
            f"{html.escape(', '.join(found)) if found else 'none'}</p>"
        )
        parts.append(img(trial_dir / "filters" / "logos.png", f"filter logos {trial_label(trial_dir)}"))
        matches = trial_dir / "filters" / "match.tsv"
        if matches.exists():
            parts.append(
                "<details><summary>Best hit per filter</summary>"
                f"{table(pd.read_csv(matches, sep=chr(9)), digits=4)}</details>"
            )
    return Section("filters", "First-layer filters", "\n".join(parts))


def attribution_section(trial_dirs: Sequence[Path], methods: Sequence[str]) -> Section:
    parts = []
    for trial_dir in trial_dirs:
        parts.append(f"<h3>{html.escape(trial_label(trial_dir))}</h3>")
        interp = trial_dir / "attribution" / "interpretability.tsv"
        if interp.exists():
            frame = pd.read_csv(interp, sep="\t")
            parts.append(
                table(frame) if len(frame) else '<p class="note">No ground truth for this dataset.</p>'
            )
        for method in methods:
            png = trial_dir / "attribution" / f"{method}.png"
            if png.exists():
                parts.append(
                    f"<p>{html.escape(method)}: top-scoring test sequences</p>"
                    + img(png, f"{method} {trial_label(trial_dir)}")
                )
    return Section("attribution", "Attribution", "\n".join(parts))


def gia_section(trial_dirs: Sequence[Path]) -> Section:
    parts = []
    for trial_dir in trial_dirs:
        folder = trial_dir / "gia"
        pngs = sorted(folder.glob("*.png")) if folder.exists() else []
        if not pngs:
            continue
        parts.append(f"<h3>{html.escape(trial_label(trial_dir))}</h3>")
        for png in pngs:  # one plot and one table per experiment
            parts.append(f"<h4>{html.escape(png.stem.replace('_', ' '))}</h4>" + img(png, png.stem))
            tsv = png.with_suffix(".tsv")
            if tsv.exists():
                frame = pd.read_csv(tsv, sep="\t")
                parts.append(f"<details><summary>{html.escape(tsv.name)}</summary>{table(frame)}</details>")
    body = "\n".join(parts) or '<p class="note">No GIA results.</p>'
    return Section("gia", "Global importance analysis", body)


def variant_effects_section(effect_dirs: Sequence[Path], n_top: int = 10) -> Section | None:
    """Per (variant, VCF): counts and truth AUROC, the top variants, allele logos and the distribution."""
    if not effect_dirs:
        return None
    parts = [
        '<p class="note">Change in logit (alternative minus reference allele, the log-odds change) of '
        "the task each variant moves most, mean over trials (sd; trials agreeing in sign). Skipped "
        "alleles and their reasons are in <code>skipped.tsv</code>; every value is in "
        "<code>effects.tsv</code> and the annotated VCF.</p>"
    ]
    for folder in effect_dirs:
        metrics = json.loads((folder / "metrics.json").read_text())
        title = f"{folder.parent.parent.name}: {folder.name}"
        auroc = metrics.get("auroc_truth")
        skipped = ", ".join(f"{k} {v}" for k, v in (metrics.get("skipped") or {}).items()) or "none"
        parts.append(
            f"<h3>{html.escape(title)}</h3><p>{metrics['n_scored']} of {metrics['n_alleles']} alleles "
            f"scored with {metrics['n_trials']} trial(s) on {metrics['strands']} strand(s); skipped: "
            f"{html.escape(skipped)}"
            + (
                f"; |effect| separates disrupting from neutral variants with AUROC {auroc:.3f}"
                if auroc
                else ""
            )
            + ".</p>"
        )
        effects = pd.read_csv(folder / "effects.tsv", sep="\t")
        cols = [
            c
            for c in (
                "id",
                "chrom",
                "pos",
                "ref",
                "alt",
                "effect",
                "effect_sd",
                "effect_agree",
                "effect_task",
                "TRUTH",
            )
            if c in effects
        ]
        top = effects.head(n_top)[cols].copy()
        for allele in ("ref", "alt"):
            top[allele] = [a if len(str(a)) <= 12 else f"{str(a)[:12]}.." for a in top[allele]]
        parts.append(table(top))
        parts.append(img(folder / "top.png", f"allele logos {title}"))
        parts.append(img(folder / "hist.png", f"effect distribution {title}"))
    return Section("variant_effects", "Variant effects", "\n".join(parts))


def modisco_section(modisco_dirs: Sequence[Path]) -> Section | None:
    """Per variant: discovery counts and truth scores, the patterns with their JASPAR matches, logos."""
    if not modisco_dirs:
        return None
    parts = [
        '<p class="note">TF-MoDISco (modisco-lite) on hypothetical contributions of the positive test '
        "sequences, averaged over the variant's trials; each pattern's trimmed PPM against JASPAR with "
        "Tomtom. Logos: contribution weight matrix, hypothetical CWM, best match aligned by Tomtom's "
        "offset and strand. Seqlet coordinates are in <code>seqlets.bed</code>, the modisco-lite file "
        "(<code>modisco report</code>, <code>modisco meme</code> read it) in <code>modisco.h5</code>.</p>"
    ]
    for folder in modisco_dirs:
        record = json.loads((folder / "truth.json").read_text())
        variant = folder.parent.name
        source = f"{record['source']}, {record['n_trials']} trial(s)" + (
            ", both strands" if record.get("both_strands") else ""
        )
        parts.append(f"<h3>{html.escape(variant)}</h3>")
        if not record["n_patterns"]:
            parts.append(
                f"<p><b>No patterns.</b> {record['n_seqlets_called']} seqlets were called in "
                f"{record['n_sequences']} sequences ({html.escape(source)}); none formed a pattern that "
                "passed modisco-lite's filters (seqlet FDR, cluster size, information content).</p>"
            )
            continue
        line = (
            f"<p>{record['n_patterns']} pattern(s) ({record['n_positive_patterns']} positive, "
            f"{record['n_negative_patterns']} negative) from {record['n_seqlets']} seqlets "
            f"({record['n_seqlets_called']} called) in {record['n_sequences']} sequences; "
            f"contributions: {html.escape(source)}."
        )
        if record.get("has_truth"):
            precision, recall = record.get("seqlet_precision"), record.get("seqlet_recall")
            line += (
                f" Planted motifs recovered (best match, q &lt; {record['q_threshold']}): "
                f"<b>{record['n_recovered']} of {record['n_planted']}</b> "
                f"({html.escape(', '.join(record['recovered'])) or 'none'}); the TF or an "
                f"indistinguishable paralog: {record.get('n_recovered_family', '-')}; among any match: "
                f"{record['n_recovered_any']}; spurious patterns: <b>{record['n_spurious']}</b>; "
                f"seqlet precision {precision:.3f}, recall of planted sites {recall:.3f}."
                if precision is not None and recall is not None
                else ""
            )
        parts.append(line + "</p>")
        patterns = pd.read_csv(folder / "patterns.tsv", sep="\t")
        shown = [
            c
            for c in (
                "pattern",
                "metacluster",
                "n_seqlets",
                "consensus",
                "planted",
                "match1_name",
                "match1_id",
                "match1_q",
                "match1_class",
                "match1_family",
                "match2_name",
                "match3_name",
            )
            if c in patterns
        ]
        shown_table = patterns[shown].copy()
        if "match1_q" in shown_table:
            shown_table["match1_q"] = [f"{q:.1e}" if pd.notna(q) else "" for q in shown_table["match1_q"]]
        parts.append(table(shown_table.fillna("")))
        parts.append(img(folder / "logos.png", f"discovered motifs {variant}"))
    return Section("modisco", "Discovered motifs", "\n".join(parts))


def tracks_section(track_dirs: Sequence[Path]) -> Section | None:
    """The bigWig tracks per variant (tracks.txt's stanzas) and how to load them in a browser."""
    from ..tracks.layout import LISTING, read_listing

    rows = []
    for folder in track_dirs:
        listing = folder / LISTING
        if not listing.exists():
            continue
        for stanza in read_listing(listing):
            rows.append(
                {
                    "variant": folder.parent.name,
                    "track": stanza.get("track", ""),
                    "file": str(folder / stanza.get("bigDataUrl", "")),
                    "description": stanza.get("longLabel", ""),
                }
            )
    if not rows:
        return None
    body = (
        "<p>bigWig tracks of each variant's ensemble over the test windows: the prediction per window and "
        "the contribution of each observed base. Load the files in IGV or a UCSC track hub "
        f"(<code>{LISTING}</code> holds trackDb stanzas, <code>bigDataUrl</code> relative to its folder).</p>"
        + table(pd.DataFrame(rows))
    )
    return Section("tracks", "Genome-browser tracks", body)


def trials_table(trial_dirs: Sequence[Path]) -> pd.DataFrame:
    """The provenance section's trials: variant, trial, seed, epochs and training time."""
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
    effect_dirs: Sequence[str | os.PathLike] = (),
    modisco_dirs: Sequence[str | os.PathLike] = (),
    track_dirs: Sequence[str | os.PathLike] = (),
) -> None:
    """Write results/{dataset}/report.html from existing result files only (no training, no models).

    ``inputs`` are the files the dataset was built from (checksummed in the provenance section).
    """
    trials = [Path(d) for d in trial_dirs]
    sections = [
        dataset_section(dataset_path),
        variants_section(pd.read_csv(summary_path, sep="\t")),
        training_section(trials),
        filters_section(trials),
        attribution_section(trials, methods),
        gia_section(trials),
        modisco_section([Path(d) for d in modisco_dirs]),
        variant_effects_section([Path(d) for d in effect_dirs]),
        tracks_section([Path(d) for d in track_dirs]),
        provenance_section(config, settings, trials_table(trials), [dataset_path, *inputs]),
    ]
    write_page(path, dataset_name, [s for s in sections if s is not None])
