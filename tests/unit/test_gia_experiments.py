"""GIA experiments on hand-built models whose answer is known: a linear function of exact motif counts
(effects = its coefficients), one with a multiplicative term (cooperativity = that term), and a k-mer
detector (the k-mer search must find it)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import logging

import keras
import numpy as np
import pandas as pd
import pytest

from cislens.data.onehot import one_hot
from cislens.gia import backgrounds, kmers, outputs, patterns, run, spacing
from cislens.gia.flanks import flank_preferences, flank_sensitivity
from cislens.gia.gc import gc_backgrounds, gc_bias
from cislens.gia.importance import OCCUPANCY_COLUMNS, motif_importance, own_task_rank
from cislens.gia.position import positional_bias
from cislens.gia.sites import number_of_sites
from cislens.models.predict import scorer

from ..conftest import ROOT

L = 60
MOTIFS = {"A": "ACGTTGCA", "B": "GGGATCCC"}
TASKS = ["A", "B"]  # each motif's own task shares its name, as in the synthetic sets
COEF = np.array([[2.5, -0.4], [-1.0, 0.7]], dtype=np.float32)  # rows: motifs, columns: tasks
W = 8


def _detector(name: str, consensus: str) -> keras.layers.Layer:
    """Conv1D that outputs 1 exactly where ``consensus`` occurs (forward strand), else 0."""
    conv = keras.layers.Conv1D(1, len(consensus), activation="relu", name=name)
    conv.build((None, L, 4))
    conv.set_weights([one_hot(consensus)[0][..., None], np.array([1.0 - len(consensus)], np.float32)])
    return conv


def _counts(inputs, motifs):
    """(N, 1) exact-match count of each motif: window mean x number of windows, as a Dense weight."""
    return [
        keras.layers.GlobalAveragePooling1D()(_detector(f"det_{n}", s)(inputs)) for n, s in motifs.items()
    ]


@pytest.fixture(scope="module")
def linear_model():
    """logit_t = 0.3 + sum_m COEF[m, t] * count_m."""
    inputs = keras.Input((L, 4))
    h = keras.layers.Concatenate()(_counts(inputs, MOTIFS))
    dense = keras.layers.Dense(2, name="logits")
    logits = dense(h)
    dense.set_weights([COEF * (L - W + 1), np.full(2, 0.3, np.float32)])
    return keras.Model(inputs, keras.layers.Activation("sigmoid", name="output")(logits))


GAMMA = 2.0


@pytest.fixture(scope="module")
def product_model():
    """logit = 0.1 + 1.0 nA + 0.5 nB + GAMMA nA nB: cooperativity GAMMA wherever the two sit."""
    inputs = keras.Input((L, 4))
    a, b = _counts(inputs, MOTIFS)
    h = keras.layers.Concatenate()([a, b, keras.layers.Multiply()([a, b])])
    dense = keras.layers.Dense(1, name="logits")
    out = dense(h)
    windows = L - W + 1
    dense.set_weights(
        [
            np.array([[1.0 * windows], [0.5 * windows], [GAMMA * windows**2]], np.float32),
            np.array([0.1], np.float32),
        ]
    )
    return keras.Model(inputs, keras.layers.Activation("sigmoid", name="output")(out))


@pytest.fixture(scope="module")
def bg():
    x = np.eye(4, dtype=np.float32)[np.random.default_rng(0).integers(0, 4, size=(300, L))]
    return backgrounds.profile_backgrounds(x, n=300, seed=1)


@pytest.fixture(scope="module")
def pats():
    return {name: patterns.from_sequence(seq, name) for name, seq in MOTIFS.items()}


def _close(rows: pd.DataFrame, expected: float) -> None:
    """Within sampling error: 4 standard errors, plus a hair for chance matches in backgrounds."""
    for _, r in rows.iterrows():
        se = r.effect_sd / np.sqrt(r.n)
        assert abs(r.effect_mean - expected) <= 4 * se + 0.02 * abs(expected) + 1e-3, (r.to_dict(), expected)


def test_single_motif_effects_are_the_coefficients_and_rank_first(linear_model, bg, pats):
    table = motif_importance(scorer(linear_model), bg, pats, TASKS, seed=0)
    assert list(table.columns) == list(OCCUPANCY_COLUMNS)
    for m, motif in enumerate(MOTIFS):
        for t, task in enumerate(TASKS):
            _close(table[(table.motif == motif) & (table.task == task)], COEF[m, t])
    assert table.set_index(["motif", "task"]).loc[("A", "A"), "rank"] == 1
    first, ranks = own_task_rank(table)
    assert first == 2 and list(ranks["rank"]) == [1, 1]
    minus = motif_importance(scorer(linear_model), bg, {"A": pats["A"].on("-")}, TASKS)
    assert abs(minus.effect_mean).max() < 0.05  # the detector reads one strand only


def test_number_of_sites_is_additive(linear_model, bg, pats):
    table = number_of_sites(scorer(linear_model), bg, pats, TASKS, max_sites=3, seed=0)
    assert sorted(set(table.sites)) == [1, 2, 3] and len(table) == 2 * 3 * 2
    for m, motif in enumerate(MOTIFS):
        for t, task in enumerate(TASKS):
            for k in (1, 2, 3):
                _close(
                    table[(table.motif == motif) & (table.task == task) & (table.sites == k)], k * COEF[m, t]
                )


def test_positional_bias_is_flat_for_a_count_model(linear_model, bg, pats):
    table = positional_bias(scorer(linear_model), bg[:100], {"A": pats["A"]}, TASKS, step=13)
    assert list(table[table.task == "A"].position) == [0, 13, 26, 39, 52]  # the last start always tested
    _close(table[table.task == "A"], COEF[0, 0])


def test_cooperativity_zero_for_linear_positive_for_product(linear_model, product_model, bg, pats):
    kwargs = {"distances": [0, 7, 20], "seed": 0}
    detail, summary = spacing.pair_scan(scorer(linear_model), bg[:150], pats, TASKS, **kwargs)
    coop = detail[detail.measure == "cooperativity"]
    assert len(coop) == 4 * 3 * 2 and set(coop.orientation) == set(spacing.ORIENTATIONS)
    assert coop.effect_mean.abs().max() < 0.05
    joint = detail[(detail.measure == "joint") & (detail.orientation == "++") & (detail.task == "A")]
    _close(joint, COEF[0, 0] + COEF[1, 0])
    assert (summary.effect_mean.abs() < 0.05).all() and len(summary) == 2
    _, prod = spacing.pair_scan(scorer(product_model), bg[:150], pats, ["y"], orientations=["++"], **kwargs)
    row = prod.iloc[0]
    assert abs(row.effect_mean - GAMMA) < 0.1 and row.ci95_low > 0 and row["rank"] == 1
    assert spacing.pair_rank(prod, ("B", "A"), "y") == 1


def test_pair_rank_picks_the_interacting_pair(product_model, bg):
    three = {n: patterns.from_sequence(s, n) for n, s in {**MOTIFS, "C": "TTTTAAAA"}.items()}
    _, summary = spacing.pair_scan(
        scorer(product_model), bg[:60], three, ["y"], distances=[3], interacting=[("A", "B")]
    )
    assert len(summary) == 3 and summary.loc[summary.interacting, "rank"].tolist() == [1]
    assert spacing.pair_rank(summary, ("A", "B"), "y") == 1


def test_kmer_search_finds_the_planted_kmer():
    inner = keras.Input((L, 4))
    hits = keras.layers.GlobalAveragePooling1D()(_detector("det", "ACGTAC")(inner))
    dense = keras.layers.Dense(1, name="logits")
    dense.build((None, 1))
    dense.set_weights([np.array([[3.0 * (L - 5)]], np.float32), np.zeros(1, np.float32)])
    model = keras.Model(inner, keras.layers.Activation("sigmoid", name="output")(dense(hits)))
    bg = gc_backgrounds(4, L, 0.5, seed=0)
    table = kmers.kmer_search(scorer(model), bg, ["t"], k=6, top=5, max_batch=4096)
    assert len(table) == 5 and table.iloc[0].kmer == "ACGTAC" and table.iloc[0]["rank"] == 1
    assert abs(table.iloc[0].effect_mean - 3.0) < 0.2 and table.iloc[1].effect_mean < 1.0
    mut = kmers.kmer_mutagenesis(scorer(model), bg, ["t"], {"t": "ACGTAC"})
    assert len(mut) == 6 * 4
    own = mut[mut.mutant == "ACGTAC"]
    assert (own.delta_mean == 0).all() and (mut[mut.mutant != "ACGTAC"].delta_mean < -2).all()


def test_align_kmers_builds_the_shared_motif():
    ppm = kmers.align_kmers(["ACGTAC", "CGTACT", "GACGTA", "GTACGT"])  # shifted by +1, -1; reverse strand
    assert "ACGTAC" in "".join("ACGT"[i] for i in ppm.argmax(1))
    np.testing.assert_allclose(ppm.sum(1), 1)
    np.testing.assert_array_equal(kmers.kmer_codes(2)[[0, 1, 4, 15]], [[0, 0], [0, 1], [1, 0], [3, 3]])


def test_gc_and_flanks(linear_model, bg, pats):
    low, high = gc_backgrounds(400, L, 0.2, seed=0), gc_backgrounds(400, L, 0.8, seed=0)
    from cislens.data.onehot import gc_content

    assert abs(gc_content(low).mean() - 0.2) < 0.01 and abs(gc_content(high).mean() - 0.8) < 0.01
    table = gc_bias(scorer(linear_model), bg[:80], pats, TASKS, levels=[0.3, 0.7], seed=0)
    assert set(table.measure) == {"background", "effect"} and len(table) == 2 * (1 + 2) * 2
    _close(table[(table.motif == "A") & (table.task == "A")], COEF[0, 0])
    binned = gc_bias(scorer(linear_model), bg[:80], pats, TASKS, mode="binned", bins=2)
    assert binned.gc.nunique() == 2
    flanks = flank_sensitivity(scorer(linear_model), bg[:50], {"A": pats["A"]}, TASKS, flank=3, n_flanks=8)
    assert len(flanks) == (1 + 8) * 2 and set(flanks.flank_id) == set(range(-1, 8))
    assert flanks.left.str.len().max() == 3
    a = flanks[flanks.task == "A"]
    assert np.median(a.effect_mean) == pytest.approx(COEF[0, 0], abs=0.05)
    prefs = flank_preferences(flanks, "A", "A")
    assert list(prefs.index) == [-3, -2, -1, 1, 2, 3] and list(prefs.columns) == list("ACGT")


def test_backgrounds_by_kind_low_activity_and_filtering(linear_model):
    score = scorer(linear_model)
    x = np.eye(4, dtype=np.float32)[np.random.default_rng(3).integers(0, 4, size=(200, L))]
    x[:20, 10:18] = one_hot(MOTIFS["A"])[0]  # active sequences: task A's logit +2.5
    low = backgrounds.make_backgrounds("low_activity", x, 50, score=score)
    assert len(low) == 50 and score(low).mean(1).max() <= np.sort(score(x).mean(1))[49] + 1e-9
    kept = backgrounds.make_backgrounds("profile", x, 100, seed=2, score=score, filter_quantile=0.1)
    assert len(kept) == 100
    np.testing.assert_array_equal(
        kept, backgrounds.make_backgrounds("profile", x, 100, seed=2, score=score, filter_quantile=0.1)
    )
    for kind in ("dinuc_shuffle", "mono_shuffle"):
        shuffled = backgrounds.make_backgrounds(kind, x, 30, seed=1)
        counts = {tuple(c) for c in x.sum(1).astype(int)}
        assert all(tuple(c) in counts for c in shuffled.sum(1).astype(int))
    with pytest.raises(ValueError, match="score"):
        backgrounds.make_backgrounds("low_activity", x, 10)


def _run(model, folder, settings, seed=0):
    files = {k: str(folder / name) for k, name in outputs.output_files(settings["experiments"]).items()}
    x = np.eye(4, dtype=np.float32)[np.random.default_rng(5).integers(0, 4, size=(100, L))]
    pats = {name: patterns.from_sequence(seq, name) for name, seq in MOTIFS.items()}
    results = run.run_experiments(
        model, lambda t: scorer(model, t), x, TASKS, pats, settings, seed, files, logging.getLogger("test"),
        interactions=[{"motifs": ["A", "B"], "task": "B"}],
    )  # fmt: skip
    return files, results


SMALL = {
    "n_backgrounds": 40,
    "experiments": list(outputs.EXPERIMENTS),
    "position": {"step": 20},
    "sites": {"max_sites": 2},
    "spacing": {"max_distance": 4, "step": 4},
    "cooperativity": {"distances": [2], "orientations": ["++"]},
    "kmer": {"k": 3, "top": 4, "logo_top": 4},
    "gc": {"levels": [0.4, 0.6]},
    "flanks": {"flank": 2, "n_flanks": 3},
    "attention": {"distance": 2},
}


def test_every_experiment_writes_its_outputs_and_same_seed_repeats(linear_model, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    files, results = _run(linear_model, tmp_path / "a", SMALL)
    again, _ = _run(linear_model, tmp_path / "b", SMALL)
    assert set(results) == {*outputs.EXPERIMENTS, "kmer_mutagenesis"}
    for key, path in files.items():
        data = open(path, "rb").read()
        if path.endswith(".png"):
            assert data[:4] == b"\x89PNG"
        else:
            assert data == open(again[key], "rb").read(), key  # same seed -> identical tables
    assert results["attention"].empty  # not an attention model: an empty table, a note in the figure
    assert not list(tmp_path.rglob(".*tmp*"))
    other, _ = _run(linear_model, tmp_path / "c", {**SMALL, "experiments": ["occupancy"]}, seed=1)
    assert sorted(other) == ["occupancy", "occupancy_png"]


def test_attention_pairs_on_a_small_attention_model(bg, pats):
    from cislens.gia.attention import attention_pairs, has_attention, interaction_aurocs
    from cislens.models.zoo import build_model

    keras.utils.set_random_seed(0)
    model = build_model("cnn_attention", L, 2, filters=8, first_pool=4, num_heads=2, key_dim=4, dense_units=8)
    assert has_attention(model)
    three = {**pats, "C": patterns.from_sequence("TTTTAAAA", "C")}
    table = attention_pairs(model, scorer(model), bg[:20], three, TASKS, distance=4, interacting=[("A", "B")])
    assert len(table) == 3 * 2 and table.interacting.sum() == 2
    assert (table.attention_mean > 0).all() and (table.attention_mean <= 1).all() and table.snr.notna().all()
    aurocs = interaction_aurocs(table, "A")
    assert set(aurocs) == {"attention_auroc", "cooperativity_auroc"} and 0 <= aurocs["attention_auroc"] <= 1


def test_schema_defaults_match_the_library():
    from cislens.plan import load_schema

    schema = load_schema(os.path.join(os.path.dirname(__file__), "../../workflow/schemas/config.schema.yaml"))
    section = schema["properties"]["gia"]["properties"]
    definitions = schema["definitions"]

    def default(entry):
        return (
            definitions[entry["$ref"].rsplit("/", 1)[-1]]["default"] if "$ref" in entry else entry["default"]
        )

    for key, value in run.DEFAULTS.items():
        if isinstance(value, dict):
            sub = {k: default(v) for k, v in section[key]["properties"].items()}
            assert sub == value, key
        else:
            assert section[key]["default"] == value, key
    assert set(section["experiments"]["items"]["enum"]) == set(outputs.EXPERIMENTS)
    assert outputs.output_files(["kmer"]) == {
        "occupancy": "occupancy.tsv",
        "occupancy_png": "occupancy.png",
        "kmer": "kmer.tsv",
        "kmer_mutagenesis": "kmer_mutagenesis.tsv",
        "kmer_png": "kmer.png",
    }


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """A tiny interaction dataset, its planted motifs (MEME), config and an untrained saved CNN."""
    import yaml

    from cislens.data.dataset import write_dataset
    from cislens.data.synthetic import make_multitask
    from cislens.meme import Motif, write_meme
    from cislens.models.zoo import build_model

    root = tmp_path_factory.mktemp("toy")
    ppms = {n: np.where(one_hot(s)[0] > 0, 0.97, 0.01) for n, s in {**MOTIFS, "C": "TTTTAAAA"}.items()}
    inter = [{"motifs": ["A", "B"], "task": "AB", "max_distance": 5}]
    data = make_multitask(ppms, n=60, length=L, k_probs=(0.5, 0.5), seed=0, interactions=inter)
    (root / "results" / "toy").mkdir(parents=True)
    write_dataset(root / "results" / "toy" / "dataset.h5", data)
    ids = {"A": "MA0001.1", "B": "MA0002.1", "C": "MA0003.1"}
    write_meme(root / "results" / "toy" / "motifs.meme", [Motif(ids[n], n, p) for n, p in ppms.items()])
    settings = {"kind": "synthetic_multitask", "motifs": ids, "interactions": inter, "k_probs": [0.5, 0.5]}
    (root / "config.yaml").write_text(yaml.safe_dump({"datasets": {"toy": settings}}))
    model = build_model("cnn", L, 4, filters=4, first_pool=4, pool_total=12, conv2_filters=4, dense_units=8)
    model.save(root / "model.keras")
    return root, ppms, inter


def test_gia_trial_runs_the_configured_experiments(toy, tmp_path):
    root, ppms, inter = toy
    settings = {
        **SMALL,
        "n_backgrounds": 20,
        "patterns": ["MA0001.1:-", "ACGTN"],
        "background": "dinuc_shuffle",
    }
    files = {k: str(tmp_path / name) for k, name in outputs.output_files(SMALL["experiments"]).items()}
    occupancy = run.gia_trial(
        str(root / "results" / "toy" / "dataset.h5"), str(root / "model.keras"), ppms, settings, 3, 1, files,
        logging.getLogger("test"), interactions=inter, database=str(root / "results" / "toy" / "motifs.meme"),
    )  # fmt: skip
    assert set(occupancy.motif) == {"A", "B", "C", "A MA0001.1", "ACGTN"}
    assert set(occupancy.task) == {"A", "B", "C", "AB"}
    assert all(os.path.getsize(path) > 0 for path in files.values())
    coop = pd.read_csv(files["cooperativity"], sep="\t")
    assert coop.loc[(coop.motif_a == "A") & (coop.motif_b == "B"), "interacting"].all()


def _gia_checks():
    """benchmarks/gia_checks.py, the real-scale GIA acceptance checks (a script, not library code)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gia_checks", ROOT / "benchmarks" / "gia_checks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checks_interaction_and_cli(product_model, bg, toy, tmp_path, capsys):
    checks = _gia_checks()

    root, ppms, _ = toy
    table, summary = checks.interaction_check(
        scorer(product_model), bg[:40], ppms, ["y"], [{"motifs": ["A", "B"], "task": "y"}], distances=[2]
    )
    assert table.iloc[0]["rank"] == 1 and table.iloc[0].n_pairs == 3 and len(summary) == 3
    argv = [
        "--configfile",
        str(root / "config.yaml"),
        "--dataset",
        "toy",
        "--model",
        str(root / "model.keras"),
    ]
    argv += ["--results", str(root / "results"), "--n-backgrounds", "20", "--out", str(tmp_path / "out")]
    checks.main(argv)  # the command line, end to end on the tiny dataset and the untrained model
    printed = capsys.readouterr().out
    assert "own-task check:" in printed and "AB" in printed
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "cooperativity.tsv",
        "interaction_check.tsv",
        "occupancy.tsv",
        "own_task.tsv",
    ]
