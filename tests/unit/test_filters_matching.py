"""Filter PPM extraction from activations, trimming, and match statistics on hand-made Tomtom tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cislens.data.onehot import from_indices
from cislens.errors import InputError
from cislens.meme import Motif
from cislens.motifs import filters
from cislens.motifs.filters import activation_ppms, filters_to_motifs, information, streamed_ppms, trim_ppm
from cislens.motifs.matching import ACCEPTED_IDS, best_hits, match_statistics
from cislens.motifs.tomtom import COLUMNS

RNG_PPM = np.random.default_rng(11).dirichlet(np.full(4, 0.3), size=10)  # an informative planted PWM


def _planted(n: int = 400, length: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random sequences with one sample of RNG_PPM at a random position each; returns x and positions."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, 4, size=(n, length))
    pos = rng.integers(0, length - len(RNG_PPM) + 1, size=n)
    for i, p in enumerate(pos):
        for j, col in enumerate(RNG_PPM):
            idx[i, p + j] = rng.choice(4, p=col)
    return from_indices(idx), pos


def _conv(x: np.ndarray, kernels: np.ndarray, padding: str) -> np.ndarray:
    """A numpy Conv1D (N, L, 4) x (K, 4, F) with Keras padding, then ReLU."""
    k = kernels.shape[0]
    if padding == "same":
        left = (k - 1) // 2
        x = np.pad(x, ((0, 0), (left, k - 1 - left), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(x, k, axis=1)  # (N, L', 4, K)
    return np.maximum(np.einsum("nlak,kaf->nlf", windows, kernels), 0)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_recovers_planted_pwm_from_a_real_convolution(padding):
    x, _ = _planted()
    log_odds = np.log2((RNG_PPM + 1e-3) / 0.25)
    kernels = np.stack([log_odds, -log_odds], axis=-1)  # filter 1 anti-correlates with the motif
    act = _conv(x, kernels, padding)
    ppms, nsites = activation_ppms(x, act, kernel_size=10, threshold=0.5, padding=padding)
    assert ppms.shape == (2, 10, 4) and nsites[0] >= 300
    r = np.corrcoef(ppms[0].ravel(), RNG_PPM.ravel())[0, 1]
    assert r > 0.95
    np.testing.assert_allclose(ppms.sum(axis=-1), 1)
    weighted, _ = activation_ppms(x, act, 10, weighted=True, padding=padding)
    assert np.corrcoef(weighted[0].ravel(), RNG_PPM.ravel())[0, 1] > 0.95


def test_hand_made_activations_windows_and_edges():
    x, pos = _planted(n=200, length=40, seed=1)
    k = 10
    act = np.zeros((len(x), 40, 3), dtype=np.float32)
    left = (k - 1) // 2  # 'same': activation at i sees x[i - left : i - left + k]
    act[np.arange(len(x)), pos + left, 0] = 1.0
    act[0, 0, 1] = 2.0  # filter 1 fires once, at the left edge: 4 window columns fall off the sequence
    act[1, 5, 1] = 0.5  # below half of the max: ignored
    ppms, nsites = activation_ppms(x, act, k, threshold=0.5)
    assert np.corrcoef(ppms[0].ravel(), RNG_PPM.ravel())[0, 1] > 0.95
    assert nsites.tolist() == [200, 1, 0]
    np.testing.assert_allclose(ppms[1, :left], 0.25)  # no data there
    np.testing.assert_allclose(ppms[1, left:], x[0, : k - left])
    np.testing.assert_allclose(ppms[2], 0.25)  # never fired
    # A wider window stays centred on the receptive field.
    wide, _ = activation_ppms(x, act[..., :1], k, window=20)
    np.testing.assert_allclose(wide[0, 5:15], ppms[0], atol=1e-6)


def test_chunking_gives_identical_results(monkeypatch):
    x, _ = _planted(n=150, length=30, seed=2)
    act = np.random.default_rng(0).random((150, 30, 4)).astype(np.float32)
    full, n_full = activation_ppms(x, act, 7)
    monkeypatch.setattr(filters, "_CHUNK_SITES", 17)
    chunked, n_chunked = activation_ppms(x, act, 7)
    np.testing.assert_allclose(full, chunked, atol=1e-6)
    assert n_full.tolist() == n_chunked.tolist()


def test_shape_errors():
    x = np.zeros((2, 20, 4))
    with pytest.raises(InputError, match="valid"):
        activation_ppms(x, np.zeros((2, 20, 3)), 5, padding="valid")  # valid gives 16 positions
    with pytest.raises(InputError):
        activation_ppms(x, np.zeros((2, 20, 3)), 5, padding="causal")


def test_information_and_trim():
    uniform, onehot = np.full(4, 0.25), np.array([1.0, 0, 0, 0])
    half = np.array([0.5, 0.5, 0, 0])
    np.testing.assert_allclose(information(np.array([uniform, onehot, half])), [0, 2, 1])
    ppm = np.array([uniform] * 6 + [onehot, half] + [uniform] * 8)
    trimmed = trim_ppm(ppm, min_info=0.5, pad=3)
    assert trimmed.shape == (2 + 6, 4)
    np.testing.assert_allclose(trimmed[3], onehot)
    assert trim_ppm(ppm, pad=10).shape == ppm.shape  # padding clipped to the bounds
    flat = np.array([uniform] * 5)
    np.testing.assert_allclose(trim_ppm(flat), flat)  # nothing informative: returned whole


def test_filters_to_motifs():
    ppms = np.full((3, 5, 4), 0.25)
    motifs = filters_to_motifs(ppms, [4, 0, 9])
    assert [m.id for m in motifs] == ["filter0", "filter1", "filter2"]
    assert [m.nsites for m in motifs] == [4, 0, 9]
    assert [m.id for m in filters_to_motifs(ppms, [4, 0, 9], skip_empty=True)] == ["filter0", "filter2"]


def _table(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Query_ID": q,
                "Target_ID": t,
                "Optimal_offset": 0,
                "p-value": p,
                "E-value": p * 519,
                "q-value": p * 10,
                "Overlap": 8,
                "Query_consensus": "A",
                "Target_consensus": "A",
                "Orientation": "+",
            }
            for q, t, p in rows
        ],
        columns=COLUMNS,
    )


def test_match_statistics_only_filter0_matches():
    stats = match_statistics(_table([("filter0", "MA0079.3", 1e-6)]), 30, ACCEPTED_IDS)
    assert stats["match_fraction"] == pytest.approx(1 / 30)
    assert stats["match_any"] == pytest.approx(1 / 30)
    assert stats["fpr"] == pytest.approx(0)
    assert stats["coverage"] == pytest.approx(1 / 12)
    assert stats["tfs_hit"] == ["SP1"]


def test_match_statistics_mixed():
    table = _table(
        [
            ("filter0", "MA0001.1", 1e-7),
            ("filter0", "MA0058.1", 1e-6),  # best hit is not truth: still matched
            ("filter3", "MA0060.2", 1e-5),  # NFYA accepted for NFYB
            ("filter4", "MA0079.3", 1e-8),
            ("filter4", "MA0079.2", 1e-7),  # two SP1 hits count once
            ("filter7", "MA0003.1", 1e-4),  # a hit, but not ground truth
        ]
    )
    stats = match_statistics(table, 10, ACCEPTED_IDS)
    assert stats["match_fraction"] == pytest.approx(0.3)
    assert stats["match_any"] == pytest.approx(0.4)
    assert stats["fpr"] == pytest.approx(0.1)
    assert stats["coverage"] == pytest.approx(3 / 12)
    assert stats["tfs_hit"] == ["MAX", "NFYB", "SP1"]
    base_ids = match_statistics(table, 10, {"SP1": ["MA0079"]})  # bare base ID accepts every version
    assert base_ids["match_fraction"] == pytest.approx(0.1) and base_ids["coverage"] == 1.0
    empty = match_statistics(_table([]), 10, ACCEPTED_IDS)
    assert empty["match_fraction"] == 0 and empty["match_any"] == 0 and empty["coverage"] == 0


def test_accepted_ids_cover_anchor_ids():
    from cislens.data.synthetic import DEFAULT_MULTITASK_IDS

    assert list(ACCEPTED_IDS) == list(DEFAULT_MULTITASK_IDS)
    for tf, motif_id in DEFAULT_MULTITASK_IDS.items():
        assert motif_id in ACCEPTED_IDS[tf]
    assert {"MA0058.1", "MA0058.2", "MA0058.3"} <= set(ACCEPTED_IDS["MAX"])
    assert {"MA0502.1", "MA0060.1", "MA0060.2"} <= set(ACCEPTED_IDS["NFYB"])
    assert {"MA0151.1", "MA0601.1", "PB0001.1"} <= set(ACCEPTED_IDS["Arid3a"])


def test_best_hits():
    flat = np.full((3, 4), 0.25)
    targets = [Motif("MA0079.3", "SP1", flat), Motif("MA0001.1", "AGL3", flat)]
    table = _table(
        [("filter2", "MA0079.3", 1e-3), ("filter2", "MA0001.1", 1e-6), ("filter0", "MA0079.3", 1e-4)]
    )
    hits = best_hits(table, targets)
    assert hits["query_id"].tolist() == ["filter2", "filter0"]
    assert hits["target_name"].tolist() == ["AGL3", "SP1"]
    assert hits["p_value"].tolist() == [1e-6, 1e-4]
    assert list(hits.columns) == [
        "query_id",
        "target_id",
        "target_name",
        "p_value",
        "e_value",
        "q_value",
        "offset",
        "orientation",
    ]
    assert hits["offset"].tolist() == [0, 0] and hits["orientation"].tolist() == ["+", "+"]
    empty = best_hits(_table([]), targets)
    assert len(empty) == 0 and list(empty.columns) == list(hits.columns)


def test_streamed_passes_equal_in_memory_and_stay_batched():
    x, _ = _planted(n=150, length=30, seed=2)
    act = np.random.default_rng(3).random((150, 30, 4)).astype(np.float32)
    act[:, :, 3] = -1.0  # never fires
    spans: list[tuple[int, int]] = []

    def activations_of(start: int, stop: int) -> np.ndarray:
        spans.append((start, stop))
        return act[start:stop]

    for weighted in (False, True):
        spans.clear()
        full, n_full = activation_ppms(x, act, 7, weighted=weighted)
        streamed, n_streamed = streamed_ppms(x, activations_of, 7, weighted=weighted, batch_size=16)
        np.testing.assert_allclose(full, streamed, atol=1e-9)
        assert n_full.tolist() == n_streamed.tolist() and n_full[3] == 0
        assert max(stop - start for start, stop in spans) <= 16
        assert len(spans) == 2 * 10  # two passes over ceil(150 / 16) batches


def test_hand_built_keras_model_filter_recovers_its_pwm():
    """A zoo CNN whose first filter is the PWM's log-odds: the extracted PPM is that PWM."""
    from cislens.models.zoo import build_model, first_layer_model

    x, _ = _planted(n=300, length=60, seed=4)
    model = build_model("cnn", 60, 1, filters=2, kernel_size=10, first_pool=4, pool_total=20)
    conv = model.get_layer("first_conv")
    kernel, bias = conv.get_weights()
    log_odds = np.log2((RNG_PPM + 1e-3) / 0.25)
    kernel[:, :, 0], kernel[:, :, 1] = log_odds, -log_odds
    conv.set_weights([kernel, np.zeros_like(bias)])
    first = first_layer_model(model)
    ppms, nsites = streamed_ppms(
        x, lambda a, b: np.asarray(first.predict_on_batch(x[a:b])), 10, batch_size=64
    )
    assert nsites[0] >= 250
    assert np.corrcoef(ppms[0].ravel(), RNG_PPM.ravel())[0, 1] > 0.95


