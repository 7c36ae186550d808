"""Make one dataset's Dataset: ``build`` calls its kind's ``build_<kind>`` and validates the arrays."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..meme import Motif, read_meme
from .dataset import Dataset


def motifs_by_name(meme_path: str | Path, names: Mapping[str, str]) -> dict[str, np.ndarray]:
    """{TF name: PPM (W, 4)} from a MEME file of the planted motifs, keyed by the config's TF names."""
    by_id: dict[str, Motif] = {m.id: m for m in read_meme(meme_path)}
    out = {}
    for name, motif_id in names.items():
        if motif_id not in by_id:
            raise InputError(f"{meme_path}: motif {motif_id} ({name}) is missing")
        out[name] = by_id[motif_id].ppm
    return out


def build(settings: Mapping[str, Any], inputs: Mapping[str, Any], workdir: str | Path) -> Dataset:
    """Make the dataset of one config entry and validate its arrays (``validate.validate_dataset``):
    bad labels or empty splits fail here, before dataset.h5 is written, in one line; the task type
    is logged, degenerate tasks are warnings. ``inputs`` are the rule's input files by name."""
    from .validate import validate_dataset

    dataset = _build(settings, inputs, workdir)
    declared = str(settings.get("task_type") or dataset.summary.get("task_type") or "auto")
    source = str(settings.get("path") or f"{settings['kind']} dataset")
    check = validate_dataset(dataset, declared=declared, source=source)
    if "task_type" in dataset.summary:  # a builder of given labels (h5): the type travels to training
        dataset.summary["task_type"] = check.task_type  # (other kinds: 0/1 by construction)
    log = logging.getLogger(__name__)
    log.info("task type: %s", check.description)
    for warning in check.warnings:
        log.warning("%s", warning)
    return dataset


def _build(settings: Mapping[str, Any], inputs: Mapping[str, Any], workdir: str | Path) -> Dataset:
    """The kind's builder, ``build_<kind>`` of this module (cislens.plan.Kind.builder names it)."""
    builder = globals().get(f"build_{settings['kind']}")
    if builder is None:
        raise InputError(f"unknown dataset kind {settings['kind']!r}")
    return builder(settings, inputs, workdir)


def build_synthetic_multitask(
    settings: Mapping[str, Any], inputs: Mapping[str, Any], workdir: str | Path
) -> Dataset:
    from .synthetic import make_multitask

    motifs = motifs_by_name(inputs["motifs"], settings["motifs"])
    return make_multitask(
        motifs,
        n=settings["n"],
        length=settings["length"],
        k_probs=tuple(settings["k_probs"]),
        split=tuple(settings["split"]),
        seed=int(settings["seed"]),
        interactions=settings.get("interactions", []),
    )


def build_synthetic_code(
    settings: Mapping[str, Any], inputs: Mapping[str, Any], workdir: str | Path
) -> Dataset:
    from .synthetic import make_code

    every = {m.id: m for m in read_meme(inputs["motifs"])}
    core = {name: every[mid].ppm for name, mid in settings["core"].items()}
    pool = {f"{m.name}_{m.id}": m.ppm for mid, m in every.items() if mid not in settings["core"].values()}
    return make_code(
        core,
        pool,
        n_pos=settings["n_pos"],
        n_neg=settings["n_neg"],
        k_range=tuple(settings["k_range"]),
        k_probs=tuple(settings["k_probs"]),
        length=settings["length"],
        split=tuple(settings["split"]),
        seed=int(settings["seed"]),
    )


def build_peaks(settings: Mapping[str, Any], inputs: Mapping[str, Any], workdir: str | Path) -> Dataset:
    from .peaks import peak_files

    return _windows(
        settings, peak_files(settings), inputs, workdir, truth=None, signal=settings.get("signal")
    )


def build_synthetic_genome(
    settings: Mapping[str, Any], inputs: Mapping[str, Any], workdir: str | Path
) -> Dataset:
    files = {tf: str(Path(inputs["peaks"]) / f"{tf}.narrowPeak") for tf in settings["motifs"]}
    truth = (str(inputs["planted"]), motifs_by_name(inputs["motifs"], settings["motifs"]))
    if settings.get("signal") is None:
        return _windows(settings, files, inputs, workdir, truth=truth)
    from .genome_synth import site_amplitudes

    dataset = _windows(
        settings, files, inputs, workdir, truth=truth, signal={"signal": str(inputs["signal"])}
    )
    dataset.summary["signal_amplitudes"] = site_amplitudes(
        list(settings["motifs"]), settings["signal"].get("amplitudes")
    )
    return dataset


def _windows(
    settings: Mapping[str, Any],
    files: Mapping[str, str],
    inputs: Mapping[str, Any],
    workdir: str | Path,
    truth: Any,
    signal: Mapping[str, str] | None = None,
) -> Dataset:
    """Windows around peaks (real or generated) on a genome, with negatives and a chromosome hold-out;
    regression targets from ``signal`` ({task: bigWig}) when given."""
    from .peaks_dataset import build_peaks_dataset

    dataset = build_peaks_dataset(
        dict(files),
        str(inputs["genome"]),
        str(workdir),
        width=settings["width"],
        center=settings["center"],
        max_n_fraction=settings["max_n_fraction"],
        exclude_chroms=settings["exclude_chroms"],
        negatives=settings["negatives"],
        negative_ratio=settings["negative_ratio"],
        reverse_complement=settings["reverse_complement"],
        valid_chroms=list(settings["valid_chroms"]),
        test_chroms=list(settings["test_chroms"]),
        seed=int(settings["seed"]),
        truth=truth,
        signal=dict(signal) if signal else None,
        signal_target=dict(settings["signal_target"]),
        exclude_regions=list(settings["exclude_regions"]),
    )
    dataset.kind = settings["kind"]
    return dataset


def build_h5(settings: Mapping[str, Any], inputs: Mapping[str, Any], workdir: str | Path) -> Dataset:
    from .h5input import load_h5_dataset

    dataset = load_h5_dataset(inputs["h5"], seed=int(settings["seed"]))
    dataset.summary["task_type"] = str(settings.get("task_type", "auto"))  # resolved by build's check
    return dataset
