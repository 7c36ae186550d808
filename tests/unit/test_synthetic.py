"""Synthetic ground-truth datasets: layout, labels, truth matrices, sampling and determinism."""

from __future__ import annotations

import numpy as np
import pytest

from cislens.data import synthetic
from cislens.data.dataset import read_dataset, write_dataset
from cislens.jaspar import fetch_by_ids
from cislens.motifs.filters import information


@pytest.fixture(scope="module")
def tf_motifs() -> dict:
    ids = synthetic.DEFAULT_MULTITASK_IDS
    return dict(zip(ids, fetch_by_ids(list(ids.values())), strict=True))


@pytest.fixture(scope="module")
def small(tf_motifs):
    return synthetic.make_multitask(tf_motifs, n=2000, seed=3)


def _stack(ds):
    parts = [ds.splits[s] for s in ("train", "valid", "test")]
    return (
        np.concatenate([p.x for p in parts]),
        np.concatenate([p.y for p in parts]),
        np.concatenate([p.truth for p in parts]),
    )


def _occurrences(truth: np.ndarray, ppm: np.ndarray) -> np.ndarray:
    """(N, L - W + 1) bool: where the truth matrix holds ppm exactly (float32 comparison)."""
    windows = np.lib.stride_tricks.sliding_window_view(truth, len(ppm), axis=1)  # (N, L', 4, W)
    return np.all(windows == ppm.T.astype(np.float32)[None, None], axis=(2, 3))


def test_shapes_and_splits(small):
    sizes = {k: len(v) for k, v in small.splits.items()}
    assert sizes == {"train": 1400, "valid": 200, "test": 400}
    assert small.tasks == list(synthetic.DEFAULT_MULTITASK_IDS) and small.kind == "synthetic_multitask"
    x, y, truth = _stack(small)
    assert x.shape == (2000, 200, 4) and x.dtype == np.uint8 and (x.sum(-1) == 1).all()
    assert y.shape == (2000, 12) and truth.shape == (2000, 200, 4)
    names = np.concatenate([small.splits[s].name for s in ("train", "valid", "test")])
    assert len(set(names)) == 2000  # every sequence in exactly one split


def test_labels_truth_and_k(small, tf_motifs):
    _, y, truth = _stack(small)
    planted = np.zeros(truth.shape[:2], dtype=bool)
    counts = np.zeros(len(truth), dtype=int)
    for j, motif in enumerate(tf_motifs.values()):
        present = np.zeros(len(truth), dtype=bool)
        for ppm in (motif.ppm, motif.ppm[::-1, ::-1]):
            hits = _occurrences(truth, ppm)
            present |= hits.any(axis=1)
            counts += hits.sum(axis=1)
            for i, p in zip(*np.nonzero(hits), strict=True):
                planted[i, p : p + len(ppm)] = True
        np.testing.assert_array_equal(y[:, j] == 1, present, err_msg=motif.name)
    np.testing.assert_array_equal(information(truth) > 1e-6, planted)  # info > 0 exactly on motif columns
    np.testing.assert_allclose(truth[~planted], 0.25)
    assert counts.min() >= 1 and counts.max() <= 5
    freq = np.bincount(counts, minlength=6)[1:] / len(counts)
    np.testing.assert_allclose(freq, synthetic.K_PROBS, atol=0.035)


def test_sequences_sampled_from_truth(small):
    x, _, truth = _stack(small)
    sharp = truth.max(axis=-1) > 0.95
    agree = x.argmax(-1)[sharp] == truth.argmax(-1)[sharp]
    assert sharp.sum() > 10000 and agree.mean() > 0.95
    background = truth.max(axis=-1) == 0.25
    freq = x[background].mean(axis=0)
    np.testing.assert_allclose(freq, 0.25, atol=0.01)


def test_deterministic(tf_motifs):
    a = synthetic.make_multitask(tf_motifs, n=300, seed=5)
    b = synthetic.make_multitask(tf_motifs, n=300, seed=5)
    c = synthetic.make_multitask(tf_motifs, n=300, seed=6)
    for split in ("train", "valid", "test"):
        np.testing.assert_array_equal(a.splits[split].x, b.splits[split].x)
        np.testing.assert_array_equal(a.splits[split].truth, b.splits[split].truth)
        np.testing.assert_array_equal(a.splits[split].y, b.splits[split].y)
    assert not np.array_equal(a.splits["train"].x, c.splits["train"].x)


def test_full_size_is_fast_and_round_trips(tf_motifs, tmp_path):
    import time

    start = time.perf_counter()
    ds = synthetic.make_multitask(tf_motifs)
    assert time.perf_counter() - start < 15
    assert {k: len(v) for k, v in ds.splits.items()} == {"train": 21000, "valid": 3000, "test": 6000}
    k_freq = np.array(ds.summary["k_counts"]) / 30000
    np.testing.assert_allclose(k_freq, synthetic.K_PROBS, atol=0.01)
    small = synthetic.make_multitask(tf_motifs, n=100, seed=1)
    write_dataset(tmp_path / "d.h5", small)
    back = read_dataset(tmp_path / "d.h5")
    np.testing.assert_array_equal(back.splits["test"].x, small.splits["test"].x)
    np.testing.assert_array_equal(back.splits["test"].truth, small.splits["test"].truth)
    assert back.tasks == small.tasks


def test_plain_ppms_and_motif_too_long():
    rng = np.random.default_rng(0)
    ds = synthetic.make_multitask(
        {"a": rng.dirichlet(np.ones(4), 6), "b": rng.dirichlet(np.ones(4), 8)}, n=50, length=31
    )
    assert ds.splits["train"].x.shape[1:] == (31, 4)
    with pytest.raises(ValueError, match="never fit"):  # 5 x 6 columns cannot fit in 30: no endless retry
        synthetic.make_multitask({"a": rng.dirichlet(np.ones(4), 6)}, n=5, length=30)


