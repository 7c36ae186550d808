"""The package's floors: the data layer, motif I/O and the ground floor load no framework, TensorFlow and
Keras stay in a handful of model-facing modules, and no stage imports the report package."""

from __future__ import annotations

import importlib.util
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import cislens

SRC = Path(cislens.__file__).resolve().parent
HEAVY = ("tensorflow", "keras", "matplotlib")
MAX_FRAMEWORK_MODULES = 9  # + protein.vae_model: the Bayesian decoder is a Keras layer of its own

# The ground floor: imports no stage. ``cislens.plots`` belongs to it too, but it is the plotting base
# (matplotlib by nature), so it is not in the framework-free list.
GROUND_FLOOR = (
    "cislens.errors",
    "cislens.schema",
    "cislens.io",
    "cislens.ppm",
    "cislens.meme",
    "cislens.jaspar",
    "cislens.runtime",
    "cislens.runlog",
    "cislens.vcf",
)
# Function-local imports only: importing these modules must not load matplotlib (drawing does).
PLOTTING_BY_NATURE: tuple[str, ...] = ()

FRAMEWORK_IMPORT = re.compile(r"^\s*(import tensorflow|from tensorflow|import keras|from keras)\b", re.M)
REPORT_IMPORT = re.compile(r"^\s*(from\s+(cislens\.report|\.+report)\b|import\s+cislens\.report\b)", re.M)


def _submodules(package: str) -> list[str]:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, package
    return sorted(
        f"{package}.{info.name}"
        for info in pkgutil.iter_modules(spec.submodule_search_locations)
        if f"{package}.{info.name}" not in PLOTTING_BY_NATURE and not info.name.startswith("__")
    )


def framework_free_modules() -> list[str]:
    names = [*_submodules("cislens.data"), *_submodules("cislens.motifs"), *GROUND_FLOOR]
    if importlib.util.find_spec("cislens.plan") is not None:
        names.append("cislens.plan")
    return names


def test_data_motifs_and_ground_floor_load_no_framework() -> None:
    names = framework_free_modules()
    code = (
        "import importlib, json, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {list(HEAVY)!r} if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == [], f"importing {names} loaded {loaded}"


def _sources() -> dict[str, str]:
    return {str(p.relative_to(SRC.parent)): p.read_text(encoding="utf-8") for p in sorted(SRC.rglob("*.py"))}


def test_framework_imports_stay_in_few_modules_and_no_stage_imports_the_report() -> None:
    sources = _sources()
    framework = sorted(path for path, text in sources.items() if FRAMEWORK_IMPORT.search(text))
    assert len(framework) <= MAX_FRAMEWORK_MODULES, framework
    report = SRC / "report"
    outside = sorted(
        path
        for path, text in sources.items()
        if REPORT_IMPORT.search(text) and not (SRC.parent / path).is_relative_to(report)
    )
    assert outside == [], f"modules outside cislens.report import it: {outside}"
