"""What the tracks stage names and lists: file names per task, the contribution method, and the
``tracks.txt`` listing (UCSC trackDb stanzas: ``track``, ``type bigWig``, ``bigDataUrl`` relative to the
listing, labels). Plain Python: the plan reads it at DAG time."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..io import atomic_open

LISTING = "tracks.txt"
SHORT_LABEL = 17  # UCSC's limits on trackDb labels
LONG_LABEL = 76
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


@dataclass(frozen=True)
class Track:
    """One bigWig and its trackDb stanza."""

    kind: str  # prediction | contribution
    task: str
    file: str  # relative to the listing
    long_label: str


def file_stems(tasks: Sequence[str]) -> list[str]:
    """A file-name-safe stem per task (other characters become ``_``; a clash gets the task's index)."""
    stems = [_UNSAFE.sub("_", task) or "task" for task in tasks]
    return [stem if stems.count(stem) == 1 else f"{stem}_{i}" for i, stem in enumerate(stems)]


def contribution_method(tracks: Mapping[str, object], attribution: Mapping[str, object]) -> str:
    """The contribution tracks' method: ``tracks.method``, else the first of ``attribution.methods``."""
    method = tracks.get("method")
    if method:
        return str(method)
    methods = list(attribution.get("methods") or ["saliency"])  # type: ignore[call-overload]
    return str(methods[0])


def track_name(*parts: str) -> str:
    """A trackDb ``track`` name: letters, digits and ``_`` only, starting with a letter."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))
    return name if name[:1].isalpha() else f"t_{name}"


def stanza(track: Track, prefix: str) -> str:
    """One trackDb stanza (no trailing blank line)."""
    short = f"{track.task} {'pred' if track.kind == 'prediction' else 'contrib'}"
    lines = [
        f"track {track_name(prefix, track.kind, track.task)}",
        "type bigWig",
        f"bigDataUrl {track.file}",
        f"shortLabel {short[:SHORT_LABEL]}",
        f"longLabel {track.long_label[:LONG_LABEL]}",
        "visibility full",
        "autoScale on",
        "color 31,119,180" if track.kind == "prediction" else "color 44,160,44",
    ]
    if track.kind == "contribution":
        lines.append("altColor 214,39,40")  # negative contributions
    return "\n".join(lines)


def write_listing(path: str | os.PathLike, tracks: Sequence[Track], prefix: str) -> None:
    """``tracks.txt``: one stanza per bigWig, separated by blank lines (atomically)."""
    with atomic_open(path) as handle:
        handle.write("\n\n".join(stanza(track, prefix) for track in tracks) + "\n")


def read_listing(path: str | os.PathLike) -> list[dict[str, str]]:
    """The stanzas of a listing as {key: value} (blank-line separated, ``key value`` lines)."""
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if not line:
                if current:
                    stanzas.append(current)
                current = {}
                continue
            key, _, value = line.partition(" ")
            current[key] = value
    if current:
        stanzas.append(current)
    return stanzas
