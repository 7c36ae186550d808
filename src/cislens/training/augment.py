"""EvoAug-style sequence augmentations as pure, stateless TensorFlow functions.

Every function maps a one-hot batch (B, L, 4) to a batch of the same shape, draws per-sequence
parameters from an explicit stateless seed (a length-2 integer tensor), and accepts numpy input, so
the same code runs inside a compiled train step and in tests. Length is always preserved: the
reference insertion returned longer sequences; here insertions are trimmed at the 3' end and
deletions padded there with random bases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import tensorflow as tf

# Order of application: noise last, so the others (mutation reads the base) see one-hot input.
AUGMENTATIONS = ("reverse_complement", "deletion", "insertion", "translocation", "mutation", "noise")

Seed = Any  # a length-2 int32/int64 tensor (or array) for tf.random.stateless_*


def _prepare(x: Any, seed: Seed) -> tuple[tf.Tensor, tf.Tensor]:
    x = tf.convert_to_tensor(x, dtype=tf.float32)
    return x, tf.cast(tf.convert_to_tensor(seed), tf.int64)


def _split(seed: tf.Tensor, n: int) -> list[tf.Tensor]:
    """Independent child seeds, so each random draw gets its own stream."""
    return tf.unstack(tf.random.experimental.stateless_split(seed, n), num=n)


def _random_onehot(batch: tf.Tensor, length: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    bases = tf.random.stateless_uniform(tf.stack([batch, length]), seed, 0, 4, dtype=tf.int32)
    return tf.one_hot(bases, 4, dtype=tf.float32)


def _randint(batch: tf.Tensor, seed: tf.Tensor, low: int, high: int) -> tf.Tensor:
    """One integer per sequence, uniform in [low, high] (inclusive)."""
    return tf.random.stateless_uniform(tf.reshape(batch, [1]), seed, low, high + 1, dtype=tf.int32)


def _uniform_below(upper: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Per-sequence integer uniform in [0, upper] for a per-sequence ``upper`` (int32 vector)."""
    u = tf.random.stateless_uniform(tf.shape(upper), seed)
    value = tf.cast(tf.floor(u * tf.cast(upper + 1, tf.float32)), tf.int32)
    return tf.minimum(value, upper)


