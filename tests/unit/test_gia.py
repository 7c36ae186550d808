"""GIA: backgrounds keep what they promise; a known linear model gives back its coefficients."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pandas as pd
import pytest

from cislens.data.onehot import indices, one_hot
from cislens.errors import InputError
from cislens.gia import backgrounds, embed, experiments
from cislens.models import predict as forward

L = 60
MOTIFS = {"motifA": "ACGTTGCA", "motifB": "GGGATCCC"}
COEF = np.array([[2.5, 0.0], [-1.0, 0.7]], dtype=np.float32)  # rows: motifs, columns: tasks


def _ppm(consensus):
    ppm = np.full((len(consensus), 4), 0.1)
    return np.where(one_hot(consensus)[0] > 0, 0.7, ppm)


@pytest.fixture(scope="module")
def count_model():
    """logit_t = 0.3 + sum_m COEF[m, t] * (exact occurrences of motif m)."""
    inputs = keras.Input((L, 4))
    conv = keras.layers.Conv1D(2, 8, activation="relu", name="first_conv")
    h = conv(inputs)
    kernel = np.stack([one_hot(m)[0] for m in MOTIFS.values()], axis=-1)  # (8, 4, 2)
    conv.set_weights([kernel, np.full(2, -7.0, np.float32)])  # 1 at an exact match, else 0
    h = keras.layers.GlobalAveragePooling1D()(h)
    dense = keras.layers.Dense(2, name="logits")
    logits = dense(h)
    dense.set_weights([COEF * (L - 8 + 1), np.full(2, 0.3, np.float32)])
    return keras.Model(inputs, keras.layers.Activation("sigmoid", name="output")(logits))


def _random(n, seed):
    return np.eye(4, dtype=np.float32)[np.random.default_rng(seed).integers(0, 4, size=(n, L))]


def test_single_motif_occupancy_recovers_linear_coefficients(count_model):
    bg = backgrounds.profile_backgrounds(_random(300, 0), n=400, seed=1)
    motifs = {name: _ppm(seq) for name, seq in MOTIFS.items()}
    table = experiments.single_motif_occupancy(count_model, bg, motifs, task_names=["t0", "t1"])
    assert len(table) == 4 and list(table.columns[:2]) == ["motif", "task"]
    assert list(table["motif"]) == ["motifA", "motifA", "motifB", "motifB"]
    assert table.groupby("motif")["effect_mean"].apply(lambda s: s.is_monotonic_decreasing).all()
    for m, name in enumerate(MOTIFS):
        for t, task in enumerate(["t0", "t1"]):
            row = table[(table.motif == name) & (table.task == task)].iloc[0]
            se = row.effect_sd / np.sqrt(row.n)
            assert abs(row.effect_mean - COEF[m, t]) <= 3 * se + 1e-4
            assert row.ci95_low <= row.effect_mean <= row.ci95_high and row.n == 400
            assert row.position == (L - 8) // 2
    single = experiments.single_motif_occupancy(
        count_model,
        bg,
        {"motifA": motifs["motifA"]},
        position=3,
        task_names=["t0", "t1"],
        target="probability",
    )
    assert (single.position == 3).all() and single.effect_mean.max() < 1.0


def test_predict_logit_and_task(count_model):
    x = embed.embed(_random(5, 2), one_hot(MOTIFS["motifA"])[0], 10)
    logits = forward.predict(count_model, x)
    assert logits.shape == (5, 2)
    np.testing.assert_allclose(forward.predict(count_model, x, task=0), logits[:, 0])
    prob = forward.predict(count_model, x, target="probability")
    np.testing.assert_allclose(prob, 1 / (1 + np.exp(-logits)), rtol=1e-5)


def test_plot_occupancy_writes_png(tmp_path, count_model):
    bg = _random(20, 3)
    motifs = {name: _ppm(seq) for name, seq in MOTIFS.items()}
    table = experiments.single_motif_occupancy(count_model, bg, motifs, task_names=["t0", "t1"])
    empty = pd.DataFrame(columns=list(experiments.OCCUPANCY_COLUMNS))
    for frame, name in ((table, "heat.png"), (table[table.task == "t0"], "bars.png"), (empty, "empty.png")):
        experiments.plot_occupancy(frame, tmp_path / name)
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bars.png", "empty.png", "heat.png"]  # no tmp


def test_profile_backgrounds_reproduce_positional_profile():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4) * 0.5, size=L)  # a strongly position-dependent profile
    codes = np.stack([rng.choice(4, size=2000, p=p) for p in probs], axis=1)
    x = np.eye(4, dtype=np.float32)[codes]
    x[:, 5] = 0  # an all-N column becomes uniform
    bg = backgrounds.profile_backgrounds(x, n=3000, seed=1)
    assert bg.shape == (3000, L, 4) and np.all(bg.sum(-1) == 1)
    expected = backgrounds.nucleotide_profile(x)
    np.testing.assert_allclose(bg.mean(0), expected, atol=0.035)
    np.testing.assert_allclose(expected[5], 0.25)
    np.testing.assert_array_equal(bg, backgrounds.profile_backgrounds(x, n=3000, seed=1))


def _dinucleotide_counts(x):
    idx = indices(x)
    pairs = idx[:, :-1] * 5 + idx[:, 1:] + 6  # -1 (N) kept as its own symbol
    return np.stack([np.bincount(row, minlength=25) for row in pairs])


def test_dinucleotide_shuffles_keep_dinucleotide_counts():
    x = _random(50, 4)
    x[0, 20:23] = 0  # a run of N
    out = backgrounds.dinucleotide_shuffle(x, seed=3)
    np.testing.assert_array_equal(_dinucleotide_counts(out), _dinucleotide_counts(x))
    np.testing.assert_array_equal(out[:, 0], x[:, 0])
    assert (indices(out) != indices(x)).any(axis=1).mean() > 0.9


def test_shuffled_backgrounds_draw_and_shuffle():
    x = _random(30, 5)
    bg = backgrounds.shuffled_backgrounds(x, n=80, seed=0)
    assert bg.shape == (80, L, 4)
    mono = backgrounds.shuffled_backgrounds(x, n=10, seed=0, k=1)
    counts = {tuple(c) for c in x.sum(1).astype(int)}
    for shuffled in (bg, mono):  # each keeps the base composition of the input it was drawn from
        assert all(tuple(c) in counts for c in shuffled.sum(1).astype(int))
    assert not any((indices(m) == indices(x)).all(axis=1).any() for m in mono)
    np.testing.assert_array_equal(bg, backgrounds.shuffled_backgrounds(x, n=80, seed=0))


def test_embed_consensus_and_sampling():
    x = _random(3, 6)
    before = x.copy()
    pattern = embed.consensus_onehot(_ppm("ACGTTGCA"))
    np.testing.assert_array_equal(pattern, one_hot("ACGTTGCA")[0])
    out = embed.embed(x, pattern, 4)
    np.testing.assert_array_equal(out[:, 4:12], np.broadcast_to(pattern, (3, 8, 4)))
    np.testing.assert_array_equal(out[:, :4], x[:, :4])
    np.testing.assert_array_equal(x, before)  # the input is never modified
    with pytest.raises(InputError):
        embed.embed(x, pattern, L - 7)
    samples = embed.sample_pattern(_ppm("ACGTTGCA"), 4000, seed=0)
    np.testing.assert_allclose(samples.mean(0), _ppm("ACGTTGCA"), atol=0.03)


def test_mononucleotide_shuffle_keeps_base_counts_exactly():
    x = _random(40, 7)
    x[3, 5:9] = 0  # N columns are shuffled as a symbol of their own
    out = backgrounds.mononucleotide_shuffle(x, seed=2)
    np.testing.assert_array_equal(out.sum(axis=1), x.sum(axis=1))
    np.testing.assert_array_equal((out.sum(-1) == 0).sum(1), (x.sum(-1) == 0).sum(1))
    assert (indices(out) != indices(x)).any(axis=1).all()
    np.testing.assert_array_equal(out, backgrounds.mononucleotide_shuffle(x, seed=2))


def test_embed_per_row_positions_and_n_columns():
    x = _random(4, 8)
    starts = np.array([0, 5, 10, L - 4])
    out = embed.embed(x, one_hot("ACNT")[0], starts)
    for i, s in enumerate(starts):
        assert "".join("ACGT"[j] for j in indices(out[i : i + 1, s : s + 4])[0][[0, 1, 3]]) == "ACT"
        np.testing.assert_array_equal(out[i, s + 2], x[i, s + 2])  # N keeps the background's base
    rng = np.random.default_rng(0)
    sites = embed.random_site_starts(rng, 500, 3, 8, L, min_gap=2)
    assert sites.min() >= 0 and sites.max() <= L - 8 and (np.diff(sites, axis=1) >= 10).all()
    with pytest.raises(InputError):
        embed.random_site_starts(rng, 1, 7, 8, L, min_gap=2)


def test_patterns_strands_sampling_and_resolution(tmp_path):
    from cislens.gia import patterns
    from cislens.meme import Motif, write_meme

    kmer = patterns.from_sequence("aacg")
    assert kmer.name == "AACG" and kmer.width == 4
    np.testing.assert_array_equal(kmer.on("-").consensus(), one_hot("CGTT")[0])
    ppm = _ppm("ACGTTGCA")
    sampled = patterns.Pattern("m", ppm, mode="sample").instances(3000, seed=1)
    assert sampled.shape == (3000, 8, 4)
    np.testing.assert_allclose(sampled.mean(0), ppm, atol=0.03)
    assert patterns.Pattern("m", ppm).instances(5).shape == (8, 4)  # consensus: one copy for all
    meme = tmp_path / "db.meme"
    write_meme(meme, [Motif("MA0001.1", "TFX", ppm), Motif("filter3", "filter3", ppm[::-1, ::-1])])
    jaspar = patterns.resolve("MA0001.1", database=meme)
    assert jaspar.name == "TFX MA0001.1" and jaspar.strand == "+"
    assert patterns.resolve("MA0001.1:-", database=meme).strand == "-"
    found = patterns.resolve("filter:filter3", filters=meme)
    np.testing.assert_array_equal(found.consensus(), one_hot("TGCAACGT")[0])
    assert patterns.resolve("ACGN").consensus()[3].sum() == 0
    with pytest.raises(InputError):
        patterns.resolve("MA9999.1", database=meme)
    with pytest.raises(InputError):
        patterns.Pattern("bad", ppm, strand="x")
