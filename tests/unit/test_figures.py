"""Cross-variant figures: which apply, the tables behind them, and that each figure shows its table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cislens.errors import InputError
from cislens.report import figures


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
    assert figures.applicable(config) == ["match_fraction_vs_pool", "relu_vs_exponential"]
    variants = figures.variant_table(config)
    pairs = figures.activation_pairs(variants)
    assert sorted(zip(pairs["dataset"], pairs["relu_variant"], pairs["exp_variant"], strict=True)) == [
        ("code", "p2__standard", "p2e__standard"),
        ("sim", "p2__standard", "p2e__standard"),
    ]
    only_one = {**config, "variants": ["p2__standard", "wide__standard"]}  # pools differ, filters too
    assert figures.applicable(only_one) == []
    local = {**config, "variants": ["local__standard", "local_e__standard"]}
    assert figures.applicable(local) == ["relu_vs_exponential"]


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
        pdf = (tmp_path / f"{name}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    assert not list(tmp_path.glob("*.tmp*"))
    with pytest.raises(InputError, match="unknown figure"):
        figures.write_figures(config, _trials(config), tmp_path, ["violin"])
