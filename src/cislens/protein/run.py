"""The protein branch's three steps as plain functions a rule's script calls: prepare, fit, evaluate.

``prepare`` reads an alignment once (filters, weights) into ``msa.h5``; ``fit`` trains one model on it;
``evaluate`` scores contacts against a structure or distance table and effects against a DMS table.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import atomic_path, write_json, write_tsv
from . import contacts as contact_eval
from . import effects, factored_attention, mg, plots, potts, pssm, vae
from .dms import coverage_counts, read_dms
from .msa import MSA, neff, read_msa, sequence_weights
from .params import PottsModel, load_potts, save_potts
from .structure import column_distances, contact_truth, read_distance_table, read_pdb

MODELS = ("pssm", "potts", "mg", "factored_attention", "vae")
TF_MODELS = ("factored_attention", "vae")  # the others are numpy or numba (potts): no TensorFlow, no seed


# ------------------------------------------------------------------------------------------ planted
def planted_family(
    out_dir: str | os.PathLike,
    *,
    length: int = 50,
    n_sequences: int = 5000,
    n_contacts: int | None = None,
    coupling_scale: float = 0.5,
    field_scale: float = 2.0,
    gap_penalty: float = 2.0,
    burn_in: int = 200,
    thin: int = 20,
    seed: int = 0,
) -> dict[str, Any]:
    """A family with exact answers: ``alignment.fasta`` Gibbs-sampled from a planted Potts model,
    ``distances.tsv`` (``i j score dist``: 4 for planted pairs, 12 otherwise, so any threshold in
    between gives the planted graph), ``dms.csv`` (every single mutant of the wild type, scored by its
    true energy change) and ``planted.h5`` (the model). The wild type, written first (the focus), is
    the highest-energy sample with any gaps filled by the best state at that site, so DMS numbering is
    simply column + 1."""
    from .msa import ALPHABET, GAP, decode
    from .simulate import gibbs_sample, planted_potts

    out = Path(out_dir)
    model, truth = planted_potts(
        length,
        n_contacts=n_contacts,
        coupling_scale=coupling_scale,
        field_scale=field_scale,
        gap_penalty=gap_penalty,
        seed=seed,
    )
    seqs = gibbs_sample(model, n_sequences, burn_in=burn_in, thin=thin, seed=seed + 1)
    best = int(np.argmax(model.energy(seqs)))
    wild = seqs[best].copy()
    for col in np.flatnonzero(wild == GAP):
        candidates = np.repeat(wild[None], GAP, axis=0)
        candidates[:, col] = np.arange(GAP)
        wild[col] = int(np.argmax(model.energy(candidates)))
    seqs = np.concatenate([wild[None], np.delete(seqs, best, axis=0)])
    with atomic_path(out / "alignment.fasta") as tmp, open(tmp, "w") as handle:
        handle.write(f">focus/1-{length} wild type\n{decode(wild)}\n")
        for k, row in enumerate(seqs[1:]):
            handle.write(f">sample{k}\n{decode(row)}\n")
    i, j = np.triu_indices(length, k=1)
    table = pd.DataFrame({"i": i + 1, "j": j + 1, "score": 0.0, "dist": np.where(truth[i, j], 4.0, 12.0)})
    with atomic_path(out / "distances.tsv") as tmp:
        table.to_csv(tmp, sep=" ", index=False, header=False)
    mutations = [[(col, int(wild[col]), a)] for col in range(length) for a in range(GAP) if a != wild[col]]
    dms_table = pd.DataFrame(
        {
            "mutant": [f"{ALPHABET[m[0][1]]}{m[0][0] + 1}{ALPHABET[m[0][2]]}" for m in mutations],
            "score": effects.mutation_effects(model, wild, mutations),
        }
    )
    with atomic_path(out / "dms.csv") as tmp:
        dms_table.to_csv(tmp, index=False)
    save_potts(model, out / "planted.h5")
    return {
        "length": length,
        "n_sequences": len(seqs),
        "n_contacts": int(truth.sum() // 2),
        "n_mutants": len(dms_table),
        "wild_type": decode(wild),
        "gap_fraction": float((seqs == GAP).mean()),
    }


# ------------------------------------------------------------------------------------------ prepare
def prepare(
    alignment: str | os.PathLike,
    out: str | os.PathLike,
    *,
    fmt: str | None = None,
    focus: int | str = 0,
    first_residue: int | None = None,
    max_gap_fraction: float | None = 0.5,
    drop_focus_gaps: bool = False,
    identity: float = 0.8,
) -> dict[str, Any]:
    """Read, filter and weight an alignment; write ``out`` (HDF5) and return a summary record."""
    import h5py

    msa = read_msa(
        alignment,
        fmt=fmt,
        focus=focus,
        first_residue=first_residue,
        max_gap_fraction=max_gap_fraction,
        drop_focus_gaps=drop_focus_gaps,
    )
    weights = sequence_weights(msa.seqs, identity)
    with atomic_path(out) as tmp, h5py.File(tmp, "w") as handle:
        handle.create_dataset("seqs", data=msa.seqs, compression="gzip")
        handle.create_dataset("weights", data=weights)
        handle.create_dataset("positions", data=msa.positions)
        handle.create_dataset("columns", data=msa.columns)
        if msa.match_positions is not None:
            handle.create_dataset("match_positions", data=msa.match_positions)
        handle.create_dataset("names", data=np.array(msa.names, dtype=object), dtype=h5py.string_dtype())
        handle.attrs.update(
            focus=msa.focus,
            focus_sequence=msa.focus_sequence,
            first_residue=msa.first_residue,
            source=str(alignment),
            identity=identity,
        )
    return {
        "n_seqs": msa.n_seqs,
        "length": msa.length,
        "columns_read": int(msa.columns.max() + 1) if msa.length else 0,
        "neff": neff(weights),
        "focus": msa.names[msa.focus],
        "focus_length": len(msa.focus_sequence),
    }


def load_prepared(path: str | os.PathLike) -> tuple[MSA, np.ndarray]:
    import h5py

    path = Path(path)
    if not path.is_file():
        raise InputError(f"prepared alignment {path} does not exist")
    with h5py.File(path, "r") as handle:
        msa = MSA(
            seqs=handle["seqs"][()],
            names=tuple(n.decode() if isinstance(n, bytes) else str(n) for n in handle["names"][()]),
            focus=int(handle.attrs["focus"]),
            focus_sequence=str(handle.attrs["focus_sequence"]),
            positions=handle["positions"][()],
            columns=handle["columns"][()],
            first_residue=int(handle.attrs["first_residue"]),
            match_positions=handle["match_positions"][()] if "match_positions" in handle else None,
        )
        weights = handle["weights"][()]
    return msa, weights


# ---------------------------------------------------------------------------------------------- fit
def fit_model(
    name: str, seqs: np.ndarray, weights: np.ndarray, params: dict[str, Any] | None = None, *, seed: int = 0,
    progress: bool = True,
) -> PottsModel | vae.SequenceVAE:  # fmt: skip
    """Dispatch to a model's ``fit`` with ``params`` as keyword arguments."""
    params = dict(params or {})
    if name == "pssm":
        return pssm.fit(seqs, weights, **params)
    if name == "mg":
        return mg.fit(seqs, weights, **params)
    if name == "potts":
        return potts.fit(seqs, weights, progress=progress, **params)
    if name == "factored_attention":
        return factored_attention.fit(seqs, weights, seed=seed, progress=progress, **params)
    if name == "vae":
        return vae.fit(seqs, weights, seed=seed, progress=progress, **params)
    raise InputError(f"unknown protein model {name!r}; valid: {', '.join(MODELS)}")