def test_make_code(tf_motifs):
    core_ids = synthetic.DEFAULT_CODE_CORE
    core = dict(zip(core_ids, fetch_by_ids(list(core_ids.values())), strict=True))
    pool_ids = synthetic.random_pool_ids("JASPAR2016", n=50, exclude=list(core_ids.values()), seed=0)
    assert len(pool_ids) == 50 and pool_ids == synthetic.random_pool_ids(exclude=list(core_ids.values()))
    assert not {i.split(".")[0] for i in pool_ids} & {i.split(".")[0] for i in core_ids.values()}
    pool = dict(zip(pool_ids, fetch_by_ids(pool_ids), strict=True))
    ds = synthetic.make_code(core, pool, n_pos=600, n_neg=600, seed=1)
    assert ds.kind == "synthetic_code" and ds.tasks == ["code"]
    assert {k: len(v) for k, v in ds.splits.items()} == {"train": 840, "valid": 120, "test": 240}
    _, y, truth = _stack(ds)
    assert y.shape == (1200, 1) and y.sum() == 600
    core_cols = np.zeros(truth.shape[:2], dtype=bool)
    counts = np.zeros(len(truth), dtype=int)
    for motif in core.values():
        for ppm in (motif.ppm, motif.ppm[::-1, ::-1]):
            hits = _occurrences(truth, ppm)
            counts += hits.sum(axis=1)
            for i, p in zip(*np.nonzero(hits), strict=True):
                core_cols[i, p : p + len(ppm)] = True
    pos = y[:, 0] == 1
    np.testing.assert_array_equal((information(truth) > 1e-6)[pos], core_cols[pos])  # positives: core only
    assert counts[pos].min() >= 3 and counts[pos].max() <= 7
    neg_info = information(truth[~pos]) > 1e-6
    assert (neg_info & ~core_cols[~pos]).any(axis=1).mean() > 0.8  # negatives mostly carry pool motifs
    assert ds.summary["n_pool_pwms"] == 110


def _instances(truth: np.ndarray, motifs: dict) -> list[list[tuple[str, int, int]]]:
    """Per sequence, every planted (motif, start, end), read back from the truth matrices."""
    out = [[] for _ in range(len(truth))]
    for name, motif in motifs.items():
        ppm = getattr(motif, "ppm", motif)
        for oriented in (ppm, ppm[::-1, ::-1]):
            for i, p in zip(*np.nonzero(_occurrences(truth, oriented)), strict=True):
                out[i].append((name, int(p), int(p) + len(ppm)))
    return out


def test_interaction_dataset_labels_pairs_within_distance(tf_motifs):
    motifs = {k: tf_motifs[k] for k in ("SP1", "CEBPB", "YY1", "MAX")}
    spec = [{"motifs": ["SP1", "CEBPB"], "task": "SP1_CEBPB", "max_distance": 12, "fraction": 0.3}]
    ds = synthetic.make_multitask(motifs, n=1500, seed=4, interactions=spec)
    assert ds.tasks == [*motifs, "SP1_CEBPB"]
    _, y, truth = _stack(ds)
    found = _instances(truth, motifs)
    near = np.zeros(len(y), dtype=bool)
    far_both = np.zeros(len(y), dtype=bool)
    for i, hits in enumerate(found):
        sp = [(s, e) for m, s, e in hits if m == "SP1"]
        ce = [(s, e) for m, s, e in hits if m == "CEBPB"]
        gaps = [max(s2 - e1, s1 - e2) for s1, e1 in sp for s2, e2 in ce]
        near[i] = any(g <= 12 for g in gaps)
        far_both[i] = bool(gaps) and not near[i]
        for j, name in enumerate(motifs):  # presence labels unchanged in meaning
            assert y[i, j] == any(m == name for m, _, _ in hits)
    np.testing.assert_array_equal(y[:, -1] == 1, near)  # the label rule: both present within distance
    assert 0.25 < near.mean() < 0.45 and far_both.mean() > 0.15  # near pairs and far decoys planted
    info = ds.summary["interactions"][0]
    assert info["positives"] == int(near.sum()) and info["planted_near"] <= info["positives"]
    again = synthetic.make_multitask(motifs, n=1500, seed=4, interactions=spec)
    np.testing.assert_array_equal(again.splits["test"].x, ds.splits["test"].x)
    plain = synthetic.make_multitask(motifs, n=300, seed=4)
    same = synthetic.make_multitask(motifs, n=300, seed=4, interactions=[])
    np.testing.assert_array_equal(plain.splits["train"].x, same.splits["train"].x)  # no option: unchanged
    with pytest.raises(ValueError, match="two of"):
        synthetic.make_multitask(motifs, n=10, interactions=[{"motifs": ["SP1", "XX"], "task": "t"}])


def test_prepare_passes_interactions_from_the_config(tmp_path):
    from cislens import plan as cp
    from cislens.data.prepare import build
    from cislens.meme import write_meme

    config = {
        "datasets": {
            "pairs": {
                "kind": "synthetic_multitask",
                "n": 400,
                "motifs": {"SP1": "MA0079.3", "CEBPB": "MA0466.2"},
                "interactions": [{"motifs": ["SP1", "CEBPB"], "task": "pair"}],
            }
        }
    }
    settings = cp.dataset_settings(config, "pairs")
    meme = tmp_path / "motifs.meme"
    write_meme(meme, fetch_by_ids(["MA0079.3", "MA0466.2"]))
    ds = build(settings, {"motifs": str(meme)}, tmp_path)
    assert ds.tasks == ["SP1", "CEBPB", "pair"]
