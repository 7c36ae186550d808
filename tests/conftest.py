"""Shared test set-up: quiet TensorFlow, a persistent numba cache, the optional real-data folder, and the
longest modules first."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

# The modules that run the workflow, longest first (measured on 2 cores). ``make test`` runs pytest-xdist
# with one module per worker: starting these first keeps both workers busy until the end.
LONGEST_FIRST = (
    "test_workflow.py",
    "test_protein_workflow.py",
    "test_slurm.py",
    "test_yeast_workflow.py",
    "test_checkpoint.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A stable sort by module: the listed modules first, every module's tests kept together."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONGEST_FIRST)))


def write_fasta(path: Path, records: dict[str, str], width: int = 60) -> Path:
    """A FASTA file with ``width`` bases per line (tests vary it to exercise the index offsets)."""
    with open(path, "w") as handle:
        for name, seq in records.items():
            handle.write(f">{name}\n")
            for i in range(0, len(seq), width):
                handle.write(seq[i : i + width] + "\n")
    return path


def assert_complete_pdf(path: Path) -> None:
    """A PDF a reader opens: header, trailer, a cross-reference table where startxref says, a page."""
    pdf = path.read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF"), path
    offset = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    assert pdf[offset : offset + 4] == b"xref", path
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 1, path


@pytest.fixture(scope="session")
def realdata() -> Path:
    """../shared/realdata, or skip: these files are never copied into the repository."""
    if not REALDATA.is_dir():
        pytest.skip(f"real data folder {REALDATA} is absent")
    return REALDATA


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
