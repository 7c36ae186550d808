"""Genome-browser tracks with real pyBigWig: overlapping windows averaged base by base (reverse-complement
copies mapped back), sorted non-overlapping intervals, the FASTA's chromosome sizes as the header; the job
on a tiny genome with two trial models writes tracks whose values are the ensemble's predictions and
contributions at the windows' coordinates, and a tracks.txt listing every bigWig; the plan gates it."""

from __future__ import annotations

import logging
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import pyBigWig
import pytest

from cislens.data.bigwig import write_bigwig
from cislens.data.dataset import Dataset, Split, write_dataset
from cislens.data.genome import chrom_sizes
from cislens.errors import InputError
from cislens.tracks.bigwig import window_intervals
from cislens.tracks.layout import file_stems, read_listing

BASES = np.array(list("ACGT"))


def _expected(chrom, start, end, values, strand, sizes) -> dict[str, np.ndarray]:
    """Brute force: per chromosome, each base's mean over the windows covering it (NaN where none)."""
    sums = {c: np.zeros(n) for c, n in sizes.items()}
    counts = {c: np.zeros(n) for c, n in sizes.items()}
    for i in range(len(chrom)):
        v = values[i]
        if np.ndim(v) == 1 and strand is not None and strand[i] == "-":
            v = v[::-1]
        sums[chrom[i]][start[i] : end[i]] += v
        counts[chrom[i]][start[i] : end[i]] += 1
    with np.errstate(invalid="ignore"):
        return {c: np.where(counts[c] > 0, sums[c] / counts[c], np.nan) for c in sizes}


def _read_back(path: Path, sizes: dict[str, int]) -> dict[str, np.ndarray]:
    with pyBigWig.open(str(path)) as bw:
        return {c: np.array(bw.values(c, 0, n), dtype=np.float64) for c, n in sizes.items()}


def _assert_track(path: Path, expected: dict[str, np.ndarray]) -> None:
    sizes = {c: len(v) for c, v in expected.items()}
    got = _read_back(path, sizes)
    for c in sizes:
        np.testing.assert_array_equal(np.isnan(got[c]), np.isnan(expected[c]), err_msg=c)
        covered = ~np.isnan(expected[c])
        np.testing.assert_allclose(got[c][covered], expected[c][covered], rtol=1e-5, atol=1e-6, err_msg=c)


def _write_fasta(path: Path, seqs: dict[str, str]) -> None:
    with open(path, "w") as handle:
        for name, seq in seqs.items():
            handle.write(f">{name}\n")
            for i in range(0, len(seq), 60):
                handle.write(seq[i : i + 60] + "\n")


# ---------------------------------------------------------------------------- intervals and the header


def test_overlaps_are_averaged_into_sorted_disjoint_intervals(tmp_path: Path) -> None:
    sizes = {"chr1": 60, "chr2": 40}
    chrom = np.array(["chr1", "chr1", "chr1", "chr2"])
    start, end = np.array([10, 15, 40, 0]), np.array([20, 25, 45, 5])
    found = window_intervals(chrom, start, end, np.array([1.0, 3.0, 5.0, 7.0]), sizes)
    assert found.chrom.tolist() == ["chr1"] * 4 + ["chr2"]
    assert found.start.tolist() == [10, 15, 20, 40, 0]
    assert found.end.tolist() == [15, 20, 25, 45, 5]
    assert found.value.tolist() == [1.0, 2.0, 3.0, 5.0, 7.0]  # [15, 20) is the mean of 1 and 3

    # Random per-base windows on both strands, a reverse-complement copy of one among them.
    rng = np.random.default_rng(0)
    sizes = {"chr2": 300, "chr1": 500}  # header order need not be sorted
    n, width = 40, 25
    chrom = rng.choice(list(sizes), n)
    start = np.array([rng.integers(0, sizes[c] - width) for c in chrom])
    strand = rng.choice(["+", "-"], n)
    values = rng.normal(size=(n, width))
    chrom, start, strand = np.append(chrom, chrom[0]), np.append(start, start[0]), np.append(strand, "-")
    strand[0] = "+"
    values = np.vstack([values, values[0][::-1] + 1.0])  # the copy reads the window backwards, +1
    end = start + width
    found = window_intervals(chrom, start, end, values, sizes, strand)
    order = {c: i for i, c in enumerate(sizes)}
    key = [(order[c], s) for c, s in zip(found.chrom, found.start, strict=True)]
    assert key == sorted(key)
    same = found.chrom[1:] == found.chrom[:-1]
    assert np.all(found.start[1:][same] >= found.end[:-1][same])  # no overlap
    assert np.all(found.end > found.start)
    path = tmp_path / "random.bw"
    write_bigwig(path, sizes, found)
    expected = _expected(chrom, start, end, values, strand, sizes)
    _assert_track(path, expected)
    with pyBigWig.open(str(path)) as bw:
        for c in sizes:
            rows = found.chrom == c
            assert [(s, e) for s, e, _ in bw.intervals(c)] == list(
                zip(found.start[rows].tolist(), found.end[rows].tolist(), strict=True)
            )
    # The reverse-complement copy: mapped back it gives each base of window 0 its value + 1.
    s0 = start[0]
    alone = np.ones(width, dtype=bool)
    for i in range(1, n):
        if chrom[i] == chrom[0]:
            lo, hi = max(start[i], s0), min(end[i], s0 + width)
            alone[max(0, lo - s0) : max(0, hi - s0)] = False
    got = _read_back(path, sizes)[chrom[0]][s0 : s0 + width]
    np.testing.assert_allclose(got[alone], values[0][alone] + 0.5, rtol=1e-5)


