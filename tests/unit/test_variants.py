"""Variant effects: allele windows against hand-built ones, skip reasons, the wrong-build stop, ensemble
statistics against per-trial predictions, the annotated VCF read back, and the synthetic truth VCF."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pandas as pd
import pytest

from cislens.data import onehot
from cislens.data.dataset import Dataset, Split, write_dataset
from cislens.errors import InputError
from cislens.runtime import set_seed
from cislens.variants import alleles, score
from cislens.variants.run import predict_sequences, variant_effects
from cislens.vcf import read_variants, write_vcf

L = 20  # model width: a variant's first base sits at index 10
TASKS = ["a", "b"]


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    rng = np.random.default_rng(0)
    chroms = {name: "".join("ACGT"[i] for i in rng.integers(0, 4, 200)) for name in ("chr1", "chr2")}
    path = tmp_path_factory.mktemp("genome") / "genome.fa"
    with open(path, "w") as handle:
        for name, seq in chroms.items():
            handle.write(f">{name}\n" + "\n".join(seq[i : i + 50] for i in range(0, len(seq), 50)) + "\n")
    return path, chroms


def _variants(rows):
    frame = pd.DataFrame(rows, columns=["chrom", "pos", "ref", "alt"])
    frame.insert(0, "allele", 0)
    frame.insert(0, "record", range(len(frame)))
    frame["id"] = [f"v{i}" for i in range(len(frame))]
    return frame


def test_snv_mnv_insertion_and_deletion_windows_equal_hand_built_ones(genome):
    path, chroms = genome
    seq = chroms["chr1"]
    p = 100  # 0-based; VCF POS 101
    s = p - L // 2
    rows = [
        ("chr1", p + 1, seq[p], "ACGT".replace(seq[p], "")[0]),  # SNV
        ("chr1", p + 1, seq[p : p + 3], "".join("T" if b != "T" else "A" for b in seq[p : p + 3])),  # MNV
        ("chr1", p + 1, seq[p], seq[p] + "GGGG"),  # insertion after the anchor base
        ("chr1", p + 1, seq[p : p + 5], seq[p]),  # deletion of 4 bases after the anchor
    ]
    w = alleles.allele_windows(path, _variants(rows), L)
    assert len(w.kept) == 4 and w.skipped.empty
    ref = seq[s : s + L]
    expected_alt = [
        seq[s:p] + rows[0][3] + seq[p + 1 : s + L],
        seq[s:p] + rows[1][3] + seq[p + 3 : s + L],
        (seq[s:p] + seq[p] + "GGGG" + seq[p + 1 :])[:L],  # right flank pushed out
        seq[s:p] + seq[p] + seq[p + 5 : s + L + 4],  # right flank pulled in
    ]
    assert onehot.decode(w.ref) == [ref] * 4
    assert onehot.decode(w.alt) == expected_alt
    assert all(len(a) == L for a in expected_alt)


def test_mismatch_symbolic_unknown_contig_and_off_end_land_in_skipped_with_their_reason(genome):
    path, chroms = genome
    seq = chroms["chr2"]
    good = [("chr2", p + 1, seq[p], "ACGT".replace(seq[p], "")[0]) for p in (40, 60, 80, 100, 120)]
    wrong = "ACGT".replace(seq[150], "")[0]
    rows = [
        *good,
        ("chr2", 151, wrong, "A"),  # REF mismatch
        ("chr2", 61, seq[60], "<DEL>"),  # symbolic
        ("chr2", 61, seq[60], "*"),  # spanning deletion
        ("chr2", 3, seq[2], "A"),  # window starts before the chromosome
        ("chr2", 199, seq[198], "A"),  # window ends past it
        ("chr9", 50, "A", "C"),  # unknown contig
        ("chr2", 61, seq[60], "N"),  # not ACGT
    ]
    w = alleles.allele_windows(path, _variants(rows), L)
    assert len(w.kept) == 5
    assert w.skipped["reason"].tolist() == [
        "ref_mismatch",
        "symbolic_allele",
        "symbolic_allele",
        "off_chromosome",
        "off_chromosome",
        "unknown_contig",
        "non_acgt_allele",
    ]
    assert w.skipped["detail"].str.len().gt(0).all()


def test_most_ref_alleles_mismatching_stop_with_one_line_naming_the_cause(genome):
    path, chroms = genome
    seq = chroms["chr1"]
    positions = range(30, 150, 7)
    # 0-based positions written as POS: every REF matches one base later than where POS points
    shifted = [("chr1", p, seq[p], "ACGT".replace(seq[p], "")[0]) for p in positions]
    with pytest.raises(InputError) as error:
        alleles.allele_windows(path, _variants(shifted), L, source="calls.vcf")
    message = str(error.value)
    assert "\n" not in message and "calls.vcf" in message and "1-based" in message
    rng = np.random.default_rng(5)
    other_build = [("chr1", p + 1, "".join("ACGT"[i] for i in rng.integers(0, 4, 4)), "A") for p in positions]
    with pytest.raises(InputError, match="wrong genome build"):
        alleles.allele_windows(path, _variants(other_build), L)


def _model(seed):
    set_seed(seed)
    inputs = keras.Input((L, 4))
    h = keras.layers.Conv1D(4, 5, name="first_conv")(inputs)
    h = keras.layers.Flatten()(h)
    logits = keras.layers.Dense(len(TASKS), name="logits")(h)
    return keras.Model(inputs, keras.layers.Activation("sigmoid", name="output")(logits))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    paths = []
    for seed in range(3):
        path = folder / f"t{seed}.keras"
        _model(seed).save(path)
        paths.append(str(path))
    return paths


def test_ensemble_mean_and_sd_equal_per_trial_predictions(models):
    from cislens.models.predict import predict
    from cislens.models.zoo import load_model

    nets = [load_model(p) for p in models]
    rng = np.random.default_rng(1)
    ref, alt = (np.eye(4, dtype=np.float32)[rng.integers(0, 4, (7, L))] for _ in range(2))
    per_ref = np.stack([predict(n, ref) for n in nets])
    per_alt = np.stack([predict(n, alt) for n in nets])
    r, a = score.score_alleles(nets, ref, alt)
    np.testing.assert_allclose(r, per_ref, rtol=1e-5, atol=1e-5)
    table = score.effect_table(r, a, TASKS)
    delta = per_alt - per_ref
    np.testing.assert_allclose(table["b_delta_logit"], delta[:, :, 1].mean(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(table["b_delta_logit_sd"], delta[:, :, 1].std(0, ddof=1), rtol=1e-4, atol=1e-5)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    np.testing.assert_allclose(table["a_alt_prob"], sig(per_alt[:, :, 0]).mean(0), rtol=1e-5, atol=1e-6)
    agree = (np.sign(delta[:, :, 0]) == np.sign(delta[:, :, 0].mean(0))).sum(0)
    np.testing.assert_array_equal(table["a_agree"], agree)
    best = np.abs(delta.mean(0)).argmax(1)
    np.testing.assert_allclose(table["effect"], delta.mean(0)[np.arange(7), best], rtol=1e-5, atol=1e-5)
    # both strands: the mean of the forward and reverse-complement logits
    rc = score.trial_logits(nets, ref, reverse_complement=True)
    both = (per_ref + np.stack([predict(n, onehot.reverse_complement(ref)) for n in nets])) / 2
    np.testing.assert_allclose(rc, both, rtol=1e-5, atol=1e-5)
    ens = score.ensemble_table(r, TASKS)
    np.testing.assert_allclose(ens["a_logit"], per_ref[:, :, 0].mean(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ens["a_logit_sd"], per_ref[:, :, 0].std(0, ddof=1), rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    x = np.eye(4, dtype=np.uint8)[np.zeros((4, L), int)]
    split = Split(x=x, y=np.array([[0, 1], [1, 0], [0, 0], [1, 1]], np.float32))
    path = tmp_path_factory.mktemp("data") / "dataset.h5"
    write_dataset(
        path, Dataset(splits={k: split for k in ("train", "valid", "test")}, tasks=TASKS, kind="h5")
    )
    return str(path)


def test_variant_effects_job_writes_tables_figures_and_an_annotated_vcf_that_reads_back(
    genome, models, dataset, tmp_path
):
    path, chroms = genome
    seq = chroms["chr1"]
    records = [
        {"chrom": "chr1", "pos": 51, "ref": seq[50], "alts": ("ACGT".replace(seq[50], "")[0], "<DEL>")},
        {"chrom": "chr1", "pos": 81, "ref": seq[80], "alts": (seq[80] + "TTT",), "id": "ins"},
        {"chrom": "chr1", "pos": 121, "ref": seq[120:124], "alts": (seq[120],), "id": "del"},
        {"chrom": "chr1", "pos": 196, "ref": seq[195], "alts": ("A" if seq[195] != "A" else "C",)},
        {"chrom": "chr1", "pos": 151, "ref": seq[150], "alts": ("A" if seq[150] != "A" else "C",)},
    ]
    vcf = tmp_path / "calls.vcf.gz"
    write_vcf(vcf, records, {"chr1": 200, "chr2": 200})
    out = {
        k: str(tmp_path / v)
        for k, v in {
            "effects": "effects.tsv",
            "skipped": "skipped.tsv",
            "vcf": "annotated.vcf",
            "metrics": "metrics.json",
            "top_png": "top.png",
            "top_pdf": "top.pdf",
            "hist": "hist.png",
        }.items()
    }
    table = variant_effects(
        vcf=str(vcf),
        genome=str(path),
        dataset=dataset,
        models=models,
        settings={"top_k": 2},
        attribution={"methods": ["saliency"]},
        reverse_complement=True,
        outputs=out,
    )
    assert len(table) == 4
    assert np.all(np.diff(table["effect"].abs().to_numpy()) <= 0)
    skipped = pd.read_csv(out["skipped"], sep="\t")
    assert skipped[["pos", "reason"]].values.tolist() == [[51, "symbolic_allele"], [196, "off_chromosome"]]
    back = read_variants(out["vcf"], ["CISLENS_EFFECT", "CISLENS_AGREE", "CISLENS_TASK", "CISLENS_SKIP"])
    merged = back.merge(table, on=["record", "allele"], how="left")
    scored = merged["effect"].notna()
    # VCF Float is 32-bit: the same values to float32 precision
    np.testing.assert_allclose(
        merged.loc[scored, "CISLENS_EFFECT"], merged.loc[scored, "effect"], rtol=1e-6, atol=1e-6
    )
    assert (merged.loc[scored, "CISLENS_AGREE"] == merged.loc[scored, "effect_agree"]).all()
    assert (merged.loc[scored, "CISLENS_TASK"] == merged.loc[scored, "effect_task"]).all()
    assert merged.loc[~scored, "CISLENS_SKIP"].tolist() == ["symbolic_allele", "off_chromosome"]
    for key in ("top_png", "top_pdf", "hist", "metrics"):
        assert os.path.getsize(out[key]) > 0


def test_predict_scores_fasta_with_every_trial(models, dataset, tmp_path):
    from cislens.models.predict import predict
    from cislens.models.zoo import load_model

    fasta = tmp_path / "seqs.fa"
    seqs = {"s1": "ACGT" * 6, "s2": "GATTACA" * 2}  # longer: centre-cropped; shorter: N-padded
    fasta.write_text("".join(f">{k}\n{v}\n" for k, v in seqs.items()))
    table = predict_sequences(
        sequences=str(fasta),
        dataset=dataset,
        models=models,
        reverse_complement=False,
        output=str(tmp_path / "pred.tsv"),
    )
    x = onehot.one_hot([("ACGT" * 6)[2:22], "NNN" + "GATTACA" * 2 + "NNN"])
    per = np.stack([predict(load_model(p), x) for p in models])
    assert table["name"].tolist() == ["s1", "s2"]
    np.testing.assert_allclose(table["b_logit"], per[:, :, 1].mean(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(table["b_logit_sd"], per[:, :, 1].std(0, ddof=1), rtol=1e-4, atol=1e-5)


def test_synthetic_genome_writes_a_truth_vcf_of_disrupting_and_neutral_snvs_and_indels(tmp_path):
    from cislens.data.genome_synth import make_synthetic_genome

    motifs = {"M1": np.eye(4)[[0, 1, 2, 3, 0, 1, 2, 3]] * 0.9 + 0.025}
    paths = make_synthetic_genome(
        tmp_path, motifs, n_chroms=2, chrom_length=20_000, peaks_per_tf=20, peak_width=(150, 200), seed=3
    )
    v = read_variants(paths["vcf"], ["TRUTH", "KIND", "TF"])
    assert set(v["TRUTH"]) == {"disrupting", "neutral"}
    assert set(v["KIND"]) == {"snv", "deletion", "insertion"}
    w = alleles.allele_windows(paths["genome"], v, 101)
    assert w.skipped.empty  # every REF matches the genome
    planted = pd.read_csv(
        paths["planted"], sep="\t", header=None, names=["chrom", "start", "end", "tf", "s", "x"]
    )
    hit = v[v["TRUTH"] == "disrupting"]
    for row in hit.itertuples():
        sites = planted[(planted.chrom == row.chrom)]
        assert ((sites.start <= row.pos) & (row.pos <= sites.end)).any()


def test_a_vcf_with_nothing_to_score_still_writes_every_output(genome, models, dataset, tmp_path):
    path, _ = genome
    vcf = tmp_path / "other.vcf"
    write_vcf(vcf, [{"chrom": "1", "pos": 50, "ref": "A", "alts": ("C",)}], {"1": 1000})
    names = ["effects.tsv", "skipped.tsv", "annotated.vcf", "metrics.json", "top.png", "top.pdf", "hist.png"]
    keys = ["effects", "skipped", "vcf", "metrics", "top_png", "top_pdf", "hist"]
    out = {k: str(tmp_path / n) for k, n in zip(keys, names, strict=True)}
    table = variant_effects(
        vcf=str(vcf),
        genome=str(path),
        dataset=dataset,
        models=models,
        settings={},
        attribution={"methods": ["saliency"]},
        reverse_complement=False,
        outputs=out,
    )
    assert table.empty
    assert pd.read_csv(out["skipped"], sep="\t")["reason"].tolist() == ["unknown_contig"]
    assert read_variants(out["vcf"], ["CISLENS_SKIP"])["CISLENS_SKIP"].tolist() == ["unknown_contig"]
    assert all(os.path.getsize(p) > 0 for p in out.values())