def model_path(out_dir: str | os.PathLike, name: str) -> Path:
    """``model.keras`` for the VAE, ``model.h5`` (fields, couplings, extras) for the others."""
    return Path(out_dir) / ("model.keras" if name == "vae" else "model.h5")


def fit(
    prepared: str | os.PathLike,
    name: str,
    out: str | os.PathLike,
    *,
    params: dict[str, Any] | None = None,
    seed: int = 0,
    record: str | os.PathLike | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Fit model ``name`` on a prepared alignment, save it to ``out`` (suffix per ``model_path``);
    ``threads`` bounds TensorFlow's pools or the numba kernels (Potts), whichever the model uses."""
    if threads is not None:
        from ..runtime import limit_threads

        limit_threads(threads, tensorflow=name in TF_MODELS)
    if name in TF_MODELS:  # PSSM, MG and Potts are deterministic and need no TensorFlow start-up
        from ..runtime import set_seed

        set_seed(seed, deterministic=False)
    msa, weights = load_prepared(prepared)
    start = time.perf_counter()
    model = fit_model(name, msa.seqs, weights, params, seed=seed)
    seconds = time.perf_counter() - start
    if isinstance(model, vae.SequenceVAE):
        vae.save_vae(model, out)
        summary = {"model": name, "final_loss": model.history[-1] if model.history else None}
    else:
        save_potts(model, out)
        summary = {k: v for k, v in model.info.items() if isinstance(v, str | int | float)}
    summary.update(seconds=seconds, n_seqs=msa.n_seqs, length=msa.length, neff=neff(weights), seed=seed)
    if record is not None:
        write_json(record, summary)
    return summary


def load_model(path: str | os.PathLike) -> PottsModel | vae.SequenceVAE:
    return vae.load_vae(path) if str(path).endswith(".keras") else load_potts(path)


# ----------------------------------------------------------------------------------------- evaluate
def true_distances(
    msa: MSA,
    *,
    pdb: str | os.PathLike | None = None,
    chain: str | None = None,
    mapping: str | dict = "align",
    distance_table: str | os.PathLike | None = None,
    table_index: str = "columns",
) -> np.ndarray:
    """``(L, L)`` distances over the kept columns from a PDB file or a distance table (one of them)."""
    if (pdb is None) == (distance_table is None):
        raise InputError("give exactly one of a PDB file and a distance table for the true contacts")
    if pdb is not None:
        return column_distances(read_pdb(pdb, chain), msa, mapping)
    return read_distance_table(distance_table, msa, index=table_index)


def evaluate(
    prepared: str | os.PathLike,
    model_file: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    pdb: str | os.PathLike | None = None,
    chain: str | None = None,
    mapping: str | dict = "align",
    distance_table: str | os.PathLike | None = None,
    table_index: str = "columns",
    threshold: float = 8.0,
    dms: str | os.PathLike | None = None,
    dms_score: str = "score",
    n_samples: int = 50,
    label: str = "",
) -> dict[str, Any]:
    """Write contacts.tsv, precision.tsv, contact_map.png, precision.png (when the model has couplings
    and a structure is given), dms.tsv + dms.png (with a DMS table), attention.png (factored attention),
    and metrics.json; return the metrics."""
    out_dir = Path(out_dir)
    msa, _ = load_prepared(prepared)
    model = load_model(model_file)
    metrics: dict[str, Any] = {"model": label or Path(model_file).parent.name, "length": msa.length}
    has_structure = pdb is not None or distance_table is not None
    if isinstance(model, PottsModel) and model.J is not None and has_structure:
        distances = true_distances(
            msa, pdb=pdb, chain=chain, mapping=mapping, distance_table=distance_table, table_index=table_index
        )
        truth, known = contact_truth(distances, threshold)
        scores = contact_eval.contact_map(model.J)
        index = msa.columns
        table = contact_eval.precision_table(scores, truth, known=known, index=index)
        write_tsv(out_dir / "precision.tsv", table)
        write_tsv(
            out_dir / "contacts.tsv",
            contact_eval.contact_table(
                scores, distances, threshold=threshold, columns=msa.columns, positions=msa.positions
            ),
        )
        for row in table.itertuples():
            metrics[f"precision_{row.top}_sep{row.min_separation}"] = row.precision
        plots.plot_contact_map(
            scores, truth, out_dir / "contact_map.png", known=known, index=index, title=label
        )
        curve = contact_eval.precision_curve(scores, truth, known=known, index=index, max_k=5 * msa.length)
        plots.plot_precision_curves({label or "model": curve}, out_dir / "precision.png", length=msa.length)
        if "attention" in model.arrays:
            per_head = factored_attention.head_contact_precision(
                model, truth, msa.length // 2, known=known, index=index
            )
            metrics["best_head_precision_L2"] = float(np.nanmax(per_head))
            plots.plot_attention_heads(
                factored_attention.head_maps(model), out_dir / "attention.png", order=np.argsort(-per_head)
            )
    if dms is not None:
        frame = read_dms(dms, msa, score_column=dms_score)
        wild_type = msa.seqs[msa.focus]
        if isinstance(model, vae.SequenceVAE):
            predicted = vae.mutation_effects(model, wild_type, list(frame["mutations"]), n_samples=n_samples)
        else:
            predicted = effects.mutation_effects(model, wild_type, list(frame["mutations"]))
        frame["predicted"] = predicted
        rho = effects.spearman(predicted, frame["score"].to_numpy())
        scored = np.isfinite(predicted) & np.isfinite(frame["score"].to_numpy(dtype=float))
        metrics.update(dms_spearman=rho, dms_n=int(scored.sum()), dms_total=len(frame), dms_score=dms_score)
        metrics.update(coverage_counts(frame["coverage"]))
        write_tsv(out_dir / "dms.tsv", frame.drop(columns=["mutations"]))
        plots.plot_dms_scatter(
            predicted, frame["score"].to_numpy(), out_dir / "dms.png", rho=rho, label=label or "model"
        )
    write_json(out_dir / "metrics.json", metrics)
    return metrics


def evaluate_trial(
    prepared: str | os.PathLike,
    model_dir: str | os.PathLike,
    fit_record: str | os.PathLike,
    kind: str,
    metrics_out: str | os.PathLike,
    figures_dir: str | os.PathLike,
    *,
    truth: dict[str, Any],
    label: str = "",
    n_samples: int = 50,
) -> dict[str, Any]:
    """:func:`evaluate` for the workflow: tables and figures land in ``figures_dir`` (replaced as a
    whole, atomically), the metrics plus the fit's record (seed, seconds, Neff, final loss) in
    ``metrics_out``. ``truth`` holds evaluate's structure / DMS keywords (pdb, distance_table, dms, ...)."""
    import json

    from ..io import atomic_dir

    record = json.loads(Path(fit_record).read_text())
    model_file = model_path(model_dir, kind)
    with atomic_dir(figures_dir) as folder:
        metrics = evaluate(prepared, model_file, folder, label=label, n_samples=n_samples, **truth)
        (folder / "metrics.json").unlink()  # kept once, beside the fit record's values
    metrics.update(
        kind=kind,
        seed=record.get("seed"),
        fit_seconds=record.get("seconds"),
        neff=record.get("neff"),
        n_seqs=record.get("n_seqs"),
        final_loss=record.get("final_loss"),
    )
    write_json(metrics_out, metrics)
    return metrics
