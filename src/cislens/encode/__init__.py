"""ENCODE inputs: peak files by file (ENCFF...) or experiment (ENCSR...) accession and reference
genomes, downloaded with retries, resume and an overall deadline per file, checked against ENCODE's
md5, cached under resources/.

The workflow's rules ``encode_peaks`` and ``encode_genome`` call ``python -m cislens.encode``.
"""

from .download import Deadline, download, fetch_json, md5sum
from .portal import choose_peak_file, fetch_genome, fetch_peaks, fetch_peaks_many

__all__ = [
    "Deadline",
    "choose_peak_file",
    "download",
    "fetch_genome",
    "fetch_json",
    "fetch_peaks",
    "fetch_peaks_many",
    "md5sum",
]
