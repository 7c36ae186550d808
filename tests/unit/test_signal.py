"""bigWig signal targets, exclusion regions and the synthetic genome's known signal (real pyBigWig)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig
import pytest

from cislens.data.genome_synth import make_synthetic_genome, site_amplitudes
from cislens.data.peaks_dataset import build_peaks_dataset, overlaps_any, read_planted
from cislens.data.signal import central_span, normalise, window_targets
from cislens.errors import InputError

from .test_genome_synth import _motifs  # the two-TF motifs of the synthetic-genome tests


def _bigwig(path: Path, sizes: dict[str, int], entries: list[tuple[str, int, int, float]]) -> Path:
    handle = pyBigWig.open(str(path), "w")
    handle.addHeader(list(sizes.items()))
    for chrom, start, end, value in entries:
        handle.addEntries([chrom], [start], ends=[end], values=[value])
    handle.close()
    return path


def test_window_targets_equal_the_track_by_hand(tmp_path: Path) -> None:
    sizes = {"chr1": 1000, "chr2": 500}
    # chr1:100-150 = 2, chr1:150-160 = 10, chr2:0-50 = 1; everything else uncovered (counts as 0)
    bw = _bigwig(
        tmp_path / "s.bw", sizes, [("chr1", 100, 150, 2.0), ("chr1", 150, 160, 10.0), ("chr2", 0, 50, 1.0)]
    )
    windows = pd.DataFrame(
        {"chrom": ["chr1", "chr1", "chr2"], "start": [100, 120, 0], "end": [200, 220, 100]}
    )
    by_hand = np.zeros((3, 100))
    by_hand[0, :50], by_hand[0, 50:60] = 2, 10
    by_hand[1, :30], by_hand[1, 30:40] = 2, 10
    by_hand[2, :50] = 1
    assert np.allclose(window_targets(bw, windows, "mean"), by_hand.mean(axis=1))
    assert np.allclose(window_targets(bw, windows, "sum"), by_hand.sum(axis=1))
    assert np.allclose(window_targets(bw, windows, "max"), by_hand.max(axis=1))
    lo, hi = central_span(windows["start"].to_numpy(), windows["end"].to_numpy(), 20)
    assert (hi - lo == 20).all() and lo.tolist() == [140, 160, 40]
    centre = window_targets(bw, windows, "mean", width=20)  # chr1:140-160 -> 10 x 2, 10 x 10
    assert np.allclose(centre, [6.0, 0.0, 0.5])
    with pyBigWig.open(str(bw)) as handle:  # agrees with pyBigWig's own exact statistic where covered
        assert centre[0] == pytest.approx(handle.stats("chr1", 140, 160, type="mean", exact=True)[0])
    with pytest.raises(InputError, match="stat must be one of"):
        window_targets(bw, windows, "median")


def test_window_targets_do_not_depend_on_chunks_or_threads(tmp_path: Path, monkeypatch) -> None:
    import cislens.data.signal as signal

    rng = np.random.default_rng(3)
    sizes = {"chr1": 5000, "chr2": 3000}
    entries = [(c, s, s + 7, float(rng.gamma(2))) for c in sizes for s in range(0, sizes[c] - 7, 13)]
    bw = _bigwig(tmp_path / "r.bw", sizes, entries)
    chrom = rng.choice(["chr1", "chr2"], 300)
    start = rng.integers(0, 2800, 300)
    windows = pd.DataFrame({"chrom": chrom, "start": start, "end": start + 150})  # unsorted, overlapping
    whole = {stat: window_targets(bw, windows, stat, width=60, threads=1) for stat in ("mean", "max")}
    monkeypatch.setattr(signal, "CHUNK", 7)  # many small reads
    for stat, expected in whole.items():
        assert np.array_equal(window_targets(bw, windows, stat, width=60, threads=2), expected)
    with pyBigWig.open(str(bw)) as handle:  # and each equals the track read window by window
        one = np.nan_to_num(
            handle.values(
                "chr2", int(start[chrom == "chr2"][0]) + 45, int(start[chrom == "chr2"][0]) + 105, numpy=True
            )
        )
    assert whole["mean"][np.flatnonzero(chrom == "chr2")[0]] == pytest.approx(one.mean())


def test_normalise_uses_the_training_rows_only() -> None:
    y = np.array([[0.0], [1.0], [3.0], [100.0]])
    out, stats = normalise(y, np.array([0, 1, 2]), log1p=True, method="zscore", tasks=["t"])
    logged = np.log1p(y[:3, 0])
    assert stats["t"]["mean"] == pytest.approx(logged.mean()) and stats["t"]["sd"] == pytest.approx(
        logged.std()
    )
    assert out.dtype == np.float32 and out[:3, 0].mean() == pytest.approx(0, abs=1e-6)
    assert out[3, 0] == pytest.approx((np.log1p(100) - logged.mean()) / logged.std(), rel=1e-5)
    with pytest.raises(InputError, match="negative values"):
        normalise(-y, np.array([0, 1]), log1p=True, method="zscore", tasks=["t"])
    with pytest.raises(InputError, match="constant"):
        normalise(np.ones((3, 1)), np.array([0, 1]), log1p=False, method="zscore", tasks=["t"])


@pytest.fixture(scope="module")
def genome(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("signal_genome")
    signal = {"amplitudes": {"TFA": 1.0, "TFB": 4.0}, "footprint": 20, "background": 0.5, "noise": 0.0}
    return make_synthetic_genome(
        out, _motifs(), n_chroms=3, chrom_length=40_000, peaks_per_tf=40, seed=5, signal=signal
    )


def test_synthetic_signal_is_the_known_function_of_the_sites(genome: dict) -> None:
    planted = read_planted(genome["planted"])
    assert site_amplitudes(["TFA", "TFB"]) == {"TFA": 1.0, "TFB": 2.0}  # the default amplitudes
    with pyBigWig.open(genome["signal"]) as handle:
        assert handle.chroms() == {"chr1": 40_000, "chr2": 40_000, "chr3": 40_000}
        for chrom in ("chr1", "chr2", "chr3"):
            values = np.asarray(handle.values(chrom, 0, 40_000, numpy=True), dtype=np.float64)
            expected = np.full(40_000, 0.5)
            for row in planted[planted["chrom"] == chrom].itertuples():
                centre = (row.start + row.end) // 2
                expected[centre - 20 : centre + 20] += {"TFA": 1.0, "TFB": 4.0}[row.motif]
            assert np.allclose(values, expected, atol=1e-5), chrom


def test_signal_dataset_regresses_on_the_track_and_drops_excluded_regions(
    genome: dict, tmp_path: Path
) -> None:
    files = {tf: str(Path(genome["planted"]).parent / "peaks" / f"{tf}.narrowPeak") for tf in ("TFA", "TFB")}
    blacklist = tmp_path / "blacklist.bed"
    blacklist.write_text("chr1\t0\t15000\nchr3\t30000\t40000\n")
    kwargs = dict(width=100, valid_chroms=["chr2"], test_chroms=["chr3"], seed=1)
    plain = build_peaks_dataset(files, genome["genome"], str(tmp_path / "w0"), **kwargs)
    ds = build_peaks_dataset(
        files,
        genome["genome"],
        str(tmp_path / "w1"),
        signal={"sig": genome["signal"]},
        signal_target={"stat": "mean", "log1p": False, "normalise": "none"},
        exclude_regions=[str(blacklist)],
        **kwargs,
    )
    assert ds.tasks == ds.summary["tasks"] == ["sig"] and ds.summary["task_type"] == "regression"
    assert ds.summary["peak_sets"] == ["TFA", "TFB"]
    excluded = pd.DataFrame({"chrom": ["chr1", "chr3"], "start": [0, 30000], "end": [15000, 40000]})
    for split in ds.splits.values():  # no window or negative overlaps the blacklist ...
        rows = pd.DataFrame({"chrom": split.chrom, "start": split.start, "end": split.end})
        assert not overlaps_any(rows, excluded).any()
        # ... and each target is the track's mean over its window
        assert np.allclose(split.y[:, 0], window_targets(genome["signal"], rows, "mean"), atol=1e-5)
    dropped = ds.summary["dropped_excluded_regions"]
    assert dropped > 0 and ds.summary["positives"] == plain.summary["positives"] - dropped
    assert ds.summary["dropped_excluded_negatives"] == 0  # gc-matched negatives avoid the regions
    record = ds.summary["signal"]["sig"]
    assert (record["stat"], record["log1p"], record["mean"], record["sd"]) == ("mean", False, 0.0, 1.0)
    peaks_y = ds.splits["train"].y[:, 0]
    assert peaks_y.max() > 1.5 and np.isclose(peaks_y.min(), 0.5, atol=1e-5)  # sites vs background only

    z = build_peaks_dataset(
        files, genome["genome"], str(tmp_path / "w2"), signal={"sig": genome["signal"]}, **kwargs
    )
    assert abs(float(z.splits["train"].y.mean())) < 1e-4 and z.summary["signal"]["sig"]["log1p"] is True


def test_signal_errors_are_one_line(genome: dict, tmp_path: Path) -> None:
    files = {tf: str(Path(genome["planted"]).parent / "peaks" / f"{tf}.narrowPeak") for tf in ("TFA", "TFB")}
    short = _bigwig(tmp_path / "short.bw", {"chr1": 40_000, "chr2": 40_000}, [("chr1", 0, 100, 1.0)])
    kwargs = dict(width=100, valid_chroms=["chr2"], test_chroms=["chr3"], seed=1)
    with pytest.raises(InputError, match=r"short\.bw: signal bigWig has no contig chr3") as err:
        build_peaks_dataset(files, genome["genome"], str(tmp_path / "w"), signal={"s": str(short)}, **kwargs)
    assert "\n" not in str(err.value)
    with pytest.raises(InputError, match="not a bigWig"):
        build_peaks_dataset(
            files, genome["genome"], str(tmp_path / "w"), signal={"s": genome["planted"]}, **kwargs
        )
    with pytest.raises(InputError, match="dinuc_shuffle"):
        build_peaks_dataset(
            files,
            genome["genome"],
            str(tmp_path / "w"),
            signal={"s": genome["signal"]},
            negatives="dinuc_shuffle",
        )


def test_gia_effects_are_scored_against_the_planted_amplitudes(tmp_path: Path) -> None:
    from cislens.gia.importance import amplitude_agreement
    from cislens.report.summary import trial_row

    occupancy = pd.DataFrame(
        {
            "motif": ["A", "A", "B", "B", "C", "C", "other"],
            "strand": ["+", "-"] * 3 + ["+"],
            "effect_mean": [0.1, 0.3, 0.9, 1.1, 0.5, 0.7, 9.0],  # means A 0.2, B 1.0, C 0.6
        }
    )
    assert amplitude_agreement(occupancy, {"A": 1, "B": 3, "C": 2}) == pytest.approx(1.0)
    assert amplitude_agreement(occupancy, {"A": 3, "B": 1, "C": 2}) == pytest.approx(-1.0)
    assert amplitude_agreement(occupancy, {"A": 1, "B": 2}) is None  # two motifs rank nothing
    trial = tmp_path / "v__standard" / "t0"
    (trial / "gia").mkdir(parents=True)
    (trial / "metrics.json").write_text('{"pearson_mean": 0.9, "epochs_trained": 3}')
    occupancy.to_csv(trial / "gia" / "occupancy.tsv", sep="\t", index=False)
    row = trial_row(trial, amplitudes={"A": 1, "B": 2, "C": 3})
    assert row["test_pearson"] == 0.9 and row["gia_amplitude_spearman"] == pytest.approx(0.5)
    assert "gia_amplitude_spearman" not in trial_row(trial)  # no planted signal: no column


def test_a_peaks_config_with_signal_builds_a_regression_dataset(genome: dict, tmp_path: Path) -> None:
    """Through the config: schema defaults for signal_target, prepare's build and its validation."""
    from cislens.data.prepare import build
    from cislens.plan import check_settings, dataset_settings, prepare_inputs

    folder = Path(genome["planted"]).parent
    blacklist = tmp_path / "blacklist.bed"
    blacklist.write_text("chr1\t0\t15000\n")
    config = {
        "datasets": {
            "d": {
                "kind": "peaks",
                "peaks": {tf: str(folder / "peaks" / f"{tf}.narrowPeak") for tf in ("TFA", "TFB")},
                "genome": genome["genome"],
                "signal": {"coverage": genome["signal"]},
                "exclude_regions": [str(blacklist)],
                "width": 100,
                "valid_chroms": ["chr2"],
                "test_chroms": ["chr3"],
            }
        },
        "variants": [],
    }
    settings = dataset_settings(config, "d")
    assert settings["signal_target"] == {"stat": "mean", "width": None, "log1p": True, "normalise": "zscore"}
    inputs = prepare_inputs(settings, "d")
    assert inputs["signal"] == [genome["signal"]] and inputs["exclude_regions"] == [str(blacklist)]
    dataset = build(settings, inputs, tmp_path / "work")
    assert dataset.tasks == ["coverage"] and dataset.summary["task_type"] == "regression"
    assert dataset.summary["dropped_excluded_regions"] > 0
    assert abs(float(dataset.splits["train"].y.mean())) < 1e-4  # z-scored on the training split
    config["datasets"]["d"]["negatives"] = "dinuc_shuffle"
    with pytest.raises(InputError, match=r"datasets\.d\.negatives: dinuc_shuffle negatives have no signal"):
        check_settings("d", dataset_settings(config, "d"))