def test_bad_windows_fail_in_one_line() -> None:
    sizes = {"chr1": 100}
    with pytest.raises(InputError, match="chrX"):
        window_intervals(np.array(["chrX"]), np.array([0]), np.array([10]), np.array([1.0]), sizes)
    with pytest.raises(InputError, match="outside the chromosome"):
        window_intervals(np.array(["chr1"]), np.array([95]), np.array([105]), np.array([1.0]), sizes)


def test_header_is_the_fasta_chromosome_sizes(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    fasta = tmp_path / "genome.fa"
    _write_fasta(fasta, {name: "".join(rng.choice(BASES, n)) for name, n in [("chrB", 130), ("chrA", 77)]})
    sizes = chrom_sizes(fasta)
    assert sizes == {"chrB": 130, "chrA": 77}
    intervals = window_intervals(np.array(["chrA"]), np.array([5]), np.array([15]), np.array([0.5]), sizes)
    path = tmp_path / "header.bw"
    write_bigwig(path, sizes, intervals)
    with pyBigWig.open(str(path)) as bw:
        assert bw.isBigWig()
        assert bw.chroms() == sizes
        assert bw.intervals("chrB") is None or len(bw.intervals("chrB")) == 0
        assert bw.intervals("chrA") == ((5, 15, 0.5),)


# ---------------------------------------------------------------------------- the job


def _tiny_model(seed: int, width: int, n_tasks: int):
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((width, 4))
    hidden = keras.layers.Conv1D(4, 5, activation="relu")(inputs)
    pooled = keras.layers.GlobalMaxPooling1D()(hidden)
    logits = keras.layers.Dense(n_tasks, name="logits")(pooled)
    return keras.Model(inputs, keras.layers.Activation("sigmoid")(logits))


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """A 2-chromosome genome; test windows (overlapping, with reverse-complement copies, and one shuffled
    negative on a peak's coordinates); two trial models; the job's outputs."""
    from cislens.data import onehot
    from cislens.tracks.run import tracks_variant

    folder = tmp_path_factory.mktemp("tracks")
    rng = np.random.default_rng(2)
    genome = {"chr1": "".join(rng.choice(BASES, 400)), "chr2": "".join(rng.choice(BASES, 300))}
    fasta = folder / "genome.fa"
    _write_fasta(fasta, genome)
    width = 40
    chrom = np.array(["chr2", "chr1", "chr1", "chr1"])
    start = np.array([100, 10, 30, 200], dtype=np.int64)  # chr1 10-50 and 30-70 overlap
    end = start + width
    x = onehot.one_hot([genome[c][s:e] for c, s, e in zip(chrom, start, end, strict=True)], dtype=np.uint8)
    shuffled = x[1][rng.permutation(width)][None]  # a shuffled negative borrowing chr1:10-50
    both = np.concatenate([x, onehot.reverse_complement(x), shuffled])
    test = Split(
        x=both,
        y=np.r_[np.tile([[1, 0], [0, 1], [1, 1], [0, 0]], (2, 1)), [[0, 0]]].astype(np.float32),
        chrom=np.concatenate([chrom, chrom, chrom[1:2]]),
        start=np.concatenate([start, start, start[1:2]]),
        end=np.concatenate([end, end, end[1:2]]),
        strand=np.array(["+"] * 4 + ["-"] * 4 + ["+"]),
        name=np.array([f"w{i}" for i in range(8)] + ["w1_shuf0"]),
    )
    dataset = folder / "dataset.h5"
    write_dataset(
        dataset, Dataset({"train": test, "valid": test, "test": test}, ["TF one", "TF/two"], "peaks")
    )
    paths = []
    for seed in (0, 1):
        path = folder / f"t{seed}.keras"
        _tiny_model(seed, width, 2).save(path)
        paths.append(str(path))
    out = folder / "out" / "tracks"
    record = tracks_variant(
        dataset_path=str(dataset),
        model_paths=paths,
        genome=str(fasta),
        settings={},
        attribution={"methods": ["saliency"]},
        output_dir=str(out),
        label="d m__standard",
        log=logging.getLogger("test"),
    )
    return {
        "out": out,
        "record": record,
        "models": paths,
        "test": test,
        "genomic": np.arange(8),
        "sizes": {"chr1": 400, "chr2": 300},
    }


def test_prediction_tracks_are_the_ensemble_mean_at_each_window(job) -> None:
    from cislens.models.predict import predict_output
    from cislens.models.zoo import load_model

    test, rows = job["test"], job["genomic"]
    assert job["record"]["n_windows"] == 8 and job["record"]["n_left_out"] == 1  # the shuffled negative
    models = [load_model(p) for p in job["models"]]
    mean = np.mean([predict_output(m, test.x[rows]) for m in models], axis=0)  # (8, 2)
    for t, stem in enumerate(file_stems(["TF one", "TF/two"])):
        expected = _expected(
            test.chrom[rows], test.start[rows], test.end[rows], mean[:, t], None, job["sizes"]
        )
        _assert_track(job["out"] / f"prediction.{stem}.bw", expected)
    # A window overlapping no other: its span is the mean over trials and its two strands.
    with pyBigWig.open(str(job["out"] / "prediction.TF_one.bw")) as bw:
        got = np.array(bw.values("chr2", 100, 140))
    np.testing.assert_allclose(got, (mean[0, 0] + mean[4, 0]) / 2, rtol=1e-5)


def test_contribution_tracks_are_the_mean_observed_base_attribution(job) -> None:
    from cislens.attribution.run import compute_attribution
    from cislens.models.zoo import load_model

    test, rows = job["test"], job["genomic"]
    x = test.x[rows]
    models = [load_model(p) for p in job["models"]]
    settings = {"methods": ["saliency"]}
    for t, stem in enumerate(file_stems(["TF one", "TF/two"])):
        per_base = np.mean(
            [
                (compute_attribution(m, x, "saliency", settings, t, progress=False) * x).sum(-1)
                for m in models
            ],
            axis=0,
        )
        expected = _expected(
            test.chrom[rows], test.start[rows], test.end[rows], per_base, test.strand[rows], job["sizes"]
        )
        _assert_track(job["out"] / f"contribution.{stem}.bw", expected)


def test_listing_names_every_bigwig(job) -> None:
    stanzas = read_listing(job["out"] / "tracks.txt")
    written = sorted(p.name for p in job["out"].glob("*.bw"))
    assert sorted(s["bigDataUrl"] for s in stanzas) == written == sorted(job["record"]["files"])
    assert len(written) == 4  # prediction and contribution of each of the two tasks
    assert all(s["type"] == "bigWig" for s in stanzas)
    names = [s["track"] for s in stanzas]
    assert len(set(names)) == len(names) and all(n.replace("_", "").isalnum() for n in names)
    assert all(len(s["shortLabel"]) <= 17 and s["longLabel"] for s in stanzas)
    for name in written:
        with pyBigWig.open(str(job["out"] / name)) as bw:
            assert bw.isBigWig() and bw.chroms() == job["sizes"]


# ---------------------------------------------------------------------------- the plan


def _config(**extra) -> dict:
    return {
        "datasets": {
            "multi": {"kind": "synthetic_multitask", "n": 100},
            "genome": {"kind": "synthetic_genome", "valid_chroms": ["chr2"], "test_chroms": ["chr3"]},
        },
        "models": {"m": {"arch": "cnn"}},
        "regimes": {"standard": {"kind": "standard"}},
        "variants": ["m__standard"],
        **extra,
    }


def test_tracks_apply_only_to_datasets_on_a_genome() -> None:
    from cislens.plan import KINDS, build_plan, tracks_apply

    assert {name for name, kind in KINDS.items() if kind.applies("tracks")} == {"peaks", "synthetic_genome"}
    config = _config()
    plan = build_plan(config, preflight=False)
    assert [d for d, e in plan.items() if tracks_apply(config, e["settings"])] == ["genome"]
    off = _config(tracks={"enabled": False})
    plan = build_plan(off, preflight=False)
    assert not any(tracks_apply(off, e["settings"]) for e in plan.values())


@pytest.mark.parametrize(
    ("tracks", "models", "message"),
    [
        ({"method": "gradcam"}, None, "tracks.method"),
        ({"max_windows": 0}, None, "tracks.max_windows"),
        ({"method": "deep_lift_shap"}, {"m": {"arch": "cnn_attention"}}, "no rule for attention"),
    ],
)
def test_bad_tracks_settings_fail_in_one_line(tracks, models, message) -> None:
    from cislens.plan import build_plan

    config = _config(tracks=tracks)
    if models:
        config["models"] = models
    with pytest.raises(InputError, match=message) as error:
        build_plan(config)
    assert "\n" not in str(error.value)
