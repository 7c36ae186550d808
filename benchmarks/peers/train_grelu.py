"""benchmarks/train.py's gReLU row: CNN-25 trained by gReLU's own ``LightningModel.train_on_dataset`` (PyTorch
Lightning).

Run by benchmarks/train.py with the benchmark environment's python (``make bench-env``); prints one JSON
line like the other workers. What a gReLU user runs, untimed setup first:

* the training sequences (benchmarks/train.py's ``make_data``) as gReLU's integer encoding (N, 200) int8
  and labels (N, 12, 1) in a ``grelu.data.dataset.LabeledSeqDataset`` (no augmentation); the first item
  is checked against ``make_data``. Its DataLoader one-hot encodes each sequence in ``__getitem__``.
* CNN-25 in PyTorch, the same layers as benchmarks/train.py's torch worker (BatchNorm with Keras' eps and
  momentum), given to gReLU as ``model_params={"model_type": "BaseModel", "embedding": <conv/dense trunk>,
  "head": <Linear 512 -> 12, output (N, 12, 1)>}``, gReLU's way of wrapping a custom architecture.
* ``train_params``: task "binary" (BCEWithLogitsLoss), Adam lr 3e-4, batch_size 100, devices "cpu" (one
  CPU device), num_workers 0 (as the plain-PyTorch worker, and cislens' in-memory arrays), logger None,
  max_epochs 1 + timed; the rest gReLU's defaults: a ModelCheckpoint (``checkpoint=False`` is refused)
  and Lightning's progress bar stay on. Differences that gReLU does not offer a switch for: no L2 penalty
  on the kernels (its loss has none; ours adds 1e-6 x sum of squares, negligible work) and torch Adam's
  eps 1e-8. gReLU validates once before training and at every epoch end (one batch, with torchmetrics
  AUROC/AP/accuracy/F1): outside the timed span.

Timed: each epoch from ``on_train_epoch_start`` to the last ``on_train_batch_end`` (hooks of a
LightningModel subclass; gReLU builds its own Trainer and takes no callbacks), so Lightning's loop, the
DataLoader and gReLU's per-step logging are included. The first epoch is the warm-up.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import base, epoch_seconds, pin, worker_main


def build_cnn25(b, nn):
    """(trunk, head) of CNN-25, as benchmarks/train.py's torch worker builds the whole model."""

    def bn(c: int):  # Keras defaults: epsilon 1e-3, momentum 0.99 (torch: 1 - 0.99)
        return nn.BatchNorm1d(c, eps=1e-3, momentum=0.01)

    trunk = nn.Sequential(
        nn.Conv1d(4, b.F1, b.K1, padding="same"), bn(b.F1), nn.ReLU(), nn.MaxPool1d(b.FIRST_POOL),
        nn.Dropout(b.DROP),
        nn.Conv1d(b.F1, b.F2, b.K2, padding="same"), bn(b.F2), nn.ReLU(), nn.MaxPool1d(b.POOL2),
        nn.Dropout(b.DROP),
        nn.Flatten(),
        nn.Linear(b.F2 * (b.LENGTH // b.FIRST_POOL // b.POOL2), b.DENSE), bn(b.DENSE), nn.ReLU(),
        nn.Dropout(b.DENSE_DROP),
    )  # fmt: skip

    class Head(nn.Module):
        """Linear 512 -> tasks, shaped (N, tasks, 1) as gReLU's heads and labels are."""

        def __init__(self) -> None:
            super().__init__()
            self.n_tasks = b.N_TASKS
            self.linear = nn.Linear(b.DENSE, b.N_TASKS)

        def forward(self, x):
            return self.linear(x).unsqueeze(-1)

    return trunk, Head()


def run(n: int, epochs: int, threads: int) -> dict:
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    pin(threads)
    import numpy as np
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    import grelu
    from grelu.data.dataset import LabeledSeqDataset
    from grelu.lightning import LightningModel

    b = base()
    torch.manual_seed(0)
    x, y = b.make_data(n)
    xv, yv = b.make_data(b.BATCH, seed=1)
    tasks = [f"task{t}" for t in range(b.N_TASKS)]

    def dataset(x_, y_):
        return LabeledSeqDataset(
            x_.argmax(-1).astype(np.int8), labels=y_[:, :, None], tasks=tasks, seq_len=b.LENGTH
        )

    train_set, val_set = dataset(x, y), dataset(xv, yv)
    seq0, label0 = train_set[0]
    if not (np.array_equal(seq0.numpy(), x[0].T) and np.array_equal(label0.numpy()[:, 0], y[0])):
        raise SystemExit("gReLU's dataset does not reproduce make_data's first sequence")

    begin: list[float] = []
    last_batch: list[float] = []
    steps: list[int] = []

    class Timed(LightningModel):
        def on_train_epoch_start(self) -> None:
            begin.append(time.perf_counter())
            last_batch.append(float("nan"))
            steps.append(0)

        def on_train_batch_end(self, outputs, batch, batch_idx: int) -> None:
            last_batch[-1] = time.perf_counter()
            steps[-1] += 1

    trunk, head = build_cnn25(b, nn)
    tmp = tempfile.mkdtemp(prefix="grelu-bench-")
    try:
        model = Timed(
            model_params={"model_type": "BaseModel", "embedding": trunk, "head": head},
            train_params={
                "task": "binary",
                "loss": "bce",
                "lr": b.LEARNING_RATE,
                "optimizer": "adam",
                "batch_size": b.BATCH,
                "num_workers": 0,
                "devices": "cpu",
                "logger": None,
                "save_dir": tmp,
                "max_epochs": epochs + 1,
            },
        )
        stdout = sys.stdout
        sys.stdout = sys.stderr  # gReLU prints validation metrics; this worker's stdout is its JSON line
        try:
            model.train_on_dataset(train_set, val_set)
        finally:
            sys.stdout = stdout
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    epoch_s = epoch_seconds("gReLU", begin, last_batch, steps, epochs, n, b.BATCH)
    net = model.model
    buffers = sum(v.numel() for k, v in net.named_buffers() if not k.endswith("num_batches_tracked"))
    return {
        "epoch_s": epoch_s,
        "trainable": sum(p.numel() for p in net.parameters() if p.requires_grad),
        "non_trainable": buffers,
        "threads": torch.get_num_threads(),
        "version": grelu.__version__,
    }


if __name__ == "__main__":
    worker_main(run, __doc__)
