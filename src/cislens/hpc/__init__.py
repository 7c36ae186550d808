"""HPC helpers: the SLURM profile renderer (profile), a fix for the SLURM executor plugin (slurm),
the library path under --sdm conda. (The throwaway SLURM cluster of the tests is tests/support.)"""

import os


def prepend_pythonpath(path: str) -> None:
    """Put ``path`` first on PYTHONPATH for the jobs Snakemake starts from here on (under --sdm conda
    the rule environments hold the dependencies and this checkout's src/ the library itself)."""
    current = os.environ.get("PYTHONPATH", "")
    parts = [p for p in current.split(os.pathsep) if p and p != path]
    os.environ["PYTHONPATH"] = os.pathsep.join([path, *parts])