def test_match_logo_grid_draws_filters_with_and_without_hits(tmp_path):
    from cislens.motifs.logos import match_logo_grid

    target = Motif("MA0079.3", "SP1", RNG_PPM)
    filters_ = [Motif("filter0", "filter0", RNG_PPM[::-1, ::-1], 9), Motif("filter1", "filter1", RNG_PPM, 3)]
    hits = best_hits(
        _table([("filter0", "MA0079.3", 1e-6)]).assign(Orientation="-", Optimal_offset=-2), [target]
    )
    path = tmp_path / "logos.png"
    match_logo_grid(filters_, hits, [target], path)
    assert path.read_bytes().startswith(b"\x89PNG")


def test_base_code_counting_equals_float_windows(monkeypatch):
    x, _ = _planted(n=120, length=30, seed=6)
    x[3, 5] = 0  # an N: counts nowhere
    act = np.random.default_rng(8).random((120, 30, 3)).astype(np.float32)
    for weighted in (False, True):
        coded = activation_ppms(x, act, 7, weighted=weighted, window=11)
        monkeypatch.setattr(filters, "_is_onehot", lambda _x: False)
        floats = activation_ppms(x, act, 7, weighted=weighted, window=11)
        monkeypatch.undo()
        np.testing.assert_allclose(coded[0], floats[0], atol=1e-9)
        assert coded[1].tolist() == floats[1].tolist()