def _dims(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    shape = tf.shape(x)
    return shape[0], shape[1]


def reverse_complement(x: Any) -> tf.Tensor:
    """Reverse the sequence and swap A<->T, C<->G (ACGT channel order, so reverse both axes)."""
    return tf.convert_to_tensor(x, dtype=tf.float32)[:, ::-1, ::-1]


def random_reverse_complement(x: Any, seed: Seed, prob: float = 0.5) -> tf.Tensor:
    """Reverse-complement each sequence with probability ``prob``."""
    x, seed = _prepare(x, seed)
    flip = tf.random.stateless_uniform(tf.shape(x)[:1], seed) < prob
    return tf.where(flip[:, None, None], reverse_complement(x), x)


def deletion(x: Any, seed: Seed, max_len: int = 30) -> tf.Tensor:
    """Delete 0..max_len nt at a random start and pad both ends with random bases (half each), so the
    length is kept and neither end is systematically replaced (which would teach a position bias)."""
    x, seed = _prepare(x, seed)
    batch, length = _dims(x)
    s_len, s_start, s_pad = _split(seed, 3)
    size = tf.minimum(_randint(batch, s_len, 0, max_len), length)
    start = _uniform_below(length - size, s_start)
    pos = tf.range(length)[None, :]
    kept = pos - (size // 2)[:, None]  # position within the shortened sequence
    source = kept + size[:, None] * tf.cast(kept >= start[:, None], tf.int32)
    out = tf.gather(x, tf.clip_by_value(source, 0, length - 1), batch_dims=1)
    padded = (kept < 0) | (kept >= (length - size)[:, None])
    return tf.where(padded[..., None], _random_onehot(batch, length, s_pad), out)


def insertion(x: Any, seed: Seed, max_len: int = 20) -> tf.Tensor:
    """Insert 0..max_len random nt at a random position, then trim both ends (half each) back to
    length L: the reference changed the input length; trimming one end only would bias positions."""
    x, seed = _prepare(x, seed)
    batch, length = _dims(x)
    s_len, s_start, s_ins = _split(seed, 3)
    size = tf.minimum(_randint(batch, s_len, 0, max_len), length)
    start = _uniform_below(length - size, s_start)
    pos = tf.range(length)[None, :] + (size // 2)[:, None]  # position within the lengthened sequence
    after = pos >= (start + size)[:, None]
    inserted = (pos >= start[:, None]) & ~after
    source = pos - size[:, None] * tf.cast(after, tf.int32)
    out = tf.gather(x, tf.clip_by_value(source, 0, length - 1), batch_dims=1)
    return tf.where(inserted[..., None], _random_onehot(batch, length, s_ins), out)


def translocation(x: Any, seed: Seed, max_shift: int = 20) -> tf.Tensor:
    """Circularly roll each sequence by a shift in [-max_shift, max_shift] (np.roll semantics)."""
    x, seed = _prepare(x, seed)
    batch, length = _dims(x)
    shift = _randint(batch, seed, -max_shift, max_shift)
    source = tf.math.floormod(tf.range(length)[None, :] - shift[:, None], length)
    return tf.gather(x, source, batch_dims=1)


def noise(x: Any, seed: Seed, std: float = 0.3) -> tf.Tensor:
    """Add Gaussian noise (mean 0, ``std``) to every entry; the only non-one-hot output."""
    x, seed = _prepare(x, seed)
    return x + std * tf.random.stateless_normal(tf.shape(x), seed)


def mutation(x: Any, seed: Seed, rate: float = 0.05) -> tf.Tensor:
    """Substitute exactly round(rate * L) distinct positions per sequence with a different base.

    Forcing a different base makes ``rate`` the fraction actually changed (redrawing uniformly
    would leave a quarter of the chosen positions unchanged).
    """
    x, seed = _prepare(x, seed)
    batch, length = _dims(x)
    s_pos, s_base = _split(seed, 2)
    count = tf.cast(tf.round(rate * tf.cast(length, tf.float32)), tf.int32)
    scores = tf.random.stateless_uniform(tf.stack([batch, length]), s_pos)
    ranks = tf.argsort(tf.argsort(scores, axis=1), axis=1)
    chosen = ranks < count
    offset = tf.random.stateless_uniform(tf.stack([batch, length]), s_base, 1, 4, dtype=tf.int32)
    new_base = tf.math.floormod(tf.argmax(x, axis=-1, output_type=tf.int32) + offset, 4)
    return tf.where(chosen[..., None], tf.one_hot(new_base, 4, dtype=tf.float32), x)


def _make_ops(
    rc_prob: float, delete_max: int, insert_max: int, shift_max: int, noise_std: float, mutate_frac: float
) -> dict[str, Callable[[tf.Tensor, tf.Tensor], tf.Tensor]]:
    return {
        "reverse_complement": lambda x, s: random_reverse_complement(x, s, rc_prob),
        "deletion": lambda x, s: deletion(x, s, delete_max),
        "insertion": lambda x, s: insertion(x, s, insert_max),
        "translocation": lambda x, s: translocation(x, s, shift_max),
        "mutation": lambda x, s: mutation(x, s, mutate_frac),
        "noise": lambda x, s: noise(x, s, noise_std),
    }


def evoaug(
    x: Any,
    seed: Seed,
    *,
    augmentations: Sequence[str] = AUGMENTATIONS,
    max_augs: int = 3,
    rc_prob: float = 0.5,
    delete_max: int = 30,
    insert_max: int = 20,
    shift_max: int = 20,
    noise_std: float = 0.3,
    mutate_frac: float = 0.05,
) -> tf.Tensor:
    """Give each sequence 1..max_augs distinct augmentations drawn uniformly from ``augmentations``.

    Every enabled augmentation runs on the whole batch (cheap, and keeps the op vectorised); a
    per-sequence mask picks which results are kept, applied in ``AUGMENTATIONS`` order.
    """
    x, seed = _prepare(x, seed)
    enabled = [name for name in AUGMENTATIONS if name in set(augmentations)]
    if not enabled:
        return x
    ops = _make_ops(rc_prob, delete_max, insert_max, shift_max, noise_std, mutate_frac)
    seeds = _split(seed, len(enabled) + 2)
    batch = tf.shape(x)[0]
    scores = tf.random.stateless_uniform(tf.stack([batch, len(enabled)]), seeds[0])
    ranks = tf.argsort(tf.argsort(scores, axis=1), axis=1)
    counts = _randint(batch, seeds[1], 1, min(int(max_augs), len(enabled)))
    chosen = ranks < counts[:, None]  # (B, A): a random subset of size counts[b] per sequence
    for i, name in enumerate(enabled):
        x = tf.where(chosen[:, i, None, None], ops[name](x, seeds[i + 2]), x)
    return x
