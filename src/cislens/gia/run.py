"""One GIA job: choose the motifs, draw the backgrounds once, run the configured experiments, write
``gia/<experiment>.tsv`` and ``.png`` for each (``occupancy`` always: the report reads it)."""

from __future__ import annotations

import copy
import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ..errors import InputError
from ..io import write_tsv
from .batches import Scorer, child_seed
from .outputs import experiment_list
from .patterns import Pattern, from_ppms, resolve

# The schema's `gia:` section, sub-sections filled (cislens.schema: the one source of these defaults).
DEFAULTS: dict[str, Any] = schema.defaults("gia")


def with_defaults(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` over :data:`DEFAULTS`, one level deep for the per-experiment sections."""
    out = copy.deepcopy(DEFAULTS)
    for key, value in settings.items():
        out[key] = {**out[key], **value} if isinstance(out.get(key), dict) else copy.deepcopy(value)
    return out


def choose_motifs(
    truth: Mapping[str, str],
    truth_meme: str | None,
    database_meme: str,
    tomtom_tsv: str,
    motif_ids: Sequence[str],
    max_motifs: int,
) -> dict[str, np.ndarray]:
    """Motifs to test: the planted ones when known, else the configured IDs, else the filters' best hits.

    Keys are display names ("SP1" or "REB1 MA0363.2") so tables and plots read without lookups.
    """
    from ..meme import read_meme

    if truth and truth_meme:
        by_id = {m.id: m for m in read_meme(truth_meme)}
        return {name: by_id[mid].ppm for name, mid in truth.items()}
    database = {m.id: m for m in read_meme(database_meme)}
    ids = list(motif_ids)
    if not ids:
        table = pd.read_csv(tomtom_tsv, sep="\t")
        if len(table):
            best = table.sort_values(["p-value", "Query_ID"], kind="stable").drop_duplicates("Query_ID")
            ids = list(dict.fromkeys(best.sort_values("p-value", kind="stable")["Target_ID"]))
    unknown = [i for i in motif_ids if i not in database]
    if unknown:
        raise InputError(f"gia_motifs: {', '.join(unknown)} not in the Tomtom database {database_meme}")
    ids = [i for i in ids if i in database][:max_motifs]
    return {f"{database[i].name} {i}": database[i].ppm for i in ids}


def build_patterns(
    motifs: Mapping[str, np.ndarray],
    settings: Mapping[str, Any],
    database: str | None = None,
    filters: str | None = None,
) -> dict[str, Pattern]:
    """The chosen motifs plus the configured extra ``patterns`` (JASPAR IDs, ``filter:<id>``, literals)."""
    mode, strand = settings["pattern"], settings["strand"]
    patterns = from_ppms(motifs, mode, strand)
    for spec in settings["patterns"]:
        pattern = resolve(spec, database=database, filters=filters, mode=mode, strand=strand)
        if pattern.name in patterns:
            raise InputError(f"gia.patterns: {spec!r} duplicates the motif {pattern.name!r}")
        patterns[pattern.name] = pattern
    return patterns


def interacting_pairs(interactions: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(A, B) of a dataset's planted interactions (config ``interactions: [{motifs: [A, B], ...}]``)."""
    return [(str(i["motifs"][0]), str(i["motifs"][1])) for i in interactions]


@dataclass
class Context:
    """What every experiment shares: the backgrounds (drawn once), the motifs, and one scorer per target."""

    make_score: Callable[[str], Scorer]
    model: Any
    backgrounds: np.ndarray
    patterns: dict[str, Pattern]
    tasks: list[str]
    settings: dict[str, Any]
    seed: int
    interactions: list[dict[str, Any]]
    outputs: Mapping[str, str]
    log: logging.Logger
    results: dict[str, pd.DataFrame] = field(default_factory=dict)
    _scored: dict[str, tuple[Scorer, np.ndarray]] = field(default_factory=dict)

    def scoring(self, name: str) -> tuple[Scorer, np.ndarray, np.ndarray]:
        """(scorer, backgrounds, their scores) for experiment ``name``: its own ``target`` (else the
        global one) and its own ``n_backgrounds`` (the first n of the shared backgrounds)."""
        section = self.settings.get(name, {})
        target = section.get("target", self.settings["target"])
        if target not in self._scored:
            score = self.make_score(target)
            self._scored[target] = (score, score(self.backgrounds))
        score, base = self._scored[target]
        n = min(int(section.get("n_backgrounds", len(self.backgrounds))), len(self.backgrounds))
        return score, self.backgrounds[:n], base[:n]

    def write(self, name: str, table: pd.DataFrame) -> None:
        write_tsv(self.outputs[name], table)
        self.results[name] = table


def _occupancy(ctx: Context) -> None:
    from .importance import motif_importance, own_task_rank
    from .plots import plot_occupancy

    score, bg, base = ctx.scoring("occupancy")
    table = motif_importance(score, bg, ctx.patterns, ctx.tasks, seed=ctx.seed, base=base)
    ctx.write("occupancy", table)
    plot_occupancy(table, ctx.outputs["occupancy_png"])
    if len(table) and set(ctx.patterns) & set(ctx.tasks):
        first, ranks = own_task_rank(table)
        ctx.log.info("own-task check: %d of %d motifs rank first on their own task", first, len(ranks))
        for _, r in ranks[ranks["rank"] > 1].iterrows():
            ctx.log.info("  %s ranks %d on %s (first: %s)", r["motif"], r["rank"], r["task"], r["runner_up"])


def _position(ctx: Context) -> None:
    from .plots import plot_position
    from .position import positional_bias

    score, bg, base = ctx.scoring("position")
    table = positional_bias(
        score,
        bg,
        ctx.patterns,
        ctx.tasks,
        step=ctx.settings["position"]["step"],
        seed=ctx.seed,
        base=base,
    )
    ctx.write("position", table)
    plot_position(table, ctx.outputs["position_png"])


def _sites(ctx: Context) -> None:
    from .plots import plot_sites
    from .sites import number_of_sites

    score, bg, base = ctx.scoring("sites")
    opts = ctx.settings["sites"]
    table = number_of_sites(
        score,
        bg,
        ctx.patterns,
        ctx.tasks,
        max_sites=opts["max_sites"],
        min_gap=opts["min_gap"],
        seed=ctx.seed,
        base=base,
    )
    ctx.write("sites", table)
    plot_sites(table, ctx.outputs["sites_png"])


def _spacing_pairs(ctx: Context) -> list[tuple[str, str]]:
    """Configured pairs, else the planted interactions, else the two motifs with the largest effects."""
    configured = [tuple(p) for p in ctx.settings["spacing"]["pairs"]]
    if configured:
        return configured
    known = [p for p in interacting_pairs(ctx.interactions) if set(p) <= set(ctx.patterns)]
    if known:
        return known
    occupancy = ctx.results.get("occupancy")
    if occupancy is None or occupancy.empty or len(ctx.patterns) < 2:
        return []
    best = (
        occupancy.groupby("motif", sort=False)["effect_mean"]
        .max()
        .sort_values(ascending=False, kind="stable")
    )
    return [tuple(best.index[:2])]


def _spacing(ctx: Context) -> None:
    from .plots import plot_spacing
    from .spacing import pair_scan

    score, bg, base = ctx.scoring("spacing")
    opts = ctx.settings["spacing"]
    pairs = _spacing_pairs(ctx)
    widest = max((p.width for p in ctx.patterns.values()), default=0)
    reach = max(0, min(int(opts["max_distance"]), bg.shape[1] - 2 * widest))
    detail, _ = pair_scan(
        score,
        bg,
        ctx.patterns,
        ctx.tasks,
        pairs=pairs,
        distances=list(range(0, reach + 1, int(opts["step"]))),
        interacting=interacting_pairs(ctx.interactions),
        seed=ctx.seed,
        base=base,
    )
    ctx.write("spacing", detail)
    plot_spacing(detail, ctx.outputs["spacing_png"])


def _cooperativity(ctx: Context) -> None:
    from .plots import plot_cooperativity
    from .spacing import pair_rank, pair_scan

    score, bg, base = ctx.scoring("cooperativity")
    opts = ctx.settings["cooperativity"]
    known = interacting_pairs(ctx.interactions)
    _, summary = pair_scan(
        score,
        bg,
        ctx.patterns,
        ctx.tasks,
        distances=opts["distances"],
        orientations=opts["orientations"],
        interacting=known,
        seed=ctx.seed,
        base=base,
    )
    ctx.write("cooperativity", summary)
    task = None
    for interaction in ctx.interactions:
        pair = interacting_pairs([interaction])[0]
        if set(pair) <= set(ctx.patterns) and interaction.get("task") in ctx.tasks:
            task = interaction["task"]
            rank = pair_rank(summary, pair, task)
            ctx.log.info(
                "interaction check: %s + %s ranks %d of %d pairs on %s",
                *pair,
                rank,
                int((summary["task"] == task).sum()),
                task,
            )
    plot_cooperativity(summary, ctx.outputs["cooperativity_png"], task=task)


def _kmer(ctx: Context) -> None:
    from .kmers import align_kmers, kmer_mutagenesis, kmer_search
    from .plots import plot_kmers

    score, bg, base = ctx.scoring("kmer")
    opts = ctx.settings["kmer"]
    k = int(opts["k"])
    top = max(int(opts["top"]), int(opts["logo_top"]))
    table = kmer_search(score, bg, ctx.tasks, k=k, top=top, base=base)
    best = {t: table.loc[(table["task"] == t) & (table["rank"] == 1), "kmer"].iloc[0] for t in ctx.tasks}
    mutagenesis = kmer_mutagenesis(score, bg, ctx.tasks, best, base=base)
    logos = {
        t: align_kmers(
            list(table.loc[table["task"] == t].sort_values("rank")["kmer"][: int(opts["logo_top"])])
        )
        for t in ctx.tasks
    }
    ctx.write("kmer", table[table["rank"] <= int(opts["top"])].reset_index(drop=True))
    ctx.write("kmer_mutagenesis", mutagenesis)
    plot_kmers(table, mutagenesis, logos, ctx.outputs["kmer_png"])
    ctx.log.info("best %d-mer per task: %s", k, ", ".join(f"{t}={m}" for t, m in best.items()))


def _gc(ctx: Context) -> None:
    from .gc import gc_bias
    from .plots import plot_gc

    score, bg, _ = ctx.scoring("gc")
    opts = ctx.settings["gc"]
    table = gc_bias(
        score,
        bg,
        ctx.patterns,
        ctx.tasks,
        mode=opts["mode"],
        levels=opts["levels"],
        bins=opts["bins"],
        seed=ctx.seed,
    )
    ctx.write("gc", table)
    plot_gc(table, ctx.outputs["gc_png"])


def _flanks(ctx: Context) -> None:
    from .flanks import flank_sensitivity
    from .plots import plot_flanks

    score, bg, base = ctx.scoring("flanks")
    opts = ctx.settings["flanks"]
    table = flank_sensitivity(
        score,
        bg,
        ctx.patterns,
        ctx.tasks,
        flank=opts["flank"],
        n_flanks=opts["n_flanks"],
        seed=ctx.seed,
        base=base,
    )
    ctx.write("flanks", table)
    plot_flanks(table, ctx.outputs["flanks_png"])


def _attention(ctx: Context) -> None:
    from .attention import ATTENTION_COLUMNS, attention_pairs, has_attention, interaction_aurocs
    from .plots import plot_attention

    if not has_attention(ctx.model) or len(ctx.patterns) < 2:
        note = "the model has no attention layer" if len(ctx.patterns) >= 2 else "fewer than two motifs"
        ctx.write("attention", pd.DataFrame(columns=list(ATTENTION_COLUMNS)))
        plot_attention(ctx.results["attention"], ctx.outputs["attention_png"], note=note)
        ctx.log.info("attention: skipped (%s)", note)
        return
    score, bg, base = ctx.scoring("attention")
    known = interacting_pairs(ctx.interactions)
    table = attention_pairs(
        ctx.model,
        score,
        bg,
        ctx.patterns,
        ctx.tasks,
        distance=int(ctx.settings["attention"]["distance"]),
        interacting=known,
        seed=ctx.seed,
        base=base,
    )
    task = next((i["task"] for i in ctx.interactions if i.get("task") in ctx.tasks), None)
    aurocs = interaction_aurocs(table, task)
    ctx.write("attention", table)
    plot_attention(
        table,
        ctx.outputs["attention_png"],
        note=", ".join(f"{k} {v:.3f}" for k, v in aurocs.items() if np.isfinite(v)),
    )
    ctx.log.info("attention: %s", aurocs)


RUNNERS: dict[str, Callable[[Context], None]] = {
    "occupancy": _occupancy,
    "position": _position,
    "sites": _sites,
    "spacing": _spacing,
    "cooperativity": _cooperativity,
    "kmer": _kmer,
    "gc": _gc,
    "flanks": _flanks,
    "attention": _attention,
}


def run_experiments(
    model: Any,
    make_score: Callable[[str], Scorer],
    test_x: np.ndarray,
    tasks: Sequence[str],
    patterns: Mapping[str, Pattern],
    settings: Mapping[str, Any],
    seed: int,
    outputs: Mapping[str, str],
    log: logging.Logger,
    interactions: Sequence[Mapping[str, Any]] = (),
) -> dict[str, pd.DataFrame]:
    """Draw the backgrounds once (seeded) and run every configured experiment on them, in order.

    ``make_score(target)`` gives the scorer of a target (logit or probability); each is made once.
    """
    from .backgrounds import make_backgrounds

    settings = with_defaults(settings)
    make_score = functools.cache(make_score)
    n = int(settings["n_backgrounds"])
    backgrounds = make_backgrounds(
        settings["background"],
        test_x,
        n,
        seed=child_seed(seed, "backgrounds"),
        score=make_score(settings["target"]),
        filter_quantile=float(settings["filter_quantile"]),
    )
    ctx = Context(
        make_score=make_score,
        model=model,
        backgrounds=backgrounds,
        patterns=dict(patterns),
        tasks=[str(t) for t in tasks],
        settings=settings,
        seed=child_seed(seed, "experiments"),
        interactions=[dict(i) for i in interactions],
        outputs=outputs,
        log=log,
    )
    log.info(
        "%d %s backgrounds, %d patterns x %d tasks",
        len(backgrounds),
        settings["background"],
        len(patterns),
        len(tasks),
    )
    for name in experiment_list(settings["experiments"]):
        started = time.perf_counter()
        RUNNERS[name](ctx)
        log.info("%s: %d rows in %.1f s", name, len(ctx.results[name]), time.perf_counter() - started)
    return ctx.results


def gia_trial(
    dataset_path: str,
    model_path: str,
    motifs: Mapping[str, np.ndarray],
    settings: Mapping[str, Any],
    seed: int,
    threads: int,
    outputs: Mapping[str, str],
    log: logging.Logger,
    *,
    interactions: Sequence[Mapping[str, Any]] = (),
    database: str | None = None,
    filters: str | None = None,
) -> pd.DataFrame:
    """Load the test split and the model, run the configured experiments; returns the occupancy table."""
    from ..runtime import limit_threads

    limit_threads(threads)
    from ..data.dataset import read_info, read_split
    from ..models.predict import scorer
    from ..models.zoo import load_model

    settings = with_defaults(settings)
    test = read_split(dataset_path, "test", truth=False)
    tasks = read_info(dataset_path)["tasks"]
    model = load_model(model_path)
    patterns = build_patterns(motifs, settings, database=database, filters=filters)
    if not patterns:
        log.info("no motifs to test: the filters matched nothing and gia_motifs is empty")
    batch = int(settings["batch_size"])
    results = run_experiments(
        model,
        lambda t: scorer(model, t, batch),
        test.x,
        tasks,
        patterns,
        settings,
        seed,
        outputs,
        log,
        interactions,
    )
    return results["occupancy"]
