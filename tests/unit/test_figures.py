"""Cross-variant figures: which apply, the tables behind them, and that each figure shows its table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cislens.errors import InputError
from cislens.gia import patterns, spacing
from cislens.io import write_tsv
from cislens.plan import TRUTH_KINDS
from cislens.report import figures
from cislens.report.summary import trial_table

from ..conftest import assert_complete_pdf


def _config() -> dict:
    return {
        "seed": 1,
        "trials": 2,
        "datasets": {"sim": {"kind": "synthetic_multitask"}, "code": {"kind": "synthetic_code"}},
        "models": {
            "p2": {"arch": "cnn", "first_pool": 2},
            "p25": {"arch": "cnn", "first_pool": 25},
            "p2e": {"arch": "cnn", "first_pool": 2, "activation": "exponential"},
            "wide": {"arch": "cnn", "first_pool": 4, "filters": 64},  # differs in more than the pool
            "local": {"arch": "cnn_local"},
            "local_e": {"arch": "cnn_local", "activation": "exponential"},
        },
        "regimes": {"standard": {"kind": "standard"}},
        "variants": ["p2__standard", "p25__standard", "p2e__standard", "wide__standard"],
    }


def _trials(config: dict) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for dataset in config["datasets"]:
        for variant in config["variants"]:
            for trial in ("t0", "t1"):
                rows.append(
                    {
                        "dataset": dataset,
                        "variant": variant,
                        "trial": trial,
                        "match_fraction": rng.random(),
                        "test_auroc": rng.random(),
                        "attr_auroc_saliency": rng.random(),
                    }
                )
    return pd.DataFrame(rows)


def test_applicable_and_pairs():
    config = _config()
    heatmap = "attribution_auroc_heatmap"  # planted motifs and more than one variant
    modisco = "modisco_recovery"  # more than one variant with motif discovery (on by default)
    assert figures.applicable(config) == ["match_fraction_vs_pool", "relu_vs_exponential", heatmap, modisco]
    off = {**config, "modisco": {"enabled": False}}
    assert figures.applicable(off) == ["match_fraction_vs_pool", "relu_vs_exponential", heatmap]
    variants = figures.variant_table(config)
    pairs = figures.activation_pairs(variants)
    assert sorted(zip(pairs["dataset"], pairs["relu_variant"], pairs["exp_variant"], strict=True)) == [
        ("code", "p2__standard", "p2e__standard"),
        ("sim", "p2__standard", "p2e__standard"),
    ]
    only_one = {**config, "variants": ["p2__standard", "wide__standard"]}  # pools differ, filters too
    assert figures.applicable(only_one) == [heatmap, modisco]
    local = {**config, "variants": ["local__standard", "local_e__standard"]}
    assert figures.applicable(local) == ["relu_vs_exponential", heatmap, modisco]


def test_modisco_figure_draws_its_table():
    summary = pd.DataFrame(
        {
            "dataset": ["sim", "sim", "real", "real"],
            "variant": ["a__standard", "b__standard", "a__standard", "b__standard"],
            "test_auroc_mean": [0.9, 0.8, 0.7, 0.6],
            "modisco_patterns": [11, 6, 4, 9],
            "modisco_recovered": [8, 3, np.nan, np.nan],
            "modisco_recovered_family": [10, 3, np.nan, np.nan],
            "modisco_recovered_any": [11, 5, np.nan, np.nan],
            "modisco_spurious": [0, 2, np.nan, np.nan],
            "seqlet_precision": [0.99, 0.7, np.nan, np.nan],
            "seqlet_recall": [0.3, 0.1, np.nan, np.nan],
        }
    )
    table = figures.modisco_table(summary)
    assert list(table.columns) == figures.MODISCO_TABLE and len(table) == 4
    fig = figures.plot_modisco(table)
    truth_ax, plain_ax = fig.axes
    widths = [patch.get_width() for patch in truth_ax.patches]
    assert widths == [8, 3, 10, 3, 11, 5, 0, 2]  # recovered (TF; TF or paralog; any), spurious; per variant
    assert [patch.get_width() for patch in plain_ax.patches] == [4, 9]  # no truth: the pattern counts
    assert figures.modisco_table(summary.drop(columns=[c for c in summary if "modisco" in c])).empty


def test_pool_figure_shows_its_table():
    config = _config()
    trials = _trials(config)
    table = figures.pool_table(trials, figures.variant_table(config))
    assert set(table["variant"]) == {"p2__standard", "p25__standard"}  # 'wide' is no pool-only change
    assert table["first_pool"].tolist() == [2, 2, 25, 25] * 2
    expected = trials.set_index(["dataset", "variant", "trial"])["match_fraction"]
    for row in table.itertuples():
        assert row.match_fraction == expected[(row.dataset, row.variant, row.trial)]
    fig = figures.plot_pool(table)
    lines = [line for line in fig.axes[0].lines if (line.get_gid() or "").startswith("mean ")]
    assert len(lines) == 2  # one mean line per group (dataset)
    for line, (_, rows) in zip(lines, table.groupby("group", sort=False), strict=True):
        means = rows.groupby("first_pool")["match_fraction"].mean()
        np.testing.assert_allclose(np.asarray(line.get_xdata(), dtype=float), means.index.to_numpy(float))
        np.testing.assert_allclose(np.asarray(line.get_ydata(), dtype=float), means.to_numpy())


def test_activation_figure_pairs_trials():
    config = _config()
    trials = _trials(config)
    pairs = figures.activation_pairs(figures.variant_table(config))
    table = figures.activation_table(trials, pairs)
    assert len(table) == 2 * 2 * 2  # pairs x activations x trials
    fig = figures.plot_activation(table)
    assert [ax.get_ylabel() for ax in fig.axes] == ["match fraction", "attribution AUROC, saliency"]
    ax = fig.axes[0]
    segments = [line for line in ax.lines if len(line.get_xdata()) == 2]
    assert len(segments) == 2 * 2  # one per pair and trial
    first = table[(table["pair"] == table["pair"].iloc[0])].set_index(["activation", "trial"])
    np.testing.assert_allclose(
        segments[0].get_ydata(),
        [first.loc[("relu", "t0"), "match_fraction"], first.loc[("exponential", "t0"), "match_fraction"]],
    )


def test_write_figures(tmp_path):
    config = _config()
    written = figures.write_figures(config, _trials(config), tmp_path, figures.applicable(config))
    for name in written:
        for suffix in ("pdf", "png", "tsv"):
            assert (tmp_path / f"{name}.{suffix}").stat().st_size > 0
        assert_complete_pdf(tmp_path / f"{name}.pdf")
    assert not list(tmp_path.glob("*.tmp*"))
    with pytest.raises(InputError, match="unknown figure"):
        figures.write_figures(config, _trials(config), tmp_path, ["violin"])


# Result trees in the real file formats, written by the real writers: metrics.json (training),
# match_stats.json (filters), interpretability.tsv (attribution), gia/spacing.tsv (GIA), read back by
# the summarise rule's own reader.
ROBUST_VARIANTS = ["cnn__standard", "cnn__adversarial", "cnn__evoaug", "cnn_exp__standard"]


def _robust_config() -> dict:
    return {
        "seed": 1,
        "trials": 2,
        "datasets": {"sim": {"kind": "synthetic_multitask"}, "real": {"kind": "peaks"}},
        "models": {
            "cnn": {"arch": "cnn", "first_pool": 25},
            "cnn_exp": {"arch": "cnn", "first_pool": 25, "activation": "exponential"},
        },
        "regimes": {
            "standard": {"kind": "standard"},
            "adversarial": {"kind": "adversarial"},
            "evoaug": {"kind": "evoaug"},
        },
        "variants": ROBUST_VARIANTS,
        "attribution": {"methods": ["saliency", "ism"]},
        "gia": {"experiments": ["occupancy", "spacing"]},
    }


def _result_tree(root: Path, config: dict) -> pd.DataFrame:
    """Write one trial directory per dataset, variant and trial; return the trials table read back."""
    import json

    rng = np.random.default_rng(3)
    frames = []
    for dataset, settings in config["datasets"].items():
        truth = settings["kind"] in TRUTH_KINDS
        dirs = []
        for variant in config["variants"]:
            for trial in ("t0", "t1"):
                trial_dir = root / dataset / variant / trial
                (trial_dir / "filters").mkdir(parents=True)
                (trial_dir / "attribution").mkdir()
                metrics = {
                    "auroc_mean": rng.uniform(0.8, 0.95),
                    "aupr_mean": rng.uniform(0.5, 0.8),
                    "epochs_trained": 5,
                    "robustness": {"clean_accuracy": 0.9, "adversarial_accuracy": rng.uniform(0.3, 0.9)},
                }
                (trial_dir / "metrics.json").write_text(json.dumps(metrics))
                stats = {"match_fraction": rng.random(), "match_any": 1.0, "fpr": 0.1, "coverage": 0.5}
                (trial_dir / "filters" / "match_stats.json").write_text(json.dumps(stats))
                rows = [
                    {"method": m, "threshold": t, "auroc_mean": rng.uniform(0.5, 1), "aupr_mean": 0.5}
                    for m in ("saliency", "saliency_uncorrected", "ism")
                    for t in (0.0, 0.1)
                ]
                interp = pd.DataFrame(
                    rows if truth else [], columns=["method", "threshold", "auroc_mean", "aupr_mean"]
                )
                write_tsv(trial_dir / "attribution" / "interpretability.tsv", interp)
                dirs.append(trial_dir)
        frames.append(trial_table(dirs).assign(dataset=dataset))
    return pd.concat(frames, ignore_index=True)


def test_applicable_new_figures():
    config = _robust_config()
    assert figures.applicable(config) == [
        "relu_vs_exponential",
        "robust_vs_standard",
        "attribution_auroc_heatmap",
        "gia_distance_curves",
        "modisco_recovery",
    ]
    plain = {**config, "variants": ["cnn__standard"], "attribution": {"methods": ["saliency"]}, "gia": {}}
    assert figures.applicable(plain) == []  # one cell of heat map, no regime pair, no spacing, one variant
    no_truth = {**config, "datasets": {"real": {"kind": "peaks"}}, "gia": {}}
    assert figures.applicable(no_truth) == ["relu_vs_exponential", "robust_vs_standard", "modisco_recovery"]
    pairs = figures.regime_pairs(figures.variant_table(config))
    assert sorted(set(zip(pairs["standard_variant"], pairs["variant"], strict=True))) == [
        ("cnn__standard", "cnn__adversarial"),
        ("cnn__standard", "cnn__evoaug"),
    ]  # cnn_exp has no other regime


def test_robust_figure_pairs_trials_and_shows_its_table(tmp_path):
    config = _robust_config()
    trials = _result_tree(tmp_path, config)
    table = figures.robust_table(trials, figures.regime_pairs(figures.variant_table(config)))
    assert list(dict.fromkeys(table["metric"])) == [
        "test AUROC (test_auroc)",
        "accuracy under PGD (adversarial_accuracy)",
        "attribution AUROC (attr_auroc_saliency)",
        "match fraction (match_fraction)",
    ]
    # attribution AUROC only where there is ground truth; every other metric on both datasets
    assert len(table) == 2 * 2 * 2 * 3 + 1 * 2 * 2
    keyed = trials.set_index(["dataset", "variant", "trial"])
    for row in table.itertuples():
        column = row.metric.split("(")[1].rstrip(")")
        assert row.standard == keyed.loc[(row.dataset, row.standard_variant, row.trial), column]
        assert row.robust == keyed.loc[(row.dataset, row.variant, row.trial), column]
    fig = figures.plot_robust(table)
    assert [ax.get_title() for ax in fig.axes] == [
        "test AUROC",
        "accuracy under PGD",
        "attribution AUROC",
        "match fraction",
    ]
    drawn = {c.get_gid(): c.get_offsets() for ax in fig.axes for c in ax.collections}
    for (metric, regime), rows in table.groupby(["metric", "regime"]):
        np.testing.assert_allclose(
            drawn[f"{metric} | {regime}"], rows[["standard", "robust"]].to_numpy(float)
        )


def test_heatmap_shows_mean_auroc_per_method_and_variant(tmp_path):
    config = _robust_config()
    trials = _result_tree(tmp_path, config)
    table = figures.heatmap_table(trials, config)
    assert set(table["dataset"]) == {"sim"}  # no ground truth for the peaks dataset
    assert list(dict.fromkeys(table["method"])) == ["saliency", "saliency_uncorrected", "ism"]
    assert list(dict.fromkeys(table["variant"])) == ROBUST_VARIANTS and (table["n_trials"] == 2).all()
    sim = trials[trials["dataset"] == "sim"]
    for row in table.itertuples():
        values = sim.loc[sim["variant"] == row.variant, f"attr_auroc_{row.method}"]
        assert row.auroc_mean == pytest.approx(values.mean())
        assert row.auroc_sd == pytest.approx(values.std(ddof=1))
    fig = figures.plot_heatmap(table)
    ax = fig.axes[0]
    (image,) = [i for i in ax.images if i.get_gid() == "heatmap sim"]
    grid = table.pivot(index="method", columns="variant", values="auroc_mean")
    grid = grid.loc[["saliency", "saliency_uncorrected", "ism"], ROBUST_VARIANTS]
    np.testing.assert_allclose(np.asarray(image.get_array()), grid.to_numpy())
    labels = [t.get_text() for t in ax.texts]
    assert labels == [f"{v:.2f}" for v in grid.to_numpy().ravel()]  # each cell annotated, row by row
    assert [t.get_text() for t in ax.get_yticklabels()] == ["saliency", "saliency uncorrected", "ism"]


def _spacing_tables(n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """pair_scan's detail table on backgrounds 0..n/2, n/2..n and 0..n (a nonlinear toy model)."""
    rng = np.random.default_rng(0)
    bg = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, 60))]

    def score(x: np.ndarray) -> np.ndarray:
        left, right = x[:, :30, 0].sum(1), x[:, 30:, 3].sum(1)
        return np.stack([np.tanh(0.1 * left * right), 0.01 * left], axis=1)

    pats = {name: patterns.from_sequence(seq, name) for name, seq in {"A": "AAAAAA", "B": "TTTTTT"}.items()}
    kwargs = {"distances": [0, 4, 8, 12], "seed": 0}
    halves = [
        spacing.pair_scan(score, part, pats, ["y", "z"], **kwargs)[0] for part in (bg[: n // 2], bg[n // 2 :])
    ]
    whole = spacing.pair_scan(score, bg, pats, ["y", "z"], **kwargs)[0]
    return halves[0], halves[1], whole


def test_gia_curves_pool_trials_and_show_their_table(tmp_path):
    first, second, whole = _spacing_tables(40)
    dirs = {"sim": []}
    for variant, tables in (("cnn__standard", (first, second)), ("cnn__evoaug", (whole,))):
        for t, table in enumerate(tables):
            trial_dir = tmp_path / "sim" / variant / f"t{t}"
            write_tsv(trial_dir / "gia" / "spacing.tsv", table)
            dirs["sim"].append(trial_dir)
    read = figures.read_gia(dirs)
    assert set(read["trial"]) == {"t0", "t1"} and len(read) == 2 * len(whole) + len(whole)
    table = figures.gia_curve_table(read)
    assert table[["task", "orientation", "measure"]].drop_duplicates().shape[0] == 1  # one per pair
    pooled = table[table["variant"] == "cnn__standard"].set_index("distance")
    single = table[table["variant"] == "cnn__evoaug"].set_index("distance")
    chosen = whole[
        (whole["measure"] == "cooperativity")
        & (whole["task"] == table["task"].iloc[0])
        & (whole["orientation"] == table["orientation"].iloc[0])
    ].set_index("distance")
    # two trials on two halves of the backgrounds pool to the statistics of all backgrounds at once
    for column in ("effect_mean", "ci95_low", "ci95_high"):
        np.testing.assert_allclose(pooled[column], chosen[column], rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(single[column], chosen[column], rtol=1e-6, atol=1e-12)
    assert (pooled["n_trials"] == 2).all() and (pooled["n"] == 40).all() and (single["n_trials"] == 1).all()
    fig = figures.plot_gia_curves(table)
    ax = fig.axes[0]
    for variant, rows in table.groupby("variant"):
        (line,) = [ln for ln in ax.lines if ln.get_gid() == f"mean sim A B {variant}"]
        np.testing.assert_allclose(line.get_xdata(), rows["distance"].to_numpy(float))
        np.testing.assert_allclose(line.get_ydata(), rows["effect_mean"].to_numpy(float))
        (band,) = [c for c in ax.collections if c.get_gid() == f"ci sim A B {variant}"]
        vertices = band.get_paths()[0].vertices
        np.testing.assert_allclose(vertices[:, 1].min(), rows["ci95_low"].min())
        np.testing.assert_allclose(vertices[:, 1].max(), rows["ci95_high"].max())


def test_new_figures_written_with_their_tables(tmp_path):
    config = _robust_config()
    trials = _result_tree(tmp_path / "results", config)
    first, second, _ = _spacing_tables(20)
    dirs = {}
    for dataset in config["datasets"]:
        dirs[dataset] = sorted((tmp_path / "results" / dataset).glob("*/t*"))
        for trial_dir in dirs[dataset]:
            write_tsv(trial_dir / "gia" / "spacing.tsv", first if trial_dir.name == "t0" else second)
    out = tmp_path / "figures"
    names = figures.applicable(config)
    written = figures.write_figures(config, trials, out, names, spacing=figures.read_gia(dirs))
    assert list(written) == names
    variants = figures.variant_table(config)
    expected = {
        "robust_vs_standard": figures.robust_table(trials, figures.regime_pairs(variants)),
        "attribution_auroc_heatmap": figures.heatmap_table(trials, config),
        "gia_distance_curves": figures.gia_curve_table(figures.read_gia(dirs)),
    }
    for name, table in expected.items():
        assert_complete_pdf(out / f"{name}.pdf")
        assert (out / f"{name}.png").read_bytes().startswith(b"\x89PNG")
        back = pd.read_csv(out / f"{name}.tsv", sep="\t")
        assert len(back) == len(table) > 0, name
        pd.testing.assert_frame_equal(
            back, table.reset_index(drop=True), check_dtype=False, check_exact=False, rtol=1e-9
        )
    assert not list(out.glob(".*"))


def test_summary_rows_of_two_kinds_keep_integer_columns() -> None:
    """results/summary.tsv stacks variant rows and VCF rows: one trial reads 1, not 1.0."""
    from cislens.report.figures import stack_rows

    variants = pd.DataFrame({"dataset": ["d"], "n_trials": [1], "test_auroc_mean": [0.93]})
    vcfs = pd.DataFrame({"dataset": ["d"], "vcf": ["planted"], "variants_scored": [300]})
    text = stack_rows(variants, vcfs).to_csv(sep="\t", index=False)
    assert text.splitlines() == [
        "dataset\tn_trials\ttest_auroc_mean\tvcf\tvariants_scored",
        "d\t1\t0.93\t\t",
        "d\t\t\tplanted\t300",
    ]
    assert stack_rows(variants, pd.DataFrame()).equals(stack_rows(variants))
