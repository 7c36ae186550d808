"""A fix for snakemake-executor-plugin-slurm (2.8.0), applied when the workflow is parsed.

``sacct`` reports a job cancelled with ``scancel`` as ``CANCELLED by <uid>``. The plugin compares
each job's state with its failure states literally, so such a job reads as still running: Snakemake
never retries it and waits forever (seen on the real-SLURM test cluster; the old Snakemake-Profiles
status script had the same bug). :func:`normalize_job_states` wraps the plugin's status query so the
state reads ``CANCELLED``: the job fails, its failure reasons are still collected, and ``--retries``
resubmits it (training then resumes from its checkpoint).
"""

from __future__ import annotations

from typing import Any


def _normalized(states: dict[str, str]) -> dict[str, str]:
    return {job: state.split(" by ", 1)[0].strip() for job, state in states.items()}


def normalize_job_states() -> bool:
    """Install the wrapper once; False when the plugin is absent (or already wrapped)."""
    try:
        import snakemake_executor_plugin_slurm as plugin
    except ImportError:
        return False
    query = getattr(plugin, "query_job_status", None)
    if query is None or getattr(query, "cislens_normalized", False):
        return False

    async def query_job_status(command: str, logger: Any):
        states, seconds = await query(command, logger)
        return (_normalized(states) if states else states), seconds

    query_job_status.cislens_normalized = True
    plugin.query_job_status = query_job_status
    return True
