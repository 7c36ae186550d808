"""benchmarks/train.py's CREsted row: CNN-25 trained by CREsted's own ``Crested.fit`` (Keras 3 / TensorFlow).

Run by benchmarks/train.py with the benchmark environment's python (``make bench-env``); prints one JSON
line like the other workers. What a CREsted user runs, untimed setup first:

* the training sequences (benchmarks/train.py's ``make_data``) written as one FASTA chromosome, one 200 bp
  region per sequence, labels in an AnnData (tasks x regions, ``var["split"]``), wrapped by
  ``crested.tl.data.AnnDataWrapper(batch_size=100)`` with augmentation off (``always_reverse_complement``
  is on by default and would double the training set) and ``in_memory=True`` (its default: the regions'
  strings are read from the FASTA once). The first training item is checked against ``make_data``.
* CNN-25 built as a Keras functional model, layer for layer as ``cislens.models.zoo`` builds it (sigmoid
  output, L2 1e-6 on kernels), and a ``crested.tl.TaskConfig`` with Adam(3e-4), BinaryCrossentropy and no
  metrics (as ours compiles; CREsted's topic-classification default adds per-batch AUROC/AUPR/accuracy).
* ``Crested(...).fit(epochs=1 + timed, custom_callbacks=[clock])`` with its defaults otherwise
  (checkpointing, early stopping, LR reduction: they act at epoch end, outside the timed span). fit needs
  a validation split: one batch of other sequences, scored at each epoch end, outside the timed span.

Timed: each epoch from ``on_epoch_begin`` to the last ``on_train_batch_end``, so CREsted's own input
pipeline (a Python generator one-hot encoding each region's string -> tf.data batch/prefetch) is included
and its validation is not. The first epoch (tracing) is the warm-up.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import base, epoch_seconds, one_hot_to_strings, pin, worker_main


def build_cnn25(b, keras):
    """CNN-25 exactly as cislens.models.zoo's ``build_model("cnn", 200, 12, first_pool=25)``."""
    reg = keras.regularizers.L2(b.L2)
    layers = keras.layers
    inputs = keras.Input(shape=(b.LENGTH, 4), name="sequence")
    x = inputs
    for filters, kernel, pool in ((b.F1, b.K1, b.FIRST_POOL), (b.F2, b.K2, b.POOL2)):
        x = layers.Conv1D(filters, kernel, padding="same", kernel_regularizer=reg)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling1D(pool)(x)
        x = layers.Dropout(b.DROP)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(b.DENSE, kernel_regularizer=reg)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(b.DENSE_DROP)(x)
    x = layers.Dense(b.N_TASKS, kernel_regularizer=reg)(x)
    outputs = layers.Activation("sigmoid")(x)
    return keras.Model(inputs, outputs, name="cnn25")


def run(n: int, epochs: int, threads: int) -> dict:
    tmp = tempfile.mkdtemp(prefix="crested-bench-")
    try:
        return _run(n, epochs, threads, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(n: int, epochs: int, threads: int, tmp: str) -> dict:
    os.environ.update(TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", KERAS_BACKEND="tensorflow")
    pin(threads)
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(max(1, threads))  # as cislens.runtime.limit_threads
    tf.config.threading.set_inter_op_parallelism_threads(max(1, min(2, threads)))
    import anndata
    import crested
    import crested.tl
    import keras
    import numpy as np
    import pandas as pd

    b = base()
    keras.utils.set_random_seed(0)
    x, y = b.make_data(n)
    xv, yv = b.make_data(b.BATCH, seed=1)  # fit insists on a validation split: one batch
    n_all = n + len(xv)
    fasta = os.path.join(tmp, "genome.fa")
    with open(fasta, "w") as handle:
        handle.write(">chr1\n")
        for seq in one_hot_to_strings(np.concatenate([x, xv])):
            handle.write(seq + "\n")  # one sequence per line: a valid FASTA for pysam's faidx
    regions = [f"chr1:{i * b.LENGTH}-{(i + 1) * b.LENGTH}" for i in range(n_all)]
    adata = anndata.AnnData(
        X=np.concatenate([y, yv]).T.astype(np.float32),
        obs=pd.DataFrame(index=[f"task{t}" for t in range(b.N_TASKS)]),
        var=pd.DataFrame({"split": ["train"] * n + ["val"] * len(xv)}, index=regions),
    )
    data = crested.tl.data.AnnDataWrapper(
        adata,
        genome=crested.Genome(fasta),
        batch_size=b.BATCH,
        always_reverse_complement=False,
        random_reverse_complement=False,
        max_stochastic_shift=0,
        train_splits="train",
        val_splits="val",
        test_splits=[],
    )
    first = data.split_expanded_indices["train"][0]
    seq0, label0 = data.get_indexed_item(first, augment=True)
    if not (np.array_equal(seq0, x[0]) and np.array_equal(label0, y[0])):
        raise SystemExit("CREsted's data pipeline does not reproduce make_data's first sequence")

    model = build_cnn25(b, keras)
    config = crested.tl.TaskConfig(
        optimizer=keras.optimizers.Adam(learning_rate=b.LEARNING_RATE),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[],
    )
    trainer = crested.tl.Crested(
        data=data, model=model, config=config, project_name=os.path.join(tmp, "crested"), run_name="bench"
    )

    begin: list[float] = []
    last_batch: list[float] = []
    steps: list[int] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            begin.append(time.perf_counter())
            last_batch.append(float("nan"))
            steps.append(0)

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            last_batch[-1] = time.perf_counter()
            steps[-1] += 1

    stdout = sys.stdout
    sys.stdout = sys.stderr  # fit prints the model summary; this worker's stdout is its one JSON line
    try:
        trainer.fit(epochs=epochs + 1, custom_callbacks=[Clock()])
    finally:
        sys.stdout = stdout
    epoch_s = epoch_seconds("CREsted", begin, last_batch, steps, epochs, n, b.BATCH)
    trainable = sum(int(np.prod(w.shape)) for w in trainer.model.trainable_weights)
    return {
        "epoch_s": epoch_s,
        "trainable": trainable,
        "non_trainable": trainer.model.count_params() - trainable,
        "threads": threads,
        "version": crested.__version__,
    }


if __name__ == "__main__":
    worker_main(run, __doc__)
